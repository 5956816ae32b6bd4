// Every timer and every reading of the time goes through a Clock (DESIGN.md, "Time is injected").
// SystemClock wraps Node's timers; VirtualClock lets tests and the simulator run hours of network
// time in seconds, deterministically.

export interface Timer {
  /** Stops the timer; safe to call more than once. */
  cancel(): void;
  /** Restarts the countdown from now (with a new delay if given), like Node's `timeout.refresh()`. */
  reset(delayMs?: number): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. Monotonic for VirtualClock; wall time for SystemClock. */
  now(): number;
  /** Runs `fn` once after `delayMs`. */
  setTimeout(fn: () => void, delayMs: number): Timer;
  /** Runs `fn` every `intervalMs` until cancelled. */
  setInterval(fn: () => void, intervalMs: number): Timer;
}

/** Whole seconds since the epoch, the unit of every `last_seen` on the Micelio wire. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

class SystemTimer implements Timer {
  private handle: NodeJS.Timeout | undefined;
  private readonly fn: () => void;
  private delayMs: number;
  private readonly repeat: boolean;

  constructor(fn: () => void, delayMs: number, repeat: boolean) {
    this.fn = fn;
    this.delayMs = delayMs;
    this.repeat = repeat;
    this.start();
  }

  private start(): void {
    // Timers never keep the process alive on their own: a node stays up because of its sockets.
    this.handle = this.repeat ? setInterval(this.fn, this.delayMs) : setTimeout(this.fn, this.delayMs);
    this.handle.unref();
  }

  cancel(): void {
    if (this.handle === undefined) return;
    if (this.repeat) clearInterval(this.handle);
    else clearTimeout(this.handle);
    this.handle = undefined;
  }

  reset(delayMs?: number): void {
    if (delayMs !== undefined && delayMs !== this.delayMs) {
      this.cancel();
      this.delayMs = delayMs;
      this.start();
      return;
    }
    if (this.handle === undefined) this.start();
    else this.handle.refresh();
  }
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, delayMs: number): Timer {
    return new SystemTimer(fn, Math.max(0, delayMs), false);
  }
  setInterval(fn: () => void, intervalMs: number): Timer {
    return new SystemTimer(fn, Math.max(1, intervalMs), true);
  }
}

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
  intervalMs: number; // 0 = one-shot
  live: boolean;
}

/** Binary min-heap ordered by (at, seq): equal deadlines fire in scheduling order, so runs are reproducible. */
class TimerHeap {
  private readonly items: Scheduled[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Scheduled | undefined {
    return this.items[0];
  }

  push(item: Scheduled): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): Scheduled | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Scheduled, y: Scheduled): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

/**
 * A VirtualClock timer. A class rather than an object of closures: the simulator creates one per
 * message in flight, so the allocations count.
 */
class VirtualTimer implements Timer {
  private entry: Scheduled;
  private delay: number;
  private readonly clock: VirtualClock;
  private readonly fn: () => void;
  private readonly repeat: boolean;

  constructor(clock: VirtualClock, fn: () => void, delayMs: number, intervalMs: number) {
    this.clock = clock;
    this.fn = fn;
    this.delay = delayMs;
    this.repeat = intervalMs !== 0;
    this.entry = clock.enqueue(fn, delayMs, intervalMs);
  }

  cancel(): void {
    this.entry.live = false;
  }

  reset(newDelay?: number): void {
    this.entry.live = false;
    if (newDelay !== undefined) this.delay = Math.max(0, newDelay);
    this.entry = this.clock.enqueue(this.fn, this.delay, this.repeat ? Math.max(1, this.delay) : 0);
  }
}

/** Lets promise chains and I/O callbacks queued by a timer settle before the next timer fires. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to. `advance()` fires due timers in deadline order and lets the
 * microtasks each one queues run before the next, so code written against Clock behaves as it would
 * in real time.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap = new TimerHeap();

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  /** Number of timers still scheduled (cancelled ones are dropped lazily). */
  get pending(): number {
    return this.heap.size;
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    return this.schedule(fn, Math.max(0, delayMs), 0);
  }

  setInterval(fn: () => void, intervalMs: number): Timer {
    return this.schedule(fn, Math.max(1, intervalMs), Math.max(1, intervalMs));
  }

  private schedule(fn: () => void, delayMs: number, intervalMs: number): Timer {
    return new VirtualTimer(this, fn, delayMs, intervalMs);
  }

  /** @internal VirtualTimer's door into the heap. */
  enqueue(fn: () => void, delayMs: number, intervalMs: number): Scheduled {
    const entry: Scheduled = { at: this.current + delayMs, seq: this.seq++, fn, intervalMs, live: true };
    this.heap.push(entry);
    return entry;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(targetMs: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.at > targetMs) break;
      this.heap.pop();
      if (!next.live) continue;
      this.current = Math.max(this.current, next.at);
      if (next.intervalMs > 0) {
        next.at += next.intervalMs;
        next.seq = this.seq++;
        this.heap.push(next);
      } else {
        next.live = false;
      }
      next.fn();
      await settle();
    }
    this.current = Math.max(this.current, targetMs);
  }

  /**
   * Advances in steps of `stepMs` until `done()` holds or `maxMs` of virtual time has passed.
   * Returns the virtual time it took, or -1 if the condition never held.
   */
  async runUntil(done: () => boolean, maxMs: number, stepMs = 100): Promise<number> {
    const start = this.current;
    if (done()) return 0;
    while (this.current - start < maxMs) {
      await this.advance(Math.min(stepMs, maxMs - (this.current - start)));
      if (done()) return this.current - start;
    }
    return -1;
  }
}
