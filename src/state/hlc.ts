// The hybrid logical clock that stamps this node's state entries: ts = (unix ms << 16) | counter. It
// reads like a wall-clock time, orders this node's writes strictly, and never goes backwards — not when
// the wall clock steps back, and not across a restart: before a timestamp is used, a floor above it is
// made durable, and a restarted node starts above that floor.
import type { Clock } from '../base/clock.ts';

export const HLC_COUNTER_BITS = 16n;
const COUNTER_MASK = (1n << HLC_COUNTER_BITS) - 1n;
/** How far ahead of the last timestamp a persisted floor reaches: one floor write per 10 s of writes. */
export const FLOOR_RESERVE_MS = 10_000;
/**
 * A peer's timestamp is witnessed (our clock moves past it) only up to this far ahead of our wall
 * clock, so one node with a wrong clock cannot drag every other node's clock into the future.
 */
export const MAX_WITNESS_SKEW_MS = 60_000;

export function hlcFromMs(ms: number, counter = 0): bigint {
  return (BigInt(Math.max(0, Math.floor(ms))) << HLC_COUNTER_BITS) | BigInt(counter);
}

/** The wall-clock part of a timestamp, in unix ms. */
export function hlcMs(ts: bigint): number {
  return Number(ts >> HLC_COUNTER_BITS);
}

export function hlcCounter(ts: bigint): number {
  return Number(ts & COUNTER_MASK);
}

export interface HybridClockOptions {
  clock: Clock;
  /** The highest timestamp known to have been issued or reserved before (persisted floor, own entries). */
  floor: bigint;
  /** Makes a new floor durable; the clock issues nothing above a floor that is not durable yet. */
  persistFloor: (floor: bigint) => Promise<void>;
  maxWitnessSkewMs?: number;
  floorReserveMs?: number;
}

export class HybridClock {
  private readonly clock: Clock;
  private readonly persist: (floor: bigint) => Promise<void>;
  private readonly skewMs: number;
  private readonly reserve: bigint;
  private lastTs: bigint;
  /** Highest floor handed to persist(); `durable` is the highest one whose write completed. */
  private reserved: bigint;
  private durable: bigint;
  private inFlight: Promise<void> | undefined;

  constructor(o: HybridClockOptions) {
    this.clock = o.clock;
    this.persist = o.persistFloor;
    this.skewMs = o.maxWitnessSkewMs ?? MAX_WITNESS_SKEW_MS;
    this.reserve = BigInt(o.floorReserveMs ?? FLOOR_RESERVE_MS) << HLC_COUNTER_BITS;
    this.lastTs = o.floor;
    this.reserved = o.floor;
    this.durable = o.floor;
  }

  /** The last timestamp issued or witnessed. */
  get last(): bigint {
    return this.lastTs;
  }

  /** The floor a restart would begin above (durable). */
  get floor(): bigint {
    return this.durable;
  }

  /** The next timestamp, synchronously: strictly above everything issued or witnessed. Not yet safe to use. */
  private tick(): bigint {
    const wall = hlcFromMs(this.clock.now());
    this.lastTs = wall > this.lastTs ? wall : this.lastTs + 1n;
    return this.lastTs;
  }

  /** The next timestamp, resolved once a floor at or above it is durable. */
  async next(): Promise<bigint> {
    const ts = this.tick();
    while (this.durable < ts) {
      if (this.reserved < ts) {
        const target = ts + this.reserve;
        this.reserved = target;
        const write = (this.inFlight ?? Promise.resolve()).then(() => this.persist(target)).then(() => {
          if (target > this.durable) this.durable = target;
        });
        // A failed floor write fails this call; the next call tries again from the last durable floor.
        this.inFlight = write.catch(() => {
          this.reserved = this.durable;
        });
        await write;
      } else {
        await this.inFlight;
      }
    }
    return ts;
  }

  /**
   * Moves the clock past a timestamp seen on an entry, so later writes here order after it; a timestamp
   * more than maxWitnessSkewMs ahead of the wall clock is only followed up to that bound.
   * `unbounded` is for this node's own entries coming back from peers (after a data loss).
   */
  witness(ts: bigint, unbounded = false): void {
    let t = ts;
    if (!unbounded) {
      const cap = hlcFromMs(this.clock.now() + this.skewMs);
      if (t > cap) t = cap;
    }
    if (t > this.lastTs) this.lastTs = t;
  }
}
