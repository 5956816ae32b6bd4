// Issue #6's reroute with real processes (root): four `hypha run` nodes with TUN in network namespaces, the
// square A–B–D, A–C–D; A runs `ping -6 -i 0.2` to D and the veth of A's active path is taken down (a silent
// cut: no FIN, no RST). The outage, read from ping's output, is the time from the cut to the sending of the
// first echo request answered again. Once over native links (Hypha's timers, target under 5 s) and once over
// Mycelium tcp:// links (Mycelium's timers, about 45 s): one measurement each per run, since the Mycelium one
// alone takes a minute. bench/reroute-native.ts measures the same square in one process on virtual time,
// at ten cut phases.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emit, skip } from './lib/emit.ts';
import { hyphaNetnsSkipReason, rerouteSquare, type SquareKind, type SquareResult } from '../test/helpers/hypha-netns.ts';
import { NetnsLab } from '../test/helpers/netns.ts';

const BENCH = 'reroute-netns';
const DEADLINE_MS: Record<SquareKind, number> = { native: 60_000, mycelium: 180_000 };

async function measure(kind: SquareKind): Promise<SquareResult> {
  const base = await mkdtemp(join(tmpdir(), `hypha-bench-reroute-${kind}-`));
  const lab = await NetnsLab.create(4);
  try {
    return await rerouteSquare(lab, base, kind, DEADLINE_MS[kind]);
  } finally {
    await lab.destroy();
    await rm(base, { recursive: true, force: true });
  }
}

function extra(r: SquareResult): Record<string, unknown> {
  return { lostPings: r.lostPings, gapBetweenRepliesMs: Math.round(r.gapMs), cutFirstHop: r.before, afterFirstHop: r.after, firstPingMs: Math.round(r.firstPingMs) };
}

const why = await hyphaNetnsSkipReason();
if (why !== undefined) {
  skip(BENCH, 'reroute_native_ms', why);
  skip(BENCH, 'reroute_mycelium_ms', why);
} else {
  const native = await measure('native');
  let mycelium: SquareResult | undefined;
  try {
    mycelium = await measure('mycelium');
  } catch (e) {
    process.stderr.write(`${BENCH}: the Mycelium square failed: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  emit({
    bench: BENCH,
    figure: 'reroute_native_ms',
    value: Math.round(native.outageMs),
    unit: 'ms',
    what: 'A→D ping outage after the active first link of a square of native links (4 hypha run processes with TUN in network namespaces, veth links) goes down silently; ping every 200 ms',
    target: { op: '<=', value: 5_000 },
    ...(mycelium ? { reference: { name: 'same square on Mycelium links', value: Math.round(mycelium.outageMs) } } : {}),
    extra: extra(native),
  });
  if (mycelium) {
    emit({
      bench: BENCH,
      figure: 'reroute_mycelium_ms',
      value: Math.round(mycelium.outageMs),
      unit: 'ms',
      what: 'the same square over Mycelium tcp:// links with Mycelium\'s timers (a silent neighbour is dead 43 s after its last IHU, checked every 10 s)',
      extra: extra(mycelium),
    });
  } else {
    skip(BENCH, 'reroute_mycelium_ms', 'the Mycelium square did not reroute in time (see stderr)');
  }
}
