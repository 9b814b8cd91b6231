// One reconcile pass of a deployment, worked out in memory: the pass holds copies of the
// deployment and its replica sets, every decision changes the copies (so later decisions in the
// same pass see earlier ones, as the writes of Kubernetes' controller would), and finish() turns
// what changed into the plan: replica sets to create, update (one write each, however often the
// pass touched them) or delete, events, and the deployment's annotations and status.
import { DeploymentStatus, type Condition, type Deployment, type ReplicaSet } from "@navarch/api";
import { timestamp } from "@navarch/store";
import { maxSurge, replicasOf } from "./fenceposts.js";
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, ScalingReplicaSet } from "./reasons.js";
import { canonicalJson } from "./template-hash.js";

export type Step =
  | { type: "adoptReplicaSet"; rs: ReplicaSet }
  | { type: "releaseReplicaSet"; rs: ReplicaSet }
  | { type: "createReplicaSet"; rs: ReplicaSet }
  /** The whole replica set as it should be stored; compare-and-swap on its resourceVersion. */
  | { type: "updateReplicaSet"; rs: ReplicaSet }
  | { type: "deleteReplicaSet"; rs: ReplicaSet }
  | { type: "event"; eventType: "Normal" | "Warning"; reason: string; message: string };

export interface Plan {
  /** Claims first, then creates, updates and deletes of replica sets, then events. */
  steps: Step[];
  /** The deployment with the annotations and status it should have, when they changed. */
  deployment?: Deployment;
  /** Look at the deployment again this much later (the progress deadline). */
  requeueAfterMs?: number;
}

export class Pass {
  /** The deployment as the pass leaves it (annotations and status are the controller's to change). */
  readonly d: Deployment;
  /** The status stored when the pass began (progress is measured against it). */
  readonly stored: DeploymentStatus;
  readonly now: Date;
  private readonly sets = new Map<string, ReplicaSet>();
  private readonly originals = new Map<string, ReplicaSet>();
  private readonly claims: Step[] = [];
  private readonly created: string[] = [];
  private readonly deleted = new Set<string>();
  private readonly events: Step[] = [];
  requeueAfterMs: number | undefined;

  constructor(
    private readonly original: Deployment,
    sets: readonly ReplicaSet[],
    now: Date,
  ) {
    this.d = structuredClone(original);
    this.d.metadata!.annotations ??= {};
    this.stored = DeploymentStatus.fromPartial(original.status ?? {});
    this.d.status = DeploymentStatus.fromPartial(original.status ?? {});
    this.now = now;
    for (const rs of sets) {
      this.originals.set(rs.metadata!.name, rs);
      this.sets.set(rs.metadata!.name, structuredClone(rs));
    }
  }

  /** The pass's copies of the deployment's replica sets (deleted ones excluded). */
  all(): ReplicaSet[] {
    return [...this.sets.values()].filter((rs) => !this.deleted.has(rs.metadata!.name));
  }

  get status(): DeploymentStatus {
    return this.d.status!;
  }

  claim(step: Extract<Step, { type: "adoptReplicaSet" | "releaseReplicaSet" }>): void {
    this.claims.push(step);
  }

  create(rs: ReplicaSet): ReplicaSet {
    this.sets.set(rs.metadata!.name, rs);
    this.created.push(rs.metadata!.name);
    return rs;
  }

  delete(rs: ReplicaSet): void {
    this.deleted.add(rs.metadata!.name);
  }

  event(eventType: "Normal" | "Warning", reason: string, message: string): void {
    this.events.push({ type: "event", eventType, reason, message });
  }

  /**
   * Sets a replica set's size and the deployment's size annotations on it (Kubernetes'
   * scaleReplicaSet). Returns whether the size changed.
   */
  scale(rs: ReplicaSet, replicas: number): boolean {
    const before = rs.spec!.replicas ?? 1;
    const a = (rs.metadata!.annotations ??= {});
    const desired = String(replicasOf(this.d));
    const max = String(replicasOf(this.d) + maxSurge(this.d));
    if (before === replicas && a[DESIRED_REPLICAS_ANNOTATION] === desired && a[MAX_REPLICAS_ANNOTATION] === max) return false;
    rs.spec!.replicas = replicas;
    a[DESIRED_REPLICAS_ANNOTATION] = desired;
    a[MAX_REPLICAS_ANNOTATION] = max;
    if (before === replicas) return false;
    const direction = replicas > before ? "up" : "down";
    this.event("Normal", ScalingReplicaSet, `Scaled ${direction} replica set ${rs.metadata!.name} to ${replicas} from ${before}`);
    return true;
  }

  /** A Deployment condition as Kubernetes makes one: both times now. */
  condition(type: string, status: string, reason: string, message: string): Condition {
    const t = timestamp(this.now);
    return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t, lastHeartbeatTime: "", lastProbeTime: "", observedGeneration: 0 };
  }

  finish(): Plan {
    const steps: Step[] = [...this.claims];
    for (const name of this.created) {
      if (!this.deleted.has(name)) steps.push({ type: "createReplicaSet", rs: this.sets.get(name)! });
    }
    for (const [name, rs] of this.sets) {
      const before = this.originals.get(name);
      if (!before || this.deleted.has(name)) continue;
      if (canonicalJson(rs) === canonicalJson(before)) continue;
      // A spec change is a new generation (the replica set controller reports which it has seen).
      const specChanged = canonicalJson(rs.spec) !== canonicalJson(before.spec);
      if (specChanged) rs.metadata!.generation = (before.metadata!.generation ?? 0) + 1;
      steps.push({ type: "updateReplicaSet", rs });
    }
    for (const name of this.deleted) {
      const before = this.originals.get(name);
      if (before) steps.push({ type: "deleteReplicaSet", rs: before });
    }
    steps.push(...this.events);
    const plan: Plan = { steps };
    const changed =
      canonicalJson(this.d.metadata?.annotations ?? {}) !== canonicalJson(this.original.metadata?.annotations ?? {}) ||
      canonicalJson(DeploymentStatus.toJSON(this.d.status!)) !== canonicalJson(DeploymentStatus.toJSON(this.stored));
    if (changed) plan.deployment = this.d;
    if (this.requeueAfterMs !== undefined) plan.requeueAfterMs = this.requeueAfterMs;
    return plan;
  }
}
