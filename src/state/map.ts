// The replicated map in memory: one winning version per key (last writer wins, entry.ts order), the
// per-owner indexes sync needs, the range digests, the limits, and tombstone expiry. No I/O, no clock:
// the caller passes the time, so the same map runs on a virtual clock.
import { compareEntries, type SignedEntry } from './entry.ts';
import { DigestIndex } from './digest.ts';
import { hlcMs } from './hlc.ts';
import type { StateLimits } from './limits.ts';

export type RefusalCode = 'owner-full' | 'full' | 'bytes-full';

export type MergeResult =
  /** The entry is now the key's version (`previous` was replaced, if any). */
  | { status: 'applied'; entry: SignedEntry; previous: SignedEntry | undefined }
  /** An expired tombstone arrived for a key held with an older value: the value is gone, nothing is kept. */
  | { status: 'removed'; previous: SignedEntry }
  /** The map holds this version already, or a newer one, or the entry is a tombstone past its TTL. */
  | { status: 'duplicate' | 'stale' | 'expired' }
  | { status: 'refused'; code: RefusalCode; message: string };

export interface OwnerSummary {
  owner: string;
  count: number;
  maxTs: bigint;
}

interface OwnerIndex {
  entries: Map<string, SignedEntry>;
  maxTs: bigint;
  /** maxTs may be too high after a removal; recomputed on read. */
  dirty: boolean;
}

interface Expiry {
  ms: number;
  key: string;
  ts: bigint;
}

/** A tombstone is kept this long after its timestamp (its author's clock), then forgotten everywhere. */
export function isExpiredTombstone(e: Pick<SignedEntry, 'deleted' | 'ts'>, nowMs: number, ttlMs: number): boolean {
  return e.deleted && hlcMs(e.ts) + ttlMs <= nowMs;
}

export class StateMap {
  readonly limits: StateLimits;
  readonly digests = new DigestIndex();
  private readonly byKey = new Map<string, SignedEntry>();
  private readonly byOwner = new Map<string, OwnerIndex>();
  private totalBytes = 0;
  private tombstones = 0;
  /** Min-heap of tombstones by expiry time; entries for replaced tombstones are skipped when popped. */
  private readonly heap: Expiry[] = [];

