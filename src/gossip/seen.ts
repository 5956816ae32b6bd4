// The seen cache: message ids this node has accepted (or originated) in the last few minutes, so a
// message that arrives again over another path is dropped. Micelio keeps ids for 5 min plus up to 1 min
// of cleanup lag in an unbounded map; here the map has a hard size, and an expired id counts as unseen
// right away rather than at the next sweep.
import type { Clock } from '../base/clock.ts';
import { BoundedMap } from '../base/bounded-map.ts';

export const DEFAULT_SEEN_TTL_MS = 5 * 60_000;
/** ~10 MB at most: room for 300 origins each sending 1 message/s for the whole TTL. */
export const DEFAULT_SEEN_MAX_ENTRIES = 100_000;

export interface SeenCacheStats {
  size: number;
  maxEntries: number;
  /** Ids pushed out before their TTL because the cache was full (a duplicate could then be accepted again). */
  evictions: number;
  /** Ids removed by the sweep once their TTL passed. */
  expired: number;
}

export class SeenCache {
  readonly ttlMs: number;
  private readonly clock: Clock;
  /** id → expiry (ms). Insertion order is expiry order, because every entry gets the same TTL. */
  private readonly ids: BoundedMap<string, number>;
  private expiredCount = 0;

  constructor(opts: { clock: Clock; ttlMs?: number; maxEntries?: number }) {
    this.clock = opts.clock;
    this.ttlMs = opts.ttlMs ?? DEFAULT_SEEN_TTL_MS;
    if (!(this.ttlMs > 0)) throw new RangeError(`seen TTL must be positive, got ${this.ttlMs}`);
    this.ids = new BoundedMap(opts.maxEntries ?? DEFAULT_SEEN_MAX_ENTRIES);
  }

  /** Read-only: was `id` seen within the TTL? (Step 1 of the gossip checks: marks nothing.) */
  has(id: string): boolean {
    const until = this.ids.get(id);
    return until !== undefined && until > this.clock.now();
  }

  /** Test-and-set: true if `id` was already seen; otherwise marks it seen now and returns false. */
  check(id: string): boolean {
    const now = this.clock.now();
    const until = this.ids.get(id);
    if (until !== undefined) {
      if (until > now) return true;
      // Expired but not yet swept: re-insert at the young end so the map stays in expiry order.
      this.ids.delete(id);
    }
    this.ids.set(id, now + this.ttlMs);
    return false;
  }

  /** Removes expired ids (oldest first, stopping at the first live one); returns how many. */
  sweep(): number {
    const now = this.clock.now();
    let n = 0;
    for (const [id, until] of this.ids) {
      if (until > now) break;
      this.ids.delete(id);
      n++;
    }
    this.expiredCount += n;
    return n;
  }

  get size(): number {
    return this.ids.size;
  }

  stats(): SeenCacheStats {
    return { size: this.ids.size, maxEntries: this.ids.maxEntries, evictions: this.ids.evictions, expired: this.expiredCount };
  }
}
