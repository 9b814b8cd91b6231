// A pod's status as the node observes it: a pure function of the pod, what each container machine
// knows about its container, the sandbox and the time. Kubernetes' rules (kubelet getPhase and
// generateAPIPodStatus):
//
//   phase      Pending   while some container has not run yet (waiting, no previous termination)
//              Running   some container runs; or none runs, some stopped, and they will restart
//              Succeeded every container terminated for good with exit code 0
//              Failed    every container terminated for good, some not with 0 (restartPolicy
//                        Never: Always and OnFailure restart failed containers instead)
//              (an init container that failed for good - restartPolicy Never - fails the pod)
//   conditions PodScheduled True; Initialized (init containers done); ContainersReady and Ready
//              (every container ready), each keeping its lastTransitionTime while its status holds.
//   containerStatuses  waiting{reason,message} | running{startedAt} | terminated{...}, lastState,
//              restartCount, image, imageID, containerID "docker://<id>", ready (running, started
//              and its readiness probe passed - or it has none), started (running and its startup
//              probe passed - or it has none).
import { KINDS, type Condition, type ContainerState, type ContainerStatus, type Pod, type PodStatus } from "@navarch/api";
import { timestamp } from "@navarch/store";
import { qosClass } from "./qos.js";
import { normalizePolicy } from "./restart-policy.js";

/** How a container ended. Times in ms. */
export interface Termination {
  exitCode: number;
  /** Completed | Error | OOMKilled | StartError | ContainerStatusUnknown */
  reason: string;
  message: string;
  startedAt: number;
  finishedAt: number;
  containerId: string;
}

export type ViewState =
  | { kind: "waiting"; reason: string; message: string }
  | { kind: "running"; startedAt: number }
  | { kind: "terminated"; termination: Termination };

/** What a container machine exposes for status: one per container of the spec. */
export interface ContainerView {
  name: string;
  image: string;
  imageID: string;
  /** The current container's runtime id ("" before the first create). */
  containerId: string;
  state: ViewState;
  lastTermination: Termination | undefined;
  restartCount: number;
  /** The probes' verdicts while it runs (undefined: no probes decide, running is enough). */
  started?: boolean | undefined;
  ready?: boolean | undefined;
}

export interface PodObservation {
  pod: Pod;
  containers: ContainerView[];
  initContainers?: ContainerView[];
  podIP: string;
  hostIP: string;
  /** ms: when this node first took the pod on (its sandbox's creation, for an adopted pod). */
  startTime: number;
  /** "docker": prefix of containerID. */
  runtimeName: string;
  /** The status last computed, whose conditions' lastTransitionTime are kept while they hold. */
  previous: PodStatus | undefined;
  now: Date;
}

export function terminationReason(exitCode: number, oomKilled: boolean): string {
  if (oomKilled) return "OOMKilled";
  return exitCode === 0 ? "Completed" : "Error";
}

/** Image IDs as Kubernetes shows them: with a scheme ("docker://sha256:..."). */
export function formatImageID(id: string, runtimeName = "docker"): string {
  if (!id) return "";
  return id.includes("://") ? id : `${runtimeName}://${id}`;
}

function ts(ms: number): string {
  return ms > 0 ? timestamp(new Date(ms)) : "";
}

function terminatedState(t: Termination, runtimeName: string): ContainerState {
  return {
    terminated: {
      exitCode: t.exitCode,
      signal: 0,
      reason: t.reason,
      message: t.message,
      startedAt: ts(t.startedAt),
      finishedAt: ts(t.finishedAt),
      containerID: t.containerId ? `${runtimeName}://${t.containerId}` : "",
    },
  };
}

/** An init container is ready once it completed with exit 0; an app container while it runs. */
export function containerStatus(v: ContainerView, runtimeName: string, init = false): ContainerStatus {
  let state: ContainerState;
  switch (v.state.kind) {
    case "waiting":
      state = { waiting: { reason: v.state.reason, message: v.state.message } };
      break;
    case "running":
      state = { running: { startedAt: ts(v.state.startedAt) } };
      break;
    case "terminated":
      state = terminatedState(v.state.termination, runtimeName);
      break;
  }
  const running = v.state.kind === "running";
  const succeeded = v.state.kind === "terminated" && v.state.termination.exitCode === 0;
  return {
    name: v.name,
    state,
    lastState: v.lastTermination ? terminatedState(v.lastTermination, runtimeName) : {},
    ready: init ? succeeded : running && (v.ready ?? true),
    restartCount: v.restartCount,
    image: v.image,
    imageID: formatImageID(v.imageID, runtimeName),
    containerID: v.containerId ? `${runtimeName}://${v.containerId}` : "",
    started: running && (v.started ?? true),
  };
}

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

