// The node's user labels and taints as given on the command line (environment), in kubelet's
// syntax: labels "k=v,k2=v2", taints "key=value:Effect,key2:Effect". Bad input fails the start
// with the exact item that is wrong, rather than registering a node nobody asked for.
import { checkLabelValue, checkQualifiedName, type Taint } from "@navarch/api";

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq <= 0) throw new Error(`node label "${item}": expected key=value`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    const problem = checkQualifiedName(key) ?? checkLabelValue(value);
    if (problem) throw new Error(`node label "${item}": ${problem}`);
    labels[key] = value;
  }
  return labels;
}

export function parseTaints(text: string): Taint[] {
  const taints: Taint[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const colon = item.lastIndexOf(":");
    if (colon <= 0) throw new Error(`node taint "${item}": expected key[=value]:effect`);
    const effect = item.slice(colon + 1);
    if (!(TAINT_EFFECTS as readonly string[]).includes(effect)) {
      throw new Error(`node taint "${item}": effect must be one of ${TAINT_EFFECTS.join(", ")}`);
    }
    const kv = item.slice(0, colon);
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? "" : kv.slice(eq + 1);
    const problem = checkQualifiedName(key) ?? checkLabelValue(value);
    if (problem) throw new Error(`node taint "${item}": ${problem}`);
    if (taints.some((t) => t.key === key && t.effect === effect)) throw new Error(`node taint "${item}": duplicate key and effect`);
    taints.push({ key, value, effect, timeAdded: "" });
  }
  return taints;
}
