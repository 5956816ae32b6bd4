// Routing on 100 and 1,000 simulated nodes (src/sim): the real Router and DataPlane of every node
// (Overlay, E2E sealing included) over in-memory Mycelium links with Mycelium's timers, under virtual
// time. Probes are IPv6 packets injected into a node's device and read from the destination's device.
//
// Figures, for each size, on a scale-free topology (Barabási–Albert, m = 2):
// - cold-start reachability: all nodes and links start at t = 0; every sampled (source, destination)
//   pair sends a probe each second until one is delivered; the figure is the virtual time until every
//   pair has delivered one (the curve of pairs reached over time is charted);
// - control traffic at steady state: mean bytes per node per second of Babel TLVs over a 10-minute
//   window starting 2 minutes after full reachability, with every pair still sending a probe each 10 s;
//   the cold-start transient (the whole first minute) is reported beside it;
// - reroute time: a link in the middle of a sampled pair's path fails, silently (a pulled cable) or by a
//   reset (TCP RST/FIN), while the pair probes every 100 ms; the outage lasts until a probe sent after
//   the failure arrives. Median over the trials.
// Each size runs twice: over Mycelium links (Mycelium's timers: Hello 20 s, dead after 43 s) and over
// native Noise links (the overlay in msg_types 90/91 through the production NativeOverlayBridge, Hypha's
// native timers: Hello 1 s, dead after 3.5 s; the PeerManager dials every link, so the cold start
// includes the dials and hellos). Native control bytes count everything the mesh sends to keep running:
// peer hellos, keepalives, peer exchange and the overlay's Babel TLVs.
//   node bench/routing-sim.ts [--sizes 100,1000] [--kinds mycelium,native] [--quick]
import { Rng, SimNetwork, barabasiAlbert, describe, type LinkKind } from '../src/sim/index.ts';
import { PairProber, samplePairs } from '../src/sim/probe.ts';
import { controlTraffic, outage, reachability, reroutablePairs, type OutageResult } from '../src/sim/scenarios.ts';
import { emit, round, skip } from './lib/emit.ts';

const BENCH = 'routing-sim';
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sizesArg = args.indexOf('--sizes');
const SIZES = sizesArg >= 0 ? args[sizesArg + 1].split(',').map(Number) : quick ? [60] : [100, 1000];
const SEED = 'routing-bench-1';
const WIRE = { latencyMs: 10, jitterMs: 2 };
/** Steady-state window: 10 min (5 min at 1,000 nodes and more, to keep the whole suite near 20 min). */
const steadyWindowMs = (n: number): number => (n >= 1000 ? 5 : 10) * 60_000;
/** Control bytes per node per second the issue asks for at 1,000 nodes. */
const CONTROL_TARGET_BPS = 1024;
const kindsArg = args.indexOf('--kinds');
const KINDS = (kindsArg >= 0 ? args[kindsArg + 1].split(',') : ['mycelium', 'native']) as LinkKind[];

/** Sampled (source, destination) pairs: every one of them probes, so this bounds the probe traffic. */
const PAIRS = 300;

