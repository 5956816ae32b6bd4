// A bounded, numbered log of recent events that readers follow with a cursor: the chat lines and state
// changes the HTTP API serves by long-poll and server-sent events. Each event gets the next sequence number
// (from 1); a reader asks for the events after the last number it saw, and waits (bounded by a timeout, an
// AbortSignal, and a cap on waiters) when there are none yet.
//
// The journal holds at most `capacity` events; a reader that falls further behind is told how many it missed,
// so it can re-read the source of truth (list the state again). Sequence numbers restart when the process
// does, so every answer carries the journal's `epoch` (random per journal): a reader that gives an epoch other
// than the current one is answered from the start of what is held, with `reset` set.
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from './clock.ts';

export interface JournalEntry<T> {
  seq: number;
  value: T;
}

export interface JournalRead<T> {
  entries: JournalEntry<T>[];
  /** The cursor for the next read: the last sequence number returned, or the one given if none was. */
  next: number;
  /** Events after the cursor that were no longer held (the reader fell behind, or the cursor is from another run). */
  missed: number;
  /** The cursor was from another epoch (the node restarted): the read started over. */
  reset: boolean;
  epoch: string;
}

export interface JournalQuery<T> {
  /** Events after this sequence number; undefined = only events from now on (or the latest `limit` with `tail`). */
  after?: number;
  /** The epoch `after` belongs to; a different one means "from the start of what is held". */
  epoch?: string;
  /** At most this many events per read. */
  limit: number;
  /** Only events that pass (counted neither as returned nor as missed). */
  filter?: (value: T) => boolean;
  /** With `after` undefined: return the latest `limit` events instead of none. */
  tail?: boolean;
}

export class JournalFullError extends Error {
  constructor(max: number) {
    super(`${max} readers are waiting already; try again later`);
    this.name = 'JournalFullError';
  }
}

export class Journal<T> {
  readonly capacity: number;
  readonly epoch: string;
  readonly maxWaiters: number;
  private readonly clock: Clock;
  private readonly ring: (JournalEntry<T> | undefined)[];
  private lastSeq = 0;
  private readonly waiters = new Set<() => void>();
  /** Events pushed out of the full ring. */
  evicted = 0;

  constructor(opts: { clock: Clock; capacity: number; maxWaiters?: number; epoch?: string }) {
    if (!(opts.capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${opts.capacity}`);
    this.clock = opts.clock;
    this.capacity = opts.capacity;
    this.maxWaiters = opts.maxWaiters ?? 256;
    this.epoch = opts.epoch ?? randomBytes(6).toString('base64url');
    this.ring = new Array<JournalEntry<T> | undefined>(opts.capacity);
  }

  /** The sequence number of the latest event (0 before the first). */
  get last(): number {
    return this.lastSeq;
  }

  /** Readers waiting now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** The oldest sequence number still held (last + 1 when empty). */
  get oldest(): number {
    return Math.max(1, this.lastSeq - this.capacity + 1);
  }

  append(value: T): number {
    const seq = ++this.lastSeq;
    if (seq > this.capacity) this.evicted++;
    this.ring[seq % this.capacity] = { seq, value };
    for (const w of [...this.waiters]) w();
    return seq;
  }

  /** What a reader with this query gets now, without waiting. */
  read(q: JournalQuery<T>): JournalRead<T> {
    const reset = q.epoch !== undefined && q.epoch !== this.epoch && q.after !== undefined;
    let after: number;
    if (reset) after = 0;
    else if (q.after === undefined) after = q.tail ? Math.max(0, this.lastSeq - q.limit) : this.lastSeq;
    else after = Math.min(q.after, this.lastSeq);
    const oldest = this.oldest;
    const missed = after + 1 < oldest ? oldest - after - 1 : 0;
    const entries: JournalEntry<T>[] = [];
    let seq = Math.max(after + 1, oldest);
    // With a filter, the tail read takes the latest `limit` that pass.
    if (q.after === undefined && q.tail && q.filter !== undefined && !reset) {
      for (let s = this.lastSeq; s >= oldest && entries.length < q.limit; s--) {
        const e = this.ring[s % this.capacity] as JournalEntry<T>;
        if (q.filter(e.value)) entries.unshift(e);
      }
      return { entries, next: this.lastSeq, missed: 0, reset, epoch: this.epoch };
    }
    let next = after;
    for (; seq <= this.lastSeq && entries.length < q.limit; seq++) {
      const e = this.ring[seq % this.capacity] as JournalEntry<T>;
      next = e.seq;
      if (q.filter === undefined || q.filter(e.value)) entries.push(e);
    }
    // A filtered read that returned fewer than `limit` has looked at everything held.
    if (entries.length < q.limit) next = this.lastSeq;
    return { entries, next, missed: reset ? 0 : missed, reset, epoch: this.epoch };
  }

  /**
   * Like read(), but when nothing is there waits up to `timeoutMs` for an event that passes the filter.
   * Resolves early (with what there is) when `signal` aborts. Throws JournalFullError when `maxWaiters`
   * readers wait already.
   */
  async wait(q: JournalQuery<T>, timeoutMs: number, signal?: AbortSignal): Promise<JournalRead<T>> {
    let r = this.read(q);
    if (r.entries.length > 0 || r.reset || r.missed > 0 || timeoutMs <= 0 || signal?.aborted) return r;
    if (this.waiters.size >= this.maxWaiters) throw new JournalFullError(this.maxWaiters);
    // From here on, read from where the first read stopped (a cursor-less read starts at "now").
    const query: JournalQuery<T> = { ...q, after: r.next, epoch: this.epoch, tail: false };
    let wake: (() => void) | undefined;
    const check = (): void => wake?.();
    this.waiters.add(check);
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer: Timer = this.clock.setTimeout(() => {
      timedOut = true;
      wake?.();
    }, timeoutMs);
    try {
      while (true) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        r = this.read(query);
        if (r.entries.length > 0 || r.missed > 0 || timedOut || signal?.aborted) return r;
      }
    } finally {
      timer.cancel();
      this.waiters.delete(check);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
