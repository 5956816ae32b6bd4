// Gossip on 1,000 simulated nodes (src/sim): the real PeerManager and GossipEngine of every node over
// in-memory links with latency and jitter, under virtual time. For each configuration a fresh network
// is built from the seed, every link comes up (hello over the link), then messages are broadcast one at
// a time from random origins and followed node by node: the round (hop) and virtual time at which each
// node first delivered it, and the redundant copies every node received.
//
// Figures: rounds and time to 99 % and 99.9 % of nodes, final coverage, duplicates per node per message
// with Micelio's rule (fanout 3), and the same for fanouts 4–8 and for flooding (every relay sends to
// every neighbour) as references; coverage-by-round curves as a chart; memory per simulated node.
//   node bench/gossip-sim.ts [--nodes 1000] [--messages 20] [--quick]
import { GossipProbe, roundsTo, timeTo, type GossipSpread } from '../src/sim/gossip-probe.ts';
import { IdentityCache, Rng, SimNetwork, barabasiAlbert, describe, randomGeometric, type Topology } from '../src/sim/index.ts';
import { emit, round } from './lib/emit.ts';

const BENCH = 'gossip-sim';
const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');
const N = arg('nodes', quick ? 200 : 1000);
const MESSAGES = arg('messages', quick ? 5 : 20);
const SWEEP_MESSAGES = Math.max(3, Math.round(MESSAGES / 2));
const SEED = 'gossip-bench-1';
const WIRE = { latencyMs: 20, jitterMs: 10 };
/** Long enough for 10 hops of 30 ms: every copy has arrived when it ends. */
const SETTLE_MS = 2_000;
/** A flood: relays send to every neighbour. */
const FLOOD = 1_000_000;

const identities = new IdentityCache();

