// What the scheduler says about a pod, worded as kube-scheduler words it.
//
// Unschedulable (framework.FitError): "0/<all nodes> nodes are available: " then one "<count>
// <reason>" per distinct reason, sorted as strings (Go's sort.Strings, so "1 node(s) ..." comes
// before "2 Insufficient memory"), joined by ", ", ending in ".". A node counts once per reason
// it gave, and gives the reasons of the first check it failed.
//
// Scheduled: "Successfully assigned <ns>/<pod> to <node>", followed here by why that node: how
// many nodes were checked and feasible, and the winner's score per ranker (score x weight).
import type { Placed } from "./stack.js";

export const NO_NODES = "no nodes available to schedule pods";

export function unschedulableMessage(totalNodes: number, reasons: ReadonlyMap<string, number>): string {
  if (totalNodes === 0) return NO_NODES;
  const parts = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  return `0/${totalNodes} nodes are available${parts.length > 0 ? `: ${parts.join(", ")}` : ""}.`;
}

export function scheduledMessage(namespace: string, name: string, placed: Placed): string {
  const checked = placed.evaluated === placed.total ? `${placed.evaluated}` : `${placed.evaluated} checked of ${placed.total}`;
  const terms = placed.breakdown.map((b) => `${b.ranker} ${b.score}x${b.weight}`).join(" + ");
  return `Successfully assigned ${namespace}/${name} to ${placed.node.name} (${placed.feasible}/${checked} nodes feasible; score ${placed.score} = ${terms})`;
}
