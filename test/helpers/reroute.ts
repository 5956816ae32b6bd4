// The reroute measurement of the issue, on whole in-process nodes (OneNet) under virtual time: a square
// A–B–D, A–C–D of native or of Mycelium links (5 ms on the B side, 8 ms on the C side, so traffic
// starts via B), A pings D every 100 ms, the first link of the path is cut, and the outage is the time
// from the cut to the sending of the first ping that is answered again. Also: steady-state control
// traffic per neighbour. Used by test/dataplane/onenet.test.ts and bench/reroute-native.ts.
import type { MyceliumNeighbour } from '../../src/router/mycelium-neighbour.ts';
import type { Neighbour, TimerProfile } from '../../src/router/neighbour.ts';
import { OneNet } from './onenet.ts';

export type LinkKind = 'native' | 'mycelium';
export type Failure = 'silent' | 'closed';

export interface RerouteResult {
  /** Cut → sending of the first ping answered afterwards. */
  outageMs: number;
  lostPings: number;
  /** Node names of the path's first hop before and after. */
  before: string;
  after: string;
}

export interface SquareOptions {
  timers?: TimerProfile;
  /** Time for link costs to settle before the cut (default 120 s). */
  settleMs?: number;
  /** Extra delay before the cut, to vary its phase against the Hello timers. */
  phaseMs?: number;
  pingIntervalMs?: number;
  /** Give up after this long without a reroute (default 300 s). */
  limitMs?: number;
}

/** Builds the square; returns the net (the caller stops it). */
export async function square(kind: LinkKind, opts: SquareOptions = {}): Promise<OneNet> {
  const net = new OneNet();
  for (const name of ['A', 'B', 'C', 'D']) await net.add(name, { native: kind === 'native', nativeTimers: opts.timers, logLevel: 'warn' });
  const edges: [string, string, number][] = [
    ['A', 'B', 5],
    ['B', 'D', 5],
    ['A', 'C', 8],
    ['C', 'D', 8],
  ];
  for (const [a, b, ms] of edges) {
    if (kind === 'native') await net.native(a, b, ms);
    else net.mycelium(a, b, ms);
  }
  return net;
}

/** The node at the far end of a neighbour of `at`. */
export function farEnd(net: OneNet, at: string, n: Neighbour): string {
  if (n.remoteId !== undefined) {
    for (const x of net.nodes.values()) if (x.id.nodeId === n.remoteId) return x.name;
  }
  const link = (n as MyceliumNeighbour).link;
  for (const [k, w] of net.myceliumWires) {
    const [a, b] = k.split('-');
    if (w.a === link && a === at) return b;
    if (w.b === link && b === at) return a;
  }
  return '?';
}

export function nextHop(net: OneNet, from: string, to: string): string | undefined {
  const nh = net.node(from).overlay.router.nextHopFor(net.node(to).address);
  return nh === undefined ? undefined : farEnd(net, from, nh);
}

export async function measureReroute(kind: LinkKind, failure: Failure, opts: SquareOptions = {}): Promise<RerouteResult> {
  const net = await square(kind, opts);
  try {
    const interval = opts.pingIntervalMs ?? 100;
    const A = net.node('A');
    let seq = 0;
    // Traffic from the start, so routes are found and kept fresh as a long ping would.
    const tick = async (ms: number): Promise<void> => {
      const end = net.clock.now() + ms;
      while (net.clock.now() < end) {
        net.ping('A', 'D', seq++);
        await net.clock.advance(interval);
      }
    };
    await tick((opts.settleMs ?? 120_000) + (opts.phaseMs ?? 0));
    const before = nextHop(net, 'A', 'D');
    if (before === undefined || A.pongs.size === 0) throw new Error(`${kind}: no path A→D before the cut`);
    const w = kind === 'native' ? net.nativeWire('A', before) : net.myceliumWire('A', before);
    const cutAt = net.clock.now();
    const firstSeq = seq;
    if (failure === 'silent') w.cut = true;
    else w.close('reset');
    const limit = opts.limitMs ?? 300_000;
    let answered: number | undefined;
    while (answered === undefined) {
      if (net.clock.now() - cutAt > limit) throw new Error(`${kind}/${failure}: not rerouted within ${limit} ms`);
      await tick(interval);
      for (let s = firstSeq; s < seq; s++) {
        if (A.pongs.has(s)) {
          answered = s;
          break;
        }
      }
    }
    return {
      outageMs: (A.pings.get(answered) ?? cutAt) - cutAt,
      lostPings: answered - firstSeq,
      before,
      after: nextHop(net, 'A', 'D') ?? '?',
    };
  } finally {
    await net.stop();
  }
}

export interface ControlTraffic {
  /** Bytes of protocol units (envelopes or Mycelium packets) one node sends one neighbour per second. */
  unitBytesPerS: number;
  messagesPerS: number;
  /** The same on a TCP stream: native adds the Micelio frame header and Noise length + tag per message. */
  wireBytesPerS: number;
}

/** Per message on a native TCP link: 8-byte Micelio frame header, 4-byte Noise length, 16-byte tag. */
export const NATIVE_WIRE_OVERHEAD_BYTES = 8 + 4 + 16;

/**
 * Idle square (no data, no peer exchange), links settled: the average control traffic one node sends
 * one neighbour over `windowMs`.
 */
export async function measureControlTraffic(kind: LinkKind, opts: { timers?: TimerProfile; settleMs?: number; windowMs?: number } = {}): Promise<ControlTraffic> {
  const net = new OneNet();
  try {
    // Peer exchange and keepalives are the native link's own traffic, not the overlay's.
    const quiet = { exchangeIntervalMs: 24 * 3600_000 };
    for (const name of ['A', 'B', 'C', 'D']) await net.add(name, { native: kind === 'native', nativeTimers: opts.timers, logLevel: 'warn', peers: quiet });
    const edges: [string, string][] = [
      ['A', 'B'],
      ['B', 'D'],
      ['A', 'C'],
      ['C', 'D'],
    ];
    const wires = edges.map(([a, b]) => (kind === 'native' ? undefined : net.mycelium(a, b)));
    for (const [a, b] of edges) if (kind === 'native') await net.native(a, b);
    const ws = kind === 'native' ? edges.map(([a, b]) => net.nativeWire(a, b)) : wires.map((w) => w!);
    await net.clock.advance(opts.settleMs ?? 120_000);
    const snap = () => ws.flatMap((w) => [w.a.stats(), w.b.stats()]).reduce((s, x) => ({ bytes: s.bytes + x.txBytes, msgs: s.msgs + x.txMessages }), { bytes: 0, msgs: 0 });
    const s0 = snap();
    const windowMs = opts.windowMs ?? 600_000;
    await net.clock.advance(windowMs);
    const s1 = snap();
    const ends = ws.length * 2;
    const bytes = (s1.bytes - s0.bytes) / ends / (windowMs / 1000);
    const msgs = (s1.msgs - s0.msgs) / ends / (windowMs / 1000);
    const overhead = kind === 'native' ? NATIVE_WIRE_OVERHEAD_BYTES : 0;
    return { unitBytesPerS: bytes, messagesPerS: msgs, wireBytesPerS: bytes + overhead * msgs };
  } finally {
    await net.stop();
  }
}
