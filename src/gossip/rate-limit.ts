// Per-originator token buckets (Micelio: 10 messages/s, burst 20). A new originator's first message is
// allowed and leaves burst−1 tokens; tokens refill at the rate, capped at the burst; each message costs
// one. Micelio's map of originators is unbounded; here it has a size limit (least recently active
// originator evicted first) on top of the idle sweep.
import type { Clock } from '../base/clock.ts';
import { BoundedMap } from '../base/bounded-map.ts';

export const DEFAULT_RATE_PER_S = 10;
export const DEFAULT_BURST = 20;
/** Originators silent this long are forgotten (their next message starts with a full bucket). */
export const DEFAULT_LIMITER_IDLE_MS = 5 * 60_000;
export const DEFAULT_LIMITER_MAX_ENTRIES = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

export interface RateLimiterStats {
  size: number;
  maxEntries: number;
  /** Originators pushed out because the table was full. */
  evictions: number;
  /** Originators forgotten by the idle sweep. */
  expired: number;
}

export class RateLimiter {
  readonly ratePerS: number;
  readonly burst: number;
  readonly idleMs: number;
  private readonly clock: Clock;
  private readonly buckets: BoundedMap<string, Bucket>;
  private expiredCount = 0;

  constructor(opts: { clock: Clock; ratePerS?: number; burst?: number; idleMs?: number; maxEntries?: number }) {
    this.clock = opts.clock;
    this.ratePerS = opts.ratePerS ?? DEFAULT_RATE_PER_S;
    this.burst = opts.burst ?? DEFAULT_BURST;
    this.idleMs = opts.idleMs ?? DEFAULT_LIMITER_IDLE_MS;
    if (!(this.ratePerS > 0) || !(this.burst >= 1)) throw new RangeError('rate must be positive and burst at least 1');
    this.buckets = new BoundedMap(opts.maxEntries ?? DEFAULT_LIMITER_MAX_ENTRIES);
  }

  /** Takes one token from `key`'s bucket; false when it is empty. */
  allow(key: string): boolean {
    const now = this.clock.now();
    const b = this.buckets.get(key);
    if (b === undefined) {
      this.buckets.set(key, { tokens: this.burst - 1, atMs: now });
      return true;
    }
    // The wall clock may step back; never refill (or drain) for negative time.
    const elapsedMs = Math.max(0, now - b.atMs);
    b.tokens = Math.min(this.burst, b.tokens + (elapsedMs * this.ratePerS) / 1000);
    b.atMs = now;
    // Recently active originators are evicted last.
    this.buckets.touch(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Forgets originators idle for longer than idleMs; returns how many. */
  sweep(): number {
    const cutoff = this.clock.now() - this.idleMs;
    let n = 0;
    for (const [key, b] of this.buckets) {
      // touch() keeps the map in activity order: the first recent one ends the sweep.
      if (b.atMs >= cutoff) break;
      this.buckets.delete(key);
      n++;
    }
    this.expiredCount += n;
    return n;
  }

  get size(): number {
    return this.buckets.size;
  }

  stats(): RateLimiterStats {
    return { size: this.buckets.size, maxEntries: this.buckets.maxEntries, evictions: this.buckets.evictions, expired: this.expiredCount };
  }
}
