// Status reports: for each pod this node runs, the latest observed status as a Pod (metadata
// name/namespace/uid + the reporting node's annotation, and status) in navarch-pod-status. The
// pod status folder of the control plane copies it into the Pod (one writer per fact: this agent
// is the only writer of its pods' reports).
//
//   - Coalesced: a pod's changes within `coalesceMs` become one write; one write per pod is in
//     flight at a time, and changes meanwhile are written after it (newest state only).
//   - Only on change: the status is compared, as canonical JSON, with what was last written (or,
//     after a restart, with the report found in the bucket - so an adopting agent does not rewrite
//     an unchanged status, and conditions keep their lastTransitionTime).
//   - Compare-and-swap on the revision we last wrote; a conflict (nobody else should write, but a
//     previous incarnation of this agent may have) re-reads and writes again.
//   - Deleted by us once the pod is gone, unless a newer pod of the same name owns the report now.
import { AlreadyExistsError, ConflictError, KINDS, NotFoundError, type Pod, type PodStatus } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import { REPORTED_BY_ANNOTATION, type ResourceStore } from "@navarch/store";
import { canonicalStatus } from "./pod-status.js";

/** Computes the status to report; `previous` is the last one reported (for lastTransitionTime). */
export type BuildStatus = (previous: PodStatus | undefined) => PodStatus;

interface KeyState {
  namespace: string;
  name: string;
  uid: string;
  build: BuildStatus | undefined;
  /** Revision of the report in the bucket as we last knew it; undefined = unknown / none. */
  revision: number | undefined;
  loaded: boolean;
  lastJson: string | undefined;
  lastStatus: PodStatus | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  inFlight: Promise<void> | undefined;
  dirty: boolean;
  failures: number;
  deleted: boolean;
}

export interface ReporterOptions {
  store: ResourceStore<Pod>;
  node: string;
  coalesceMs: number;
  logger: Logger;
}

export class StatusReporter {
  private readonly keys = new Map<string, KeyState>();
  private stopped = false;
  /** Reports written (for tests and the bench). */
  writes = 0;

  constructor(private readonly opts: ReporterOptions) {}

  /** Asks for a report of pod namespace/name (uid) soon; `build` is called when it is written. */
  schedule(namespace: string, name: string, uid: string, build: BuildStatus): void {
    if (this.stopped) return;
    const key = `${namespace}.${name}`;
    let s = this.keys.get(key);
    if (!s || s.deleted) {
      s = { namespace, name, uid, build, revision: s?.revision, loaded: false, lastJson: undefined, lastStatus: undefined, timer: undefined, inFlight: undefined, dirty: false, failures: 0, deleted: false };
      this.keys.set(key, s);
    }
    if (s.uid !== uid) {
      // A new pod of the same name: what we wrote was about the old one.
      s.uid = uid;
      s.lastJson = undefined;
      s.lastStatus = undefined;
    }
    s.build = build;
    if (s.inFlight) s.dirty = true;
    else this.arm(key, s, this.opts.coalesceMs);
  }

  /** Deletes the report of pod uid (after the pod is gone); keeps a newer pod's report. */
  async delete(namespace: string, name: string, uid: string): Promise<void> {
    const key = `${namespace}.${name}`;
    const s = this.keys.get(key);
    if (s && s.uid !== uid) return;
    if (s) {
      s.deleted = true;
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      await s.inFlight;
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.opts.store.get(namespace, name);
      if (!current || current.metadata?.uid !== uid) break;
      try {
        await this.opts.store.delete(namespace, name, Number(current.metadata.resourceVersion));
        break;
      } catch (err) {
        if (err instanceof NotFoundError) break;
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    if (this.keys.get(key) === s && s?.deleted) this.keys.delete(key);
  }

  /** The status this node last reported for pod uid, from the bucket (an adopting agent reads it once). */
  async lastReported(namespace: string, name: string, uid: string): Promise<PodStatus | undefined> {
    const existing = await this.opts.store.get(namespace, name);
    const ours = existing?.metadata?.uid === uid && existing.metadata.annotations?.[REPORTED_BY_ANNOTATION] === this.opts.node;
    return ours ? existing.status : undefined;
  }

  /** Writes what is pending (bounded by timeoutMs) and stops. */
  async stop(timeoutMs = 2_000): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const [key, s] of this.keys) {
      if (s.timer) {
        clearTimeout(s.timer);
        s.timer = undefined;
        if (!s.inFlight) s.inFlight = this.flush(key, s);
      }
      if (s.inFlight) pending.push(s.inFlight);
    }
    this.stopped = true;
    await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private arm(key: string, s: KeyState, delayMs: number): void {
    if (s.timer || this.stopped) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.inFlight = this.flush(key, s).finally(() => {
        s.inFlight = undefined;
        if (s.dirty && !s.deleted) {
          s.dirty = false;
          this.arm(key, s, this.opts.coalesceMs);
        }
      });
    }, delayMs);
  }

  private async flush(key: string, s: KeyState): Promise<void> {
    if (s.deleted || !s.build) return;
    try {
      if (!s.loaded) await this.load(s);
      const status = s.build(s.lastStatus);
      const json = canonicalStatus(status);
      if (json === s.lastJson) return;
      await this.write(s, status);
      s.lastJson = json;
      s.lastStatus = status;
      s.failures = 0;
      this.writes++;
    } catch (err) {
      s.failures++;
      const delay = Math.min(250 * 2 ** (s.failures - 1), 10_000);
      if (s.failures === 1 || s.failures % 10 === 0) {
        this.opts.logger.warn({ pod: key, failures: s.failures, delayMs: delay, err: String(err) }, "writing a status report failed; retrying");
      }
      s.dirty = false;
      if (!this.stopped) setTimeout(() => this.arm(key, s, 0), delay).unref();
    }
  }

  /** The report already in the bucket (written before a restart): its revision and status. */
  private async load(s: KeyState): Promise<void> {
    const existing = await this.opts.store.get(s.namespace, s.name);
    s.revision = existing ? Number(existing.metadata!.resourceVersion) : undefined;
    if (existing && existing.metadata?.uid === s.uid && existing.metadata.annotations?.[REPORTED_BY_ANNOTATION] === this.opts.node) {
      s.lastStatus = existing.status;
      s.lastJson = canonicalStatus(existing.status);
    }
    s.loaded = true;
  }

  private report(s: KeyState, status: PodStatus): Pod {
    return KINDS.Pod.codec.fromPartial({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: s.name, namespace: s.namespace, uid: s.uid, annotations: { [REPORTED_BY_ANNOTATION]: this.opts.node } },
      status,
    });
  }

  private async write(s: KeyState, status: PodStatus): Promise<void> {
    const report = this.report(s, status);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const stored =
          s.revision === undefined
            ? await this.opts.store.create(report)
            : await this.opts.store.update({ ...report, metadata: { ...report.metadata!, resourceVersion: String(s.revision) } });
        s.revision = Number(stored!.metadata!.resourceVersion);
        return;
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof AlreadyExistsError)) throw err;
        const fresh = await this.opts.store.get(s.namespace, s.name);
        s.revision = fresh ? Number(fresh.metadata!.resourceVersion) : undefined;
      }
    }
    throw new ConflictError(`status report ${s.namespace}/${s.name} keeps changing under us`);
  }
}
