// In-memory links for tests and the simulator: a pair of Link ends joined by a wire whose latency,
// jitter, loss and bandwidth are configurable, and which can be cut (blackholed) and healed. Delivery
// goes through the injected Clock, so under a VirtualClock the whole network is deterministic.
import type { Clock, Timer } from '../base/clock.ts';
import { allocateLinkId, type Link, type LinkEvents, type LinkProtocol, type LinkStats } from './link.ts';

export interface WireOptions {
  protocol: LinkProtocol;
  latencyMs?: number;
  jitterMs?: number;
  /** Probability in [0, 1) that a message is lost. */
  loss?: number;
  /** Bits per second; 0 or absent = unlimited. */
  bandwidthBps?: number;
  /** Messages in flight per direction before send() refuses (default 4096). */
  maxQueue?: number;
  /** Deterministic randomness for jitter and loss; Math.random if absent. */
  random?: () => number;
  /** X25519 keys each end presents as `remoteStatic` of the other (native links). */
  staticA?: Uint8Array;
  staticB?: Uint8Array;
  /** Labels for addresses. */
  nameA?: string;
  nameB?: string;
  /** Sees every message sent and every close (the simulator counts traffic and redials closed links). */
  observer?: WireObserver;
}

export interface WireObserver {
  /** A message accepted by send() on `from` (counted even if the wire then loses it). */
  sent?(from: MemoryLink, msg: Uint8Array): void;
  /** `end` closed (each end reports once). */
  closed?(end: MemoryLink, reason: string): void;
}

/** Both ends of an in-memory link and the switches a test or the simulator flips. */
export class MemoryWire {
  readonly a: MemoryLink;
  readonly b: MemoryLink;
  readonly clock: Clock;
  latencyMs: number;
  jitterMs: number;
  loss: number;
  bandwidthBps: number;
  readonly maxQueue: number;
  readonly random: () => number;
  readonly observer: WireObserver | undefined;
  /** While cut, everything sent is silently lost in both directions, like a pulled cable. */
  cut = false;

  constructor(clock: Clock, opts: WireOptions) {
    this.clock = clock;
    this.latencyMs = opts.latencyMs ?? 0;
    this.jitterMs = opts.jitterMs ?? 0;
    this.loss = opts.loss ?? 0;
    this.bandwidthBps = opts.bandwidthBps ?? 0;
    this.maxQueue = opts.maxQueue ?? 4096;
    this.random = opts.random ?? Math.random;
    this.observer = opts.observer;
    const nameA = opts.nameA ?? 'a';
    const nameB = opts.nameB ?? 'b';
    this.a = new MemoryLink(this, opts.protocol, 'outbound', `mem:${nameA}`, `mem:${nameB}`, opts.staticB);
    this.b = new MemoryLink(this, opts.protocol, 'inbound', `mem:${nameB}`, `mem:${nameA}`, opts.staticA);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  /** Closes both ends, as a TCP reset would. */
  close(reason = 'wire closed'): void {
    this.a.close(reason);
    this.b.close(reason);
  }
}

export class MemoryLink implements Link {
  readonly id = allocateLinkId();
  readonly transport = 'memory' as const;
  readonly protocol: LinkProtocol;
  readonly direction: 'inbound' | 'outbound';
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remoteStatic: Uint8Array | undefined;
  peer!: MemoryLink;
  private readonly wire: MemoryWire;
  private events: LinkEvents | undefined;
  private readonly early: Uint8Array[] = [];
  private isClosed = false;
  private inFlight = 0;
  private busyUntilMs = 0;
  private lastArrivalMs = 0;
  private idleMs = 0;
  private idleTimer: Timer | undefined;
  private readonly st: LinkStats;

  constructor(
    wire: MemoryWire,
    protocol: LinkProtocol,
    direction: 'inbound' | 'outbound',
    local: string,
    remote: string,
    remoteStatic: Uint8Array | undefined,
  ) {
    this.wire = wire;
    this.protocol = protocol;
    this.direction = direction;
    this.localAddress = local;
    this.remoteAddress = remote;
    this.remoteStatic = remoteStatic;
    const now = wire.clock.now();
    this.st = { txBytes: 0, rxBytes: 0, txMessages: 0, rxMessages: 0, dropped: 0, lastRxMs: now, lastTxMs: now };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  attach(events: LinkEvents): void {
    this.events = events;
    for (const m of this.early.splice(0)) if (!this.isClosed) events.onMessage(m);
  }

  send(msg: Uint8Array): boolean {
    const w = this.wire;
    if (this.isClosed || this.inFlight >= w.maxQueue) {
      this.st.dropped++;
      return false;
    }
    const now = w.clock.now();
    this.st.txBytes += msg.length;
    this.st.txMessages++;
    this.st.lastTxMs = now;
    w.observer?.sent?.(this, msg);
    if (w.cut || (w.loss > 0 && w.random() < w.loss)) return true;
    // Serialisation delay models bandwidth; arrivals never overtake each other, like a TCP stream.
    let departMs = now;
    if (w.bandwidthBps > 0) {
      departMs = Math.max(now, this.busyUntilMs) + (msg.length * 8 * 1000) / w.bandwidthBps;
      this.busyUntilMs = departMs;
    }
    const jitter = w.jitterMs > 0 ? w.random() * w.jitterMs : 0;
    const arrival = Math.max(departMs + w.latencyMs + jitter, this.lastArrivalMs);
    this.lastArrivalMs = arrival;
    const copy = msg.slice();
    this.inFlight++;
    w.clock.setTimeout(() => {
      this.inFlight--;
      if (!w.cut) this.peer.deliver(copy);
    }, arrival - now);
    return true;
  }

  private deliver(msg: Uint8Array): void {
    if (this.isClosed) return;
    this.st.rxBytes += msg.length;
    this.st.rxMessages++;
    this.st.lastRxMs = this.wire.clock.now();
    this.idleTimer?.reset();
    if (this.events) this.events.onMessage(msg);
    else this.early.push(msg);
  }

  setIdleTimeout(ms: number): void {
    this.idleMs = ms;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    if (ms > 0 && !this.isClosed) this.idleTimer = this.wire.clock.setTimeout(() => this.close('idle timeout'), ms);
  }

  close(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.idleTimer?.cancel();
    this.events?.onClose(reason);
    this.wire.observer?.closed?.(this, reason);
    // The other end notices a clean close at once, as it would a TCP FIN (a cut wire stays silent).
    if (!this.wire.cut) this.peer.close(`remote closed: ${reason}`);
  }

  stats(): LinkStats {
    return { ...this.st };
  }

  /** The idle timeout currently armed, for tests. */
  get idleTimeoutMs(): number {
    return this.idleMs;
  }
}