function trialsFor(n: number): number {
  return quick ? 2 : n <= 100 ? 5 : 2;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function runSize(n: number, kind: LinkKind): Promise<void> {
  const t0 = performance.now();
  const topology = barabasiAlbert(n, 2, new Rng(SEED, `topology/${n}`));
  const heap0 = heapUsed();
  const native = kind === 'native';
  const net = new SimNetwork({ seed: SEED, topology, mesh: native, overlay: true, linkKind: kind, wire: WIRE });
  const pairs = samplePairs(n, PAIRS, new Rng(SEED, `pairs/${n}`).fn);
  const prober = new PairProber(net, pairs);
  const links = native ? `native links (PeerManager + overlay in msg_types 90/91, Hypha's native timers)` : `Mycelium links with Mycelium's timers`;
  const on = `${n} simulated nodes, ${topology.name} (mean degree ${describe(topology).meanDegree}), ${links}, ${WIRE.latencyMs} ± ${WIRE.jitterMs} ms`;
  const extra = { topology: describe(topology), pairs: pairs.length, seed: SEED };

  const coldSnap = net.traffic.snapshot();
  const tStart = net.clock.now();
  await net.start();
  const reach = await reachability(net, prober, { intervalMs: 1_000, maxMs: 300_000 });
  const tReach = performance.now();
  const memPerNode = (heapUsed() - heap0) / n / 1024;
  const progress = (what: string) => process.stderr.write(`routing-sim ${n} ${kind}: ${what} after ${((performance.now() - t0) / 1000).toFixed(0)} s real, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB\n`);
  progress(`reachability ${reach.allPairsMs} ms (virtual)`);
  emit({
    bench: BENCH,
    figure: `n${n}_${kind}_cold_start_reach_ms`,
    value: reach.allPairsMs < 0 ? NaN : reach.allPairsMs,
    unit: 'ms (virtual)',
    what: `time from a cold start (all nodes and links up at t = 0) until each of ${pairs.length} random (source, destination) pairs has delivered a packet through the data plane (one probe per second per unreached pair); ${on}`,
    extra: { ...extra, medianPairMs: median(reach.perPairMs.filter((x) => !Number.isNaN(x))), realSeconds: round((tReach - t0) / 1000, 1) },
    series: [{ name: `${n} nodes, ${kind} links`, x: 'virtual ms since cold start', y: '% of pairs delivered', points: reach.curve.map(([x, y]) => [x, round(y, 2)]) }],
  });
  // The first minute: links coming up and every node's /64 spreading as triggered updates.
  await net.advance(Math.max(0, tStart + 60_000 - net.clock.now()));
  const cold = controlTraffic(net, coldSnap, 60_000);

  // Steady state: two minutes to settle, then a 10-minute window with probes every 10 s.
  for (let i = 0; i < 12; i++) {
    prober.sendAll();
    await net.advance(10_000);
  }
  const steadySnap = net.traffic.snapshot();
  const windowMs = steadyWindowMs(n);
  for (let t = 0; t < windowMs; t += 10_000) {
    prober.sendAll();
    await net.advance(10_000);
  }
  const steady = controlTraffic(net, steadySnap, windowMs);
  progress('steady state measured');
  emit({
    bench: BENCH,
    figure: `n${n}_${kind}_control_bytes_per_node_s`,
    value: steady.meanBytesPerNodePerS,
    unit: 'B/s per node',
    what: `${native ? 'control bytes (peer hellos, keepalives, peer exchange, overlay Babel TLVs; envelope bytes)' : 'Babel control bytes'} sent per node per second (mean over nodes) in a ${windowMs / 60_000}-minute steady-state window (from 2 min after full reachability), every pair probing each 10 s; ${on}`,
    ...(n >= 1000 ? { target: { op: '<=' as const, value: CONTROL_TARGET_BPS } } : {}),
    reference: { name: 'cold-start first minute', value: round(cold.meanBytesPerNodePerS, 1) },
    extra: { ...extra, busiestNodeBps: round(steady.maxBytesPerNodePerS, 1), coldStartBusiestNodeBps: round(cold.maxBytesPerNodePerS, 1), dataBytesPerNodePerS: round(steady.byKind[native ? 'native-overlay-data' : 'mycelium-data'], 1), byKindBps: Object.fromEntries(Object.entries(steady.byKind).map(([k, v]) => [k, round(v, 1)])) },
  });

  // Reroute: fail a link in the middle of a pair's path, silently and by reset.
  const candidates = reroutablePairs(net, prober, 3);
  const pick = new Rng(SEED, `reroute/${n}`);
  const trials = pick.shuffle(candidates).slice(0, trialsFor(n));
  for (const how of ['silent', 'closed'] as const) {
    const results: OutageResult[] = [];
    for (const t of trials) {
      // Earlier cuts and heals move routes: fail the middle link of the path the pair uses now.
      const now = reroutablePairs(net, prober, 2, [t.pair])[0];
      if (now !== undefined) results.push(await outage(net, prober, now, how, { probeMs: 100, recoverMs: 90_000 }));
    }
    const ok = results.filter((r) => r.outageMs >= 0).map((r) => r.outageMs);
    emit({
      bench: BENCH,
      figure: `n${n}_${kind}_reroute_${how}_ms`,
      value: ok.length === results.length && ok.length > 0 ? median(ok) : NaN,
      unit: 'ms (virtual)',
      what: `outage when a link in the middle of a ${how === 'silent' ? `pair’s path goes silent (pulled cable: found by the IHU deadline, ${native ? '3.5 s' : '43 s checked every 10 s'})` : 'pair’s path is reset (both ends see it close at once)'}: from the failure until a probe sent after it arrives (probes every 100 ms), median of ${results.length} trials; ${on}`,
      extra: { trials: results.map((r) => ({ link: r.link, outageMs: r.outageMs, hopsBefore: r.before.length - 1, hopsAfter: r.after.length - 1 })) },
    });
  }
  emit({
    bench: BENCH,
    figure: `n${n}_${kind}_memory_per_node_kb`,
    value: memPerNode,
    unit: 'KiB/node',
    what: `JS heap per simulated node at full reachability (Router + DataPlane + HyphaNode${native ? ' + PeerManager + GossipEngine + bridge' : ''}; full routing tables after the cold-start flood), ${n} nodes in one process`,
    extra: { rssMb: round(process.memoryUsage().rss / 1e6, 0), realSeconds: round((performance.now() - t0) / 1000, 1) },
  });
  await net.stop();
}

/**
 * 1,000 nodes on native links do not fit the suite's ~20 minutes on 2 cores: the cold start alone ran
 * over 8 minutes of CPU (every node's Babel TLVs and peer exchanges as signed, encoded envelopes, 4.5 GB
 * of heap) without finishing. Run it on its own with `--sizes 1000 --kinds native`.
 */
const NATIVE_MAX_NODES_IN_SUITE = 100;
const explicitSizes = sizesArg >= 0;
for (const n of SIZES) {
  for (const kind of KINDS) {
    if (kind === 'native' && n > NATIVE_MAX_NODES_IN_SUITE && !explicitSizes) {
      for (const f of ['cold_start_reach_ms', 'control_bytes_per_node_s', 'reroute_silent_ms', 'reroute_closed_ms', 'memory_per_node_kb']) {
        skip(BENCH, `n${n}_native_${f}`, `${n} native nodes do not fit the suite's time budget on this 2-core machine (cold start alone > 8 min of CPU); run node bench/routing-sim.ts --sizes ${n} --kinds native`);
      }
      continue;
    }
    await runSize(n, kind);
  }
}
