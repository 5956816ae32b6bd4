// How long traffic is cut off when a link fails, with Mycelium's timers, in the square A–B–D, A–C–D
// of in-memory links under virtual time (5 ms per link). Two figures, one JSON line each: a link that
// goes silent (a pulled cable: found by the 43 s IHU deadline, checked every 10 s) and a link that
// closes (TCP reset/FIN: rerouted at once). Traffic A→D is probed every 100 ms as a data plane would.
import { SimNet } from '../test/router/sim.ts';
import { emit } from './lib/emit.ts';

async function outage(kind: 'silent' | 'closed'): Promise<number> {
  const net = new SimNet(4, { seed: 42, latencyMs: 5 });
  const [A, B, C, D] = [0, 1, 2, 3];
  net.connect(A, B);
  net.connect(B, D);
  net.connect(A, C, 8); // slightly longer, so the first path is via B
  net.connect(C, D, 8);
  await net.clock.advance(120_000); // link costs settle
  net.nodes[A].router.requestRoute(net.nodes[D].address);
  await net.clock.advance(1_000);
  const first = net.path(A, D);
  if (first.result !== 'reached') throw new Error('no initial path');
  const via = first.path[1];
  const w = net.wire(A, via);
  const cutAt = net.clock.now();
  if (kind === 'silent') w.cut = true;
  else w.close('reset');
  for (;;) {
    await net.clock.advance(100);
    const p = net.path(A, D);
    if (p.result === 'reached' && p.path[1] !== via) break;
    if (p.result !== 'reached') net.nodes[A].router.requestRoute(net.nodes[D].address);
    if (net.clock.now() - cutAt > 600_000) throw new Error('never rerouted');
  }
  const ms = net.clock.now() - cutAt;
  net.stop();
  return ms;
}

for (const kind of ['silent', 'closed'] as const) {
  const ms = await outage(kind);
  emit({
    bench: 'reroute-mycelium',
    figure: kind === 'silent' ? 'reroute_ms' : 'reroute_closed_ms',
    value: ms,
    unit: 'ms',
    what: `routers only (SimNet), square of Mycelium links with Mycelium's timers: time until A's route to D avoids the A–B link after it ${kind === 'silent' ? 'goes silent' : 'closes'} (virtual time; whole nodes: bench/reroute-native.ts)`,
  });
}