interface Result {
  topology: Topology;
  fanout: number;
  spreads: GossipSpread[];
  memoryPerNodeKb: number;
  formationMs: number;
  realS: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function run(topology: Topology, fanout: number, messages: number): Promise<Result> {
  const t0 = performance.now();
  const heap0 = heapUsed();
  const net = new SimNetwork({ seed: SEED, topology, wire: WIRE, gossip: { fanout }, identities });
  await net.start();
  const formationMs = await net.runUntil(() => net.allLinksUp(), 120_000, 100);
  if (formationMs < 0) throw new Error(`${topology.name}: only ${net.nativeLinksUp()} of ${topology.edges.length} links came up`);
  await net.advance(5_000);
  const memoryPerNodeKb = (heapUsed() - heap0) / topology.n / 1024;
  const probe = new GossipProbe(net);
  const origins = new Rng(SEED, `origins/${topology.name}`);
  const spreads: GossipSpread[] = [];
  for (let m = 0; m < messages; m++) spreads.push(await probe.spread(origins.int(topology.n), SETTLE_MS));
  await net.stop();
  return { topology, fanout, spreads, memoryPerNodeKb, formationMs, realS: (performance.now() - t0) / 1000 };
}

function label(fanout: number): string {
  return fanout >= FLOOD ? 'flood' : `fanout ${fanout}`;
}

/** Mean coverage (% of nodes) after each round, over the messages of a run. */
function coverageCurve(r: Result): [number, number][] {
  const rounds = Math.max(...r.spreads.map((s) => s.reachedByRound.length));
  const pts: [number, number][] = [];
  for (let k = 0; k < rounds; k++) {
    const c = mean(r.spreads.map((s) => s.reachedByRound[Math.min(k, s.reachedByRound.length - 1)] / s.targets));
    pts.push([k, round(100 * c, 3)]);
  }
  return pts;
}

function summary(r: Result) {
  const s = r.spreads;
  const r99 = s.map((x) => roundsTo(x, 0.99));
  const r999 = s.map((x) => roundsTo(x, 0.999));
  const t99 = s.map((x) => timeTo(x, 0.99));
  const t999 = s.map((x) => timeTo(x, 0.999));
  const reachedAll = (xs: (number | undefined)[]) => xs.every((x) => x !== undefined);
  return {
    coveragePct: 100 * mean(s.map((x) => x.coverage)),
    worstCoveragePct: 100 * Math.min(...s.map((x) => x.coverage)),
    within12Pct: 100 * mean(s.map((x) => x.reachedByRound[Math.min(12, x.reachedByRound.length - 1)] / x.targets)),
    dupPerNode: mean(s.map((x) => x.redundantCopies / (x.targets + 1))),
    sendsPerNode: mean(s.map((x) => x.sends / (x.targets + 1))),
    // Median over messages; undefined when some message never got there (then the median hides it).
    rounds99: reachedAll(r99) ? median(r99 as number[]) : undefined,
    rounds999: reachedAll(r999) ? median(r999 as number[]) : undefined,
    ms99: reachedAll(t99) ? median(t99 as number[]) : undefined,
    ms999: reachedAll(t999) ? median(t999 as number[]) : undefined,
    messagesReaching999: s.filter((x) => roundsTo(x, 0.999) !== undefined).length,
  };
}

const topoRng = new Rng(SEED, 'topology');
const ba = barabasiAlbert(N, 3, topoRng.derive('ba'));
const geo = randomGeometric(N, topoRng.derive('geo'), { avgDegree: 8 });

// 1. The headline: Micelio's rule on the scale-free mesh.
const head = await run(ba, 3, MESSAGES);
const hs = summary(head);
const on = `${N} simulated nodes, ${ba.name} (mean degree ${describe(ba).meanDegree}), links ${WIRE.latencyMs} ± ${WIRE.jitterMs} ms, ${MESSAGES} messages from random origins, Micelio's rule (originator → every neighbour, relays → 3 random neighbours, 10 hops)`;
const common = { topology: describe(ba), messages: MESSAGES, seed: SEED, realSeconds: round(head.realS, 1) };

// 2. References on the same topology: larger fanouts and a flood.
const sweep: Result[] = [];
for (const f of quick ? [5, FLOOD] : [4, 5, 6, 8, FLOOD]) sweep.push(await run(ba, f, SWEEP_MESSAGES));
const flood = summary(sweep[sweep.length - 1]);

emit({
  bench: BENCH,
  figure: 'coverage_pct',
  value: hs.coveragePct,
  unit: '% of nodes',
  what: `share of nodes a message reaches at all (mean over messages); ${on}`,
  target: { op: '>=', value: 99.9 },
  reference: { name: 'flood (every relay → every neighbour)', value: round(flood.coveragePct, 3) },
  extra: { ...common, worstMessagePct: round(hs.worstCoveragePct, 3), messagesReaching99_9pct: hs.messagesReaching999 },
});
emit({
  bench: BENCH,
  figure: 'coverage_within_12_rounds_pct',
  value: hs.within12Pct,
  unit: '% of nodes',
  what: `nodes reached within 12 rounds (hops), mean over messages (target: 99.9 %); ${on}`,
  target: { op: '>=', value: 99.9 },
  reference: { name: 'flood', value: round(flood.within12Pct, 3) },
  extra: common,
});
for (const [figure, v, ref, unit, what, target] of [
  ['rounds_to_99pct', hs.rounds99, flood.rounds99, 'rounds', 'rounds (hops) until 99 % of nodes have the message, median over messages', undefined],
  ['rounds_to_99_9pct', hs.rounds999, flood.rounds999, 'rounds', 'rounds (hops) until 99.9 % of nodes have the message, median over messages', { op: '<=', value: 12 } as const],
  ['time_to_99pct_ms', hs.ms99, flood.ms99, 'ms (virtual)', 'virtual time until 99 % of nodes have the message, median over messages', undefined],
  ['time_to_99_9pct_ms', hs.ms999, flood.ms999, 'ms (virtual)', 'virtual time until 99.9 % of nodes have the message, median over messages', undefined],
] as const) {
  emit({
    bench: BENCH,
    figure,
    // NaN is written as null: "not reached" (some message never got to that share of nodes).
    value: v ?? NaN,
    unit,
    what: `${what}${v === undefined ? ' — NOT REACHED: some messages never got there (hop limit 10 and fanout 3 leave nodes out)' : ''}; ${on}`,
    ...(target ? { target } : {}),
    ...(ref !== undefined ? { reference: { name: 'flood', value: ref } } : {}),
    extra: common,
  });
}
emit({
  bench: BENCH,
  figure: 'duplicates_per_node',
  value: hs.dupPerNode,
  unit: 'copies/node/message',
  what: `redundant copies a node receives per message (duplicates dropped at the seen check, echoes of its own), mean over nodes and messages; ${on}`,
  target: { op: '<=', value: 4 },
  reference: { name: 'flood', value: round(flood.dupPerNode, 3) },
  extra: { ...common, sendsPerNode: round(hs.sendsPerNode, 3) },
});

const all = [head, ...sweep];
emit({
  bench: BENCH,
  figure: 'coverage_by_round',
  value: hs.within12Pct,
  unit: '% of nodes',
  what: `coverage after each round (mean over messages) for each relay fanout, ${ba.name}; value = fanout 3 within 12 rounds`,
  series: all.map((r) => ({ name: label(r.fanout), x: 'round (hops)', y: '% of nodes reached', points: coverageCurve(r) })),
});
for (const r of sweep) {
  const s = summary(r);
  const f = r.fanout >= FLOOD ? 'flood' : `fanout${r.fanout}`;
  emit({
    bench: BENCH,
    figure: `${f}_coverage_pct`,
    value: s.coveragePct,
    unit: '% of nodes',
    what: `${label(r.fanout)}: share of nodes reached, mean over ${r.spreads.length} messages; ${ba.name}; rounds to 99.9 %: ${s.rounds999 ?? 'not reached'}`,
    extra: { rounds99: s.rounds99 ?? null, rounds999: s.rounds999 ?? null, worstMessagePct: round(s.worstCoveragePct, 3) },
  });
  emit({
    bench: BENCH,
    figure: `${f}_duplicates_per_node`,
    value: s.dupPerNode,
    unit: 'copies/node/message',
    what: `${label(r.fanout)}: redundant copies per node per message; ${ba.name}`,
  });
}

// 3. A second shape: a geometric mesh (nodes link to their nearest neighbours; long paths).
const g = await run(geo, 3, SWEEP_MESSAGES);
const gs = summary(g);
emit({
  bench: BENCH,
  figure: 'geometric_coverage_pct',
  value: gs.coveragePct,
  unit: '% of nodes',
  what: `fanout 3 on ${geo.name} (mean degree ${describe(geo).meanDegree}): share of nodes reached, mean over ${g.spreads.length} messages; rounds to 99 %: ${gs.rounds99 ?? 'not reached'}`,
  target: { op: '>=', value: 99.9 },
  extra: { topology: describe(geo), duplicatesPerNode: round(gs.dupPerNode, 3), rounds999: gs.rounds999 ?? null },
});

emit({
  bench: BENCH,
  figure: 'memory_per_node_kb',
  value: head.memoryPerNodeKb,
  unit: 'KiB/node',
  what: `JS heap per simulated node (PeerManager + GossipEngine + HyphaNode, links up, peer tables filled by peer exchange), ${N} nodes in one process`,
  extra: { rssMb: round(process.memoryUsage().rss / 1e6, 0), formationVirtualMs: head.formationMs },
});