/** kubelet's getPhase over the app containers. */
export function podPhase(restartPolicy: string | undefined, containers: ContainerView[], initDone = true): Phase {
  if (!initDone) return "Pending";
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers) {
    switch (c.state.kind) {
      case "running":
        running++;
        break;
      case "terminated":
        stopped++;
        if (c.state.termination.exitCode === 0) succeeded++;
        break;
      case "waiting":
        // Waiting to restart after a termination counts as stopped, not as not-yet-started.
        if (c.lastTermination) stopped++;
        else waiting++;
        break;
    }
  }
  if (containers.length === 0 || waiting > 0) return "Pending";
  if (running > 0) return "Running";
  const policy = normalizePolicy(restartPolicy);
  if (policy === "Always") return "Running";
  if (stopped === succeeded) return "Succeeded";
  if (policy === "Never") return "Failed";
  // OnFailure: the failed ones are being restarted.
  return "Running";
}

function initComplete(inits: ContainerView[]): boolean {
  return inits.every((c) => c.state.kind === "terminated" && c.state.termination.exitCode === 0);
}

/** An init container ended for good with a failure (it is not being restarted: restartPolicy Never). */
function initFailed(restartPolicy: string | undefined, inits: ContainerView[]): boolean {
  return normalizePolicy(restartPolicy) === "Never" && inits.some((c) => c.state.kind === "terminated" && c.state.termination.exitCode !== 0);
}

/** While init containers run, app containers wait with reason PodInitializing. */
function initializing(v: ContainerView): ContainerView {
  return v.state.kind === "waiting" && !v.lastTermination ? { ...v, state: { kind: "waiting", reason: "PodInitializing", message: "" } } : v;
}

function condition(type: string, ok: boolean, reason: string, message: string, previous: PodStatus | undefined, now: Date): Condition {
  const status = ok ? "True" : "False";
  const before = previous?.conditions?.find((c) => c.type === type);
  const lastTransitionTime = before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : timestamp(now);
  return {
    type,
    status,
    reason: ok ? "" : reason,
    message: ok ? "" : message,
    lastTransitionTime,
    lastUpdateTime: "",
    lastHeartbeatTime: "",
    lastProbeTime: "",
    observedGeneration: 0,
  };
}

export function computePodStatus(o: PodObservation): PodStatus {
  const inits = o.initContainers ?? [];
  const initDone = initComplete(inits);
  const phase = initFailed(o.pod.spec?.restartPolicy, inits) ? "Failed" : podPhase(o.pod.spec?.restartPolicy, o.containers, initDone);
  const containers = initDone ? o.containers : o.containers.map(initializing);
  const completed = phase === "Succeeded" || phase === "Failed";
  const containerStatuses = containers.map((c) => containerStatus(c, o.runtimeName));
  const unready = containerStatuses.filter((c) => !c.ready).map((c) => c.name);
  const readyReason = completed ? "PodCompleted" : "ContainersNotReady";
  const readyMessage = completed ? "" : `containers with unready status: [${unready.join(" ")}]`;
  const uninitialized = inits.filter((c) => !(c.state.kind === "terminated" && c.state.termination.exitCode === 0)).map((c) => c.name);
  const ready = unready.length === 0 && containers.length > 0;
  const conditions = [
    condition("Initialized", initDone, completed ? "PodCompleted" : "ContainersNotInitialized", `containers with incomplete status: [${uninitialized.join(" ")}]`, o.previous, o.now),
    condition("Ready", ready, readyReason, readyMessage, o.previous, o.now),
    condition("ContainersReady", ready, readyReason, readyMessage, o.previous, o.now),
    condition("PodScheduled", true, "", "", o.previous, o.now),
  ];
  return {
    phase,
    conditions,
    message: "",
    reason: "",
    hostIP: o.hostIP,
    podIP: o.podIP,
    podIPs: o.podIP ? [{ ip: o.podIP }] : [],
    // Kept once reported, as the kubelet's status manager does: an adopting agent knows the pod's
    // start only from its sandbox's creation (seconds-precise), and must not move it.
    startTime: o.previous?.startTime || ts(o.startTime),
    containerStatuses,
    initContainerStatuses: inits.map((c) => containerStatus(c, o.runtimeName, true)),
    qosClass: qosClass(o.pod),
    nominatedNodeName: "",
  };
}

/** The status as stored JSON, for "did it change?" (key order fixed by the codec). */
export function canonicalStatus(status: PodStatus | undefined): string {
  return JSON.stringify(KINDS.Pod.codec.toJSON(KINDS.Pod.codec.fromPartial({ status: status ?? {} })));
}
