// Measurements built from the simulator's pieces, shared by the benchmarks and the tests, and the same
// for every kind of link: reachability from a cold start, the outage a link failure causes, control
// traffic per node over a window. Each says exactly what it measures, so a figure can quote it.
import type { SimNetwork } from './network.ts';
import { adjacency, bfs } from './topology.ts';
import type { PairProber } from './probe.ts';
import { CONTROL_KINDS, TRAFFIC_KINDS, type TrafficKind } from './traffic.ts';

export interface ReachabilityResult {
  /**
   * Virtual ms from the start until every pair had delivered at least one probe (each source sends one
   * probe per interval to each destination not yet reached); -1 if some pair never did within the limit.
   */
  allPairsMs: number;
  /** Per pair: virtual ms from the start to its first delivered probe (NaN = never). */
  perPairMs: number[];
  /** Share of pairs reached over time: [ms, %] at every interval. */
  curve: [number, number][];
}

/**
 * Probes every unreached pair each `intervalMs` from now until all have delivered once (or `maxMs`).
 * Run right after `net.start()` for the cold-start figure.
 */
export async function reachability(net: SimNetwork, prober: PairProber, opts: { intervalMs?: number; maxMs?: number } = {}): Promise<ReachabilityResult> {
  const interval = opts.intervalMs ?? 1_000;
  const maxMs = opts.maxMs ?? 300_000;
  const t0 = net.clock.now();
  prober.reset();
  const curve: [number, number][] = [[0, 0]];
  while (net.clock.now() - t0 < maxMs) {
    if (prober.sendUnreached() === 0) break;
    await net.advance(interval);
    curve.push([net.clock.now() - t0, (100 * prober.reached) / prober.pairs.length]);
  }
  const perPairMs = Array.from(prober.firstArrivalMs, (t) => t - t0);
  const all = perPairMs.every((t) => !Number.isNaN(t)) ? Math.max(...perPairMs) : -1;
  return { allPairsMs: all, perPairMs, curve };
}

export interface OutageResult {
  pair: number;
  /** The link that failed. */
  link: [number, number];
  how: 'silent' | 'closed';
  /** Virtual ms from the failure until the first probe sent after it arrived; -1 = never within the limit. */
  outageMs: number;
  /** The path before and after. */
  before: number[];
  after: number[];
}

/**
 * Pairs whose current path has at least `minHops` hops and keeps an alternative when the link at
 * `linkIndex` along it fails (the topology minus that link still connects them). Paths are read now:
 * after a fault and its healing, call it again (`only` = the pairs to look at).
 */
export function reroutablePairs(net: SimNetwork, prober: PairProber, minHops = 2, only?: readonly number[]): { pair: number; link: [number, number]; path: number[] }[] {
  const out: { pair: number; link: [number, number]; path: number[] }[] = [];
  prober.pairs.forEach(([s, d], k) => {
    if (only !== undefined && !only.includes(k)) return;
    const p = net.path(s, d);
    if (p.result !== 'reached' || p.path.length - 1 < minHops) return;
    // Fail the middle link: neither end is the source or destination itself when the path allows.
    const i = Math.floor((p.path.length - 2) / 2);
    const link: [number, number] = [p.path[i], p.path[i + 1]];
    const edges = net.topology.edges.filter(([a, b]) => !((a === link[0] && b === link[1]) || (a === link[1] && b === link[0])));
    if (!bfs(adjacency({ n: net.topology.n, edges }), s).has(d)) return;
    out.push({ pair: k, link, path: p.path });
  });
  return out;
}

/**
 * Fails `link` ('silent': a pulled cable, nobody is told; 'closed': a reset both ends see) while the
 * pair sends a probe every `probeMs`; the outage ends when a probe sent after the failure arrives.
 * The link is healed afterwards and the network given `recoverMs` to settle.
 */
export async function outage(
  net: SimNetwork,
  prober: PairProber,
  target: { pair: number; link: [number, number]; path: number[] },
  how: 'silent' | 'closed',
  opts: { probeMs?: number; maxMs?: number; recoverMs?: number } = {},
): Promise<OutageResult> {
  const probeMs = opts.probeMs ?? 100;
  const maxMs = opts.maxMs ?? 300_000;
  const [s, d] = prober.pairs[target.pair];
  const cutAt = net.clock.now();
  let restoredAt = -1;
  const previous = prober.onArrival;
  prober.onArrival = (k, sentAt, arrivedAt) => {
    previous?.(k, sentAt, arrivedAt);
    if (k === target.pair && sentAt >= cutAt && restoredAt < 0) restoredAt = arrivedAt;
  };
  if (how === 'silent') net.cutLink(target.link[0], target.link[1]);
  else net.closeLink(target.link[0], target.link[1], 'connection reset');
  while (restoredAt < 0 && net.clock.now() - cutAt < maxMs) {
    prober.send(target.pair);
    await net.advance(probeMs);
  }
  const after = net.path(s, d).path;
  prober.onArrival = previous;
  if (how === 'silent') net.healLink(target.link[0], target.link[1]);
  await net.advance(opts.recoverMs ?? 60_000);
  return { pair: target.pair, link: target.link, how, outageMs: restoredAt < 0 ? -1 : restoredAt - cutAt, before: target.path, after };
}

export interface ControlTraffic {
  windowMs: number;
  /** Mean over nodes of control bytes sent per second. */
  meanBytesPerNodePerS: number;
  /** The busiest node's. */
  maxBytesPerNodePerS: number;
  /** Bytes per second per node by kind (mean over nodes), every kind. */
  byKind: Record<TrafficKind, number>;
}

/** Control traffic per node over a window that ended now, given the snapshot taken at its start. */
export function controlTraffic(net: SimNetwork, from: ReturnType<SimNetwork['traffic']['snapshot']>, windowMs: number, kinds: readonly TrafficKind[] = CONTROL_KINDS): ControlTraffic {
  const s = windowMs / 1000;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < net.nodes.length; i++) {
    const b = net.traffic.bytesOf(i, kinds, from) / s;
    sum += b;
    if (b > max) max = b;
  }
  const totals = net.traffic.totals(from);
  const byKind = {} as Record<TrafficKind, number>;
  for (const k of TRAFFIC_KINDS) byKind[k] = totals[k].bytes / s / net.nodes.length;
  return { windowMs, meanBytesPerNodePerS: sum / net.nodes.length, maxBytesPerNodePerS: max, byKind };
}
