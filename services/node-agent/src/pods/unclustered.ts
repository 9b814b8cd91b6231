// Containers labelled with this node's name but with no cluster id: made by a Navarch from before
// cluster ids (docs/adr/0014-cluster-id.md). Their labels cannot be changed, and Docker cannot tell
// whose they are, so a pod uid decides:
//   - one of THIS node's pods in this cluster (a pod uid is a random UUID: no other cluster has it)
//     is ours: removed before the pod manager adopts, so its pod is started afresh with labelled
//     containers - never two live copies of a pod (an old and a new one holding its hostPorts or IP).
//   - any other uid may be another cluster's (an older agent with a node of the same name on this
//     engine): left alone, and said once where users look - a Warning Event on the Node
//     (navctl describe node) and the log - with how to remove them by hand.
import type { Pod } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import { LABELS, type ContainerRuntime, type ContainerStatus } from "@navarch/runtime";
import type { EventRecorder } from "../events/recorder.js";
import { removeAll } from "./pod-deps.js";

export const REASON_REPLACED = "ReplacedUnclusteredContainers";
export const REASON_LEFT = "UnclusteredContainers";

/** Which unclustered containers are this node's pods' (`replace`) and which may be anyone's (`leave`). */
export function planUnclustered(containers: ContainerStatus[], podUids: ReadonlySet<string>): { replace: ContainerStatus[]; leave: ContainerStatus[] } {
  const replace: ContainerStatus[] = [];
  const leave: ContainerStatus[] = [];
  for (const c of containers) (c.pod.uid && podUids.has(c.pod.uid) ? replace : leave).push(c);
  return { replace, leave };
}

function names(list: ContainerStatus[]): string {
  const shown = list.slice(0, 5).map((c) => `${c.pod.namespace}/${c.pod.name}/${c.name} (${c.id.slice(0, 12)})`);
  return shown.join(", ") + (list.length > shown.length ? ` and ${list.length - shown.length} more` : "");
}

/** Removes this node's pods' unclustered containers and reports the others; nothing when there are none. */
export async function settleUnclustered(opts: {
  runtime: ContainerRuntime;
  node: string;
  desired: Pod[];
  recorder: EventRecorder;
  logger: Logger;
}): Promise<{ replaced: number; left: number }> {
  const { runtime, node, recorder, logger } = opts;
  if (!runtime.listUnclusteredContainers) return { replaced: 0, left: 0 };
  const found = await runtime.listUnclusteredContainers(node);
  if (found.length === 0) return { replaced: 0, left: 0 };
  const { replace, leave } = planUnclustered(found, new Set(opts.desired.map((p) => p.metadata!.uid)));
  const nodeRef = { kind: "Node", apiVersion: "v1", namespace: "", name: node, uid: "" };
  if (replace.length > 0) {
    logger.info({ containers: names(replace) }, "removing containers of this node's pods that carry no cluster id; their pods start again with labelled ones");
    await removeAll(
      runtime,
      logger,
      replace.filter((c) => c.role === "app").map((c) => c.id),
      replace.filter((c) => c.role === "sandbox").map((c) => c.id),
    );
    recorder.recordObject(
      nodeRef,
      "Normal",
      REASON_REPLACED,
      `${replace.length} container(s) of this node's pods carried no cluster id (made by a Navarch from before cluster ids): removed, their pods start again: ${names(replace)}`,
    );
  }
  if (leave.length > 0) {
    const message =
      `${leave.length} container(s) labelled ${LABELS.node}=${node} carry no ${LABELS.cluster} label (made by a Navarch from before cluster ids) ` +
      `and belong to no pod of this node: left as they are, they may be another cluster's: ${names(leave)}. ` +
      `If they are nobody's, remove them: docker ps -a --filter label=${LABELS.node}=${node} --format '{{.ID}} {{.Label "${LABELS.cluster}"}}' lists them (no cluster shown), then docker rm -f <id>`;
    logger.warn({ containers: names(leave) }, message);
    recorder.recordObject(nodeRef, "Warning", REASON_LEFT, message);
  }
  return { replaced: replace.length, left: leave.length };
}
