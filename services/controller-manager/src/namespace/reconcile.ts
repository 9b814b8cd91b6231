// What to do about one namespace - a pure function of the namespace, what is in it, and the time.
//
// A namespace being deleted (metadata.deletionTimestamp set by the gateway) is emptied, then
// finalized, then deleted - Kubernetes' order:
//   1. status.phase becomes Terminating (the gateway already sets it; we make sure);
//   2. every object in it, of every namespaced kind, is asked to go (those with finalizers get a
//      deletionTimestamp and stay until their finalizers' owners let go);
//   3. while objects with finalizers remain, we wait, and say so in status.conditions;
//   4. once nothing is left, "kubernetes" is removed from spec.finalizers and, when no other
//      finalizer holds it, the namespace is deleted (compare-and-swap on its revision).
// A pass that deletes objects does not also finalize: the deletions' events bring the key back,
// and the next pass sees them gone (level-triggered, never on a guess).
import type { Condition, Namespace } from "@navarch/api";
import { timestamp } from "@navarch/store";
import {
  ContentDeleted,
  ContentHasNoFinalizers,
  FINALIZER_KUBERNETES,
  NamespaceContentRemaining,
  NamespaceFinalizersRemaining,
  PHASE_TERMINATING,
  PROTECTED_NAMESPACES,
  SomeFinalizersRemain,
  SomeResourcesRemain,
} from "./reasons.js";

/** What the controller needs to know of one object in the namespace. */
export interface ContentItem {
  kind: string;
  namespace: string;
  name: string;
  finalizers: string[];
  /** "" when not being deleted. */
  deletionTimestamp: string;
  resourceVersion: string;
}

export type Step =
  | { type: "setPhase"; phase: typeof PHASE_TERMINATING; conditions: Condition[] }
  | { type: "deleteObject"; kind: string; namespace: string; name: string; resourceVersion: string }
  | { type: "waitFor"; objects: number; finalizers: string[] }
  | { type: "removeFinalizer"; finalizer: typeof FINALIZER_KUBERNETES }
  | { type: "deleteNamespace"; resourceVersion: string };

export type Plan = Step[];

export function reconcile(namespace: Namespace, contents: readonly ContentItem[], now: Date): Plan {
  const meta = namespace.metadata!;
  if (!meta.deletionTimestamp || PROTECTED_NAMESPACES.includes(meta.name)) return [];

  const deletes: Step[] = [];
  const held: ContentItem[] = [];
  for (const item of contents) {
    const waiting = item.deletionTimestamp !== "" && item.finalizers.length > 0;
    if (!waiting) {
      deletes.push({ type: "deleteObject", kind: item.kind, namespace: item.namespace, name: item.name, resourceVersion: item.resourceVersion });
    }
    // Objects with finalizers outlive this pass (a delete only marks them).
    if (item.finalizers.length > 0) held.push(item);
  }

  const plan: Plan = [];
  const phaseWrong = namespace.status?.phase !== PHASE_TERMINATING;
  if (contents.length > 0) {
    const conditions = contentConditions(namespace.status?.conditions ?? [], held, now);
    if (phaseWrong || (held.length > 0 && !sameConditions(namespace.status?.conditions ?? [], conditions))) {
      plan.push({ type: "setPhase", phase: PHASE_TERMINATING, conditions });
    }
    plan.push(...deletes);
    if (held.length > 0) {
      plan.push({ type: "waitFor", objects: held.length, finalizers: distinct(held.flatMap((i) => i.finalizers)) });
    }
    return plan;
  }

  // Empty: finalize. Other spec finalizers or metadata finalizers are someone else's to remove;
  // their update brings the key back.
  const specFinalizers = namespace.spec?.finalizers ?? [];
  const rest = specFinalizers.filter((f) => f !== FINALIZER_KUBERNETES);
  if (specFinalizers.includes(FINALIZER_KUBERNETES)) plan.push({ type: "removeFinalizer", finalizer: FINALIZER_KUBERNETES });
  if (rest.length === 0 && (meta.finalizers ?? []).length === 0) {
    plan.push({ type: "deleteNamespace", resourceVersion: meta.resourceVersion });
  }
  return plan;
}

/**
 * The content conditions after this pass: what still remains (objects with finalizers), and which
 * finalizers hold it. A condition whose status does not change keeps its lastTransitionTime.
 */
export function contentConditions(current: readonly Condition[], held: readonly ContentItem[], now: Date): Condition[] {
  const t = timestamp(now);
  const byKind = countBy(held.map((i) => i.kind));
  const byFinalizer = countBy(held.flatMap((i) => i.finalizers));
  const wanted: Pick<Condition, "type" | "status" | "reason" | "message">[] = [
    held.length > 0
      ? {
          type: NamespaceContentRemaining,
          status: "True",
          reason: SomeResourcesRemain,
          message: `Some resources are remaining: ${[...byKind].map(([k, n]) => `${k} has ${n} resource instances`).join(", ")}`,
        }
      : { type: NamespaceContentRemaining, status: "False", reason: ContentDeleted, message: "All content successfully deleted, may be waiting on finalization" },
    held.length > 0
      ? {
          type: NamespaceFinalizersRemaining,
          status: "True",
          reason: SomeFinalizersRemain,
          message: `Some content in the namespace has finalizers remaining: ${[...byFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).join(", ")}`,
        }
      : { type: NamespaceFinalizersRemaining, status: "False", reason: ContentHasNoFinalizers, message: "All content-preserving finalizers finished" },
  ];
  const others = current.filter((c) => !wanted.some((w) => w.type === c.type));
  return [
    ...others,
    ...wanted.map((w) => {
      const old = current.find((c) => c.type === w.type);
      const lastTransitionTime = old && old.status === w.status ? old.lastTransitionTime : t;
      // Namespace conditions carry only a transition time (as in Kubernetes).
      return { ...w, lastTransitionTime, lastUpdateTime: "", lastHeartbeatTime: "", lastProbeTime: "", observedGeneration: 0 };
    }),
  ];
}

function sameConditions(a: readonly Condition[], b: readonly Condition[]): boolean {
  const key = (c: Condition) => `${c.type}\u0000${c.status}\u0000${c.reason}\u0000${c.message}`;
  return a.length === b.length && a.every((c) => b.some((d) => key(c) === key(d)));
}

function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of [...values].sort()) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function distinct(values: string[]): string[] {
  return [...new Set(values)].sort();
}
