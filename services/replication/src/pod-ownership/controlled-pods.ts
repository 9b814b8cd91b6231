// Creating and deleting the pods of a controller (ReplicaSet, DaemonSet, Job): the pod made from
// the owner's template with its controller ownerReference and the gateway's pod defaults,
// creations in slow-start batches, and deletions the way the gateway deletes a pod. Every write is a create or a compare-and-swap update, and
// each written revision is reported (for the expectations of the next pass).
import {
  addDefaultTolerations,
  AlreadyExistsError,
  ConflictError,
  DEFAULT_TOLERATION_SECONDS,
  KINDS,
  NotFoundError,
  requestsFromLimits,
  type ObjectMeta,
  type OwnerReference,
  type Pod,
  type PodTemplateSpec,
} from "@navarch/api";
import type { ResourceStore } from "@navarch/store";
import { timestamp } from "@navarch/store";
import { isActive } from "./pod-state.js";
import { randomUUID } from "node:crypto";

/** Kubernetes keeps generated names within 63 characters: a 58-character base and 5 random ones. */
const MAX_NAME_BASE = 58;
/** Kubernetes' generateName alphabet (no vowels, no look-alike digits). */
const SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";

export function randomSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return s;
}

/** "<owner>-<5 random>", as a pod from generateName "<owner>-". */
export function podName(owner: string, suffix: () => string = randomSuffix): string {
  return `${owner.slice(0, MAX_NAME_BASE)}-${suffix()}`;
}

/** The ownerReference a controller puts on what it creates: it controls it, and blocks a foreground deletion. */
export function controllerReference(apiVersion: string, kind: string, meta: ObjectMeta): OwnerReference {
  return { apiVersion, kind, name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true };
}

/**
 * The pod defaults the gateway gives a client's pod that a pod made here must get too, since it
 * is written straight to the store: the tolerationSeconds of the not-ready / unreachable NoExecute
 * tolerations (the replication service's options, the same as the gateway's).
 */
export interface PodDefaults {
  notReadyTolerationSeconds: number;
  unreachableTolerationSeconds: number;
}

export const DEFAULT_POD_DEFAULTS: PodDefaults = {
  notReadyTolerationSeconds: DEFAULT_TOLERATION_SECONDS,
  unreachableTolerationSeconds: DEFAULT_TOLERATION_SECONDS,
};

export interface NewPod {
  namespace: string;
  name: string;
  template: PodTemplateSpec | undefined;
  owner: OwnerReference;
  now: Date;
  /** Labels added to the template's. */
  labels?: Record<string, string>;
  /** Changes to the template's spec (a daemon pod's nodeName and tolerations). */
  spec?: Partial<Pod["spec"]>;
  defaults: PodDefaults;
}

/**
 * A Pod as the gateway would store it: server-managed metadata filled, status Pending, and the
 * gateway's pod defaults - requests from limits (the scheduler packs by them) and the default
 * not-ready / unreachable tolerations (without them the taint eviction controller would evict the
 * pod the moment its node is lost). The defaults come after `spec`, so tolerations given there
 * (a daemon pod's, without seconds) count as covering those taints.
 */
export function podFromTemplate(p: NewPod): Pod {
  const t = p.template;
  // fromPartial copies deeply: the defaults below never touch the owner's cached template.
  const pod = KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: randomUUID(),
      creationTimestamp: timestamp(p.now),
      generation: 1,
      labels: { ...(t?.metadata?.labels ?? {}), ...(p.labels ?? {}) },
      annotations: { ...(t?.metadata?.annotations ?? {}) },
      finalizers: [...(t?.metadata?.finalizers ?? [])],
      ownerReferences: [p.owner],
    },
    spec: { ...(t?.spec ?? {}), ...(p.spec ?? {}) },
    status: { phase: "Pending" },
  });
  requestsFromLimits(pod.spec!);
  addDefaultTolerations(pod.spec!, p.defaults.notReadyTolerationSeconds, p.defaults.unreachableTolerationSeconds);
  return pod;
}

export interface CreateResult {
  created: Pod[];
  /** The first error, when a batch failed (the rest were not tried). */
  error?: Error;
  /** Pods not tried because an earlier batch failed. */
  skipped: number;
}

/**
 * Creates pods in batches of 1, 2, 4, ... (Kubernetes' slow start): a batch with a failure ends
 * the pass, so a template the store refuses costs one write, not hundreds.
 */
export async function createPods(store: ResourceStore<Pod>, pods: readonly Pod[], wrote: (p: Pod) => void): Promise<CreateResult> {
  const result: CreateResult = { created: [], skipped: 0 };
  let next = 0;
  for (let batch = 1; next < pods.length; batch *= 2) {
    const chunk = pods.slice(next, next + batch);
    next += chunk.length;
    const errors: Error[] = [];
    await Promise.all(
      chunk.map(async (pod) => {
        try {
          const stored = await store.create(pod);
          wrote(stored);
          result.created.push(stored);
        } catch (err) {
          errors.push(err as Error);
        }
      }),
    );
    if (errors.length > 0) {
      result.error = errors[0];
      result.skipped = pods.length - next;
      return result;
    }
  }
  return result;
}

/** A name taken by another pod is bad luck, not a broken template: the next pass tries another. */
export function isNameClash(err: unknown): boolean {
  return err instanceof AlreadyExistsError;
}

export interface DeleteOptions {
  now: Date;
  /** The pod's node is gone: no agent will finish a graceful deletion, so it goes at once. */
  nodeGone?: boolean;
  /** A pod found finished when retrying after a conflict is left alone (deletePod says false). */
  leaveFinished?: boolean;
}

/**
 * Deletes one pod as the gateway does: a pod running on a node is marked (deletionTimestamp and
 * its grace period; the node agent stops it, then deletes it); an unbound or finished pod, or one
 * whose node is gone, goes at once. Compare-and-swap on the revision read; on a conflict it
 * retries once from the stored pod if that is still the same pod (a pod of the same name but
 * another uid, or one already being deleted, is left alone). Resolves once it is gone or marked
 * (true), or false when it was left alone because it had finished (opts.leaveFinished).
 */
export async function deletePod(store: ResourceStore<Pod>, pod: Pod, opts: DeleteOptions, wrote: (p: Pod) => void): Promise<boolean> {
  const mark = (p: Pod): Pod => {
    const finished = p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
    const grace = p.spec?.nodeName && !finished && !opts.nodeGone ? (p.spec.terminationGracePeriodSeconds ?? 30) : 0;
    return { ...p, metadata: { ...p.metadata!, deletionTimestamp: timestamp(opts.now), deletionGracePeriodSeconds: grace } };
  };
  const write = async (p: Pod) => {
    // update() deletes at once what nothing holds (no node, no grace period, no finalizers).
    const stored = await store.update(mark(p));
    if (stored) wrote(stored);
  };
  try {
    await write(pod);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return true;
    if (!(err instanceof ConflictError)) throw err;
  }
  const fresh = await store.get(pod.metadata!.namespace, pod.metadata!.name);
  if (!fresh || fresh.metadata!.uid !== pod.metadata!.uid || fresh.metadata!.deletionTimestamp) return true;
  if (opts.leaveFinished && !isActive(fresh)) return false;
  await write(fresh).catch((err: unknown) => {
    if (!(err instanceof NotFoundError)) throw err;
  });
  return true;
}

/** Runs `work` over `items`, at most `concurrency` at once. */
export async function forEachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
