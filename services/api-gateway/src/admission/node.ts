// Node: operators set taints (and cordon); the rest of a node is reported in status by its agent.
import { checkLabelValue, checkQualifiedName, type FieldError, type Node } from "@navarch/api";
import { duplicate, oneOf, required, syntax } from "./errors.js";
import { checkIPv4Cidr } from "./formats.js";
import type { KindRules } from "./index.js";
import { child, index } from "./paths.js";

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

export const nodeRules: KindRules<Node> = {
  validate(node) {
    const spec = node.spec;
    if (!spec) return [];
    const errs: FieldError[] = [];
    // Tolerations match taints by key and effect; two taints with the same pair are ambiguous.
    const seen = new Set<string>();
    spec.taints.forEach((t, i) => {
      const p = index("spec.taints", i);
      if (t.key === "") errs.push(required(child(p, "key")));
      else errs.push(...syntax(child(p, "key"), t.key, checkQualifiedName));
      errs.push(...syntax(child(p, "value"), t.value, checkLabelValue));
      errs.push(...oneOf(child(p, "effect"), t.effect, TAINT_EFFECTS));
      const id = `${t.key}:${t.effect}`;
      if (seen.has(id)) errs.push(duplicate(p, id));
      seen.add(id);
    });
    if (spec.podCIDR !== "") errs.push(...syntax("spec.podCIDR", spec.podCIDR, checkIPv4Cidr));
    return errs;
  },
};