  constructor(limits: StateLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.byKey.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get tombstoneCount(): number {
    return this.tombstones;
  }

  get(key: string): SignedEntry | undefined {
    return this.byKey.get(key);
  }

  /** Every entry (tombstones included), in key order; only keys starting with `prefix` if given. */
  entries(prefix = ''): SignedEntry[] {
    const out: SignedEntry[] = [];
    for (const [k, e] of this.byKey) if (k.startsWith(prefix)) out.push(e);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  ownerCount(owner: string): number {
    return this.byOwner.get(owner)?.entries.size ?? 0;
  }

  /** Owners with at least one entry, in ascending id order, with their count and highest timestamp. */
  owners(): OwnerSummary[] {
    const out: OwnerSummary[] = [];
    for (const [owner, idx] of this.byOwner) out.push({ owner, count: idx.entries.size, maxTs: this.maxTsOf(idx) });
    return out.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
  }

  ownerEntries(owner: string): SignedEntry[] {
    return [...(this.byOwner.get(owner)?.entries.values() ?? [])];
  }

  maxTs(owner: string): bigint {
    const idx = this.byOwner.get(owner);
    return idx ? this.maxTsOf(idx) : 0n;
  }

  private maxTsOf(idx: OwnerIndex): bigint {
    if (idx.dirty) {
      let m = 0n;
      for (const e of idx.entries.values()) if (e.ts > m) m = e.ts;
      idx.maxTs = m;
      idx.dirty = false;
    }
    return idx.maxTs;
  }

  /** Why a new version would not fit, or undefined if it does. */
  checkRoom(e: Pick<SignedEntry, 'key' | 'owner' | 'encodedSize'>): { code: RefusalCode; message: string } | undefined {
    const held = this.byKey.get(e.key);
    const growth = e.encodedSize - (held?.encodedSize ?? 0);
    if (!held) {
      const n = this.ownerCount(e.owner);
      if (n >= this.limits.maxEntriesPerOwner) {
        return { code: 'owner-full', message: `node ${e.owner.slice(0, 12)} already has ${n} entries, the max_entries_per_owner limit` };
      }
      if (this.byKey.size >= this.limits.maxEntries) return { code: 'full', message: `the state holds ${this.byKey.size} entries, the max_entries limit` };
    }
    if (growth > 0 && this.totalBytes + growth > this.limits.maxBytes) {
      return { code: 'bytes-full', message: `the state holds ${this.totalBytes} bytes; ${growth} more would pass the max_bytes limit (${this.limits.maxBytes})` };
    }
    return undefined;
  }

  /** Last-writer-wins merge of one verified entry. */
  merge(e: SignedEntry, nowMs: number, tombstoneTtlMs: number): MergeResult {
    const held = this.byKey.get(e.key);
    if (held) {
      const c = compareEntries(e, held);
      if (c === 0) return { status: 'duplicate' };
      if (c < 0) return { status: 'stale' };
    }
    if (isExpiredTombstone(e, nowMs, tombstoneTtlMs)) {
      if (!held) return { status: 'expired' };
      this.removeEntry(held);
      return { status: 'removed', previous: held };
    }
    const refusal = this.checkRoom(e);
    if (refusal) return { status: 'refused', ...refusal };
    if (held) this.removeEntry(held);
    this.addEntry(e);
    return { status: 'applied', entry: e, previous: held };
  }

  private addEntry(e: SignedEntry): void {
    this.byKey.set(e.key, e);
    let idx = this.byOwner.get(e.owner);
    if (!idx) {
      idx = { entries: new Map(), maxTs: 0n, dirty: false };
      this.byOwner.set(e.owner, idx);
    }
    idx.entries.set(e.key, e);
    if (!idx.dirty && e.ts > idx.maxTs) idx.maxTs = e.ts;
    this.digests.add(e);
    this.totalBytes += e.encodedSize;
    if (e.deleted) {
      this.tombstones++;
      this.pushExpiry({ ms: hlcMs(e.ts), key: e.key, ts: e.ts });
    }
  }

  /** Takes a key's version out of the map (replacement, expiry, or an entry found to be bad). */
  removeEntry(e: SignedEntry): void {
    if (this.byKey.get(e.key) !== e) return;
    this.byKey.delete(e.key);
    const idx = this.byOwner.get(e.owner);
    if (idx) {
      idx.entries.delete(e.key);
      if (idx.entries.size === 0) this.byOwner.delete(e.owner);
      else if (e.ts >= idx.maxTs) idx.dirty = true;
    }
    this.digests.remove(e);
    this.totalBytes -= e.encodedSize;
    if (e.deleted) this.tombstones--;
  }

  /** Forgets the tombstones whose TTL has passed; returns them (the caller deletes them from the store). */
  expire(nowMs: number, ttlMs: number): SignedEntry[] {
    const out: SignedEntry[] = [];
    while (this.heap.length > 0 && this.heap[0].ms + ttlMs <= nowMs) {
      const x = this.popExpiry();
      const e = this.byKey.get(x.key);
      if (e && e.deleted && e.ts === x.ts) {
        this.removeEntry(e);
        out.push(e);
      }
    }
    // Stale heap records (tombstones replaced by newer writes) are dropped when the heap gets sparse.
    if (this.heap.length > 2 * this.tombstones + 1024) this.rebuildHeap();
    return out;
  }

  private rebuildHeap(): void {
    const live = this.heap.filter((x) => {
      const e = this.byKey.get(x.key);
      return e !== undefined && e.deleted && e.ts === x.ts;
    });
    this.heap.length = 0;
    for (const x of live) this.pushExpiry(x);
  }

  private pushExpiry(x: Expiry): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].ms <= h[i].ms) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private popExpiry(): Expiry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].ms < h[m].ms) m = l;
        if (r < h.length && h[r].ms < h[m].ms) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
