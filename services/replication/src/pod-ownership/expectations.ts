// Expectations, as client-go's controller expectations: the pod cache lags behind this
// controller's own writes, so a replica set that just created 5 pods would, synced again before
// the cache shows them, create 5 more. Each pass remembers what it wrote for its replica set (the
// highest pod revision written, and the pods it deleted); the next pass acts on pods only once the
// cache has observed all of it - the cache applies revisions in order, so reaching the highest
// revision means every create before it is visible - or once the expectation has expired (the
// cache is stuck; acting late beats never acting).
//
// A pass with unobserved writes still computes and writes status; the cache's events bring the
// key back as soon as the writes show up.

/** What the pod cache can tell: how far it has applied the bucket, and what it holds. */
export interface PodCacheView {
  readonly revision: number;
  getByKey(key: string): { metadata?: { uid: string; deletionTimestamp: string } | undefined } | undefined;
}

export interface Deleted {
  key: string;
  uid: string;
}

interface Pending {
  revision: number;
  deleted: Deleted[];
  expiresAt: number;
}

export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

export class Expectations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one pass's writes for `owner`: the highest revision it wrote, and the pods it deleted. */
  expect(owner: string, revision: number, deleted: Deleted[]): void {
    if (revision <= 0 && deleted.length === 0) return;
    const before = this.pending.get(owner);
    this.pending.set(owner, {
      revision: Math.max(revision, before?.revision ?? 0),
      deleted: [...(before?.deleted ?? []), ...deleted],
      expiresAt: this.now() + this.timeoutMs,
    });
  }

  /**
   * Whether the cache has observed every write recorded for `owner` (or the record expired);
   * forgets the record once it has. `recheckMs` says when an unsatisfied record expires.
   */
  satisfied(owner: string, cache: PodCacheView): { satisfied: boolean; recheckMs?: number } {
    const p = this.pending.get(owner);
    if (!p) return { satisfied: true };
    p.deleted = p.deleted.filter((d) => !deletionObserved(d, cache));
    if (cache.revision >= p.revision && p.deleted.length === 0) {
      this.pending.delete(owner);
      return { satisfied: true };
    }
    const left = p.expiresAt - this.now();
    if (left <= 0) {
      this.pending.delete(owner);
      return { satisfied: true };
    }
    return { satisfied: false, recheckMs: left };
  }

  /** Drops what is remembered for an owner that is gone. */
  forget(owner: string): void {
    this.pending.delete(owner);
  }

  /** Owners with writes not observed yet (tests, status pages). */
  get size(): number {
    return this.pending.size;
  }
}

/** The cache no longer holds that pod as a live object: gone, replaced by another uid, or terminating. */
function deletionObserved(d: Deleted, cache: PodCacheView): boolean {
  const pod = cache.getByKey(d.key);
  return !pod || pod.metadata?.uid !== d.uid || !!pod.metadata?.deletionTimestamp;
}
