// How long A→D pings go unanswered when a link of the square A–B–D, A–C–D fails, on native links
// (Hypha's timers) beside the same square of Mycelium links (Mycelium's timers), and what the native
// timers cost in steady-state control traffic. Whole nodes in one process (peer manager, bridge,
// router, data plane with E2E encryption, in-memory links of 5 ms / 8 ms) under virtual time, so every
// figure is deterministic. The cut is made at ten phases against the Hello timers; the figure is the
// worst of them. The series compare candidate native timer profiles (how NATIVE_TIMERS was chosen).
import { emit } from './lib/emit.ts';
import { NATIVE_TIMERS, type TimerProfile } from '../src/router/neighbour.ts';
import { measureControlTraffic, measureReroute, type Failure, type LinkKind } from '../test/helpers/reroute.ts';

const PHASES = 10;

async function outages(kind: LinkKind, failure: Failure, timers?: TimerProfile): Promise<number[]> {
  const cycleMs = (timers ?? (kind === 'native' ? NATIVE_TIMERS : undefined))?.helloIntervalMs ?? 20_000;
  const out: number[] = [];
  for (let k = 0; k < PHASES; k++) {
    const r = await measureReroute(kind, failure, { timers, phaseMs: Math.round((k * cycleMs) / PHASES) + 37 * k });
    if (r.after === r.before) throw new Error(`${kind}/${failure}: traffic still goes via ${r.before}`);
    out.push(r.outageMs);
  }
  return out;
}

const stats = (xs: number[]) => ({ worst: Math.max(...xs), best: Math.min(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length });

function profile(helloMs: number): TimerProfile {
  // Dead after three and a half Hello intervals without an IHU, checked twice per Hello.
  return { ...NATIVE_TIMERS, helloIntervalMs: helloMs, ihuIntervalMs: 3 * helloMs, deadAfterMs: 3.5 * helloMs, deadCheckIntervalMs: helloMs / 2 };
}

const native = stats(await outages('native', 'silent'));
const mycelium = stats(await outages('mycelium', 'silent'));
const candidates = [500, 1_000, 2_000, 4_000];
const outagePoints: [number, number][] = [];
const bytesPoints: [number, number][] = [];
for (const h of candidates) {
  outagePoints.push([h, stats(await outages('native', 'silent', profile(h))).worst]);
  bytesPoints.push([h, (await measureControlTraffic('native', { timers: profile(h) })).wireBytesPerS]);
}

emit({
  bench: 'reroute-native',
  figure: 'reroute_ms',
  value: native.worst,
  unit: 'ms',
  what: `A→D pings lost after the A–B link of a square of native links goes silent (worst of ${PHASES} cut phases; virtual time, 5/8 ms links, ping every 100 ms)`,
  target: { op: '<=', value: 5_000 },
  reference: { name: 'same square on Mycelium links', value: mycelium.worst },
  series: [{ name: 'worst outage vs native Hello interval (dead after 3.5 intervals)', x: 'Hello interval (ms)', y: 'outage (ms)', points: outagePoints }],
  extra: { nativeMeanMs: native.mean, nativeBestMs: native.best, myceliumMeanMs: mycelium.mean, myceliumBestMs: mycelium.best, timers: NATIVE_TIMERS },
});

const closedNative = stats(await outages('native', 'closed'));
const closedMycelium = stats(await outages('mycelium', 'closed'));
emit({
  bench: 'reroute-native',
  figure: 'reroute_closed_ms',
  value: closedNative.worst,
  unit: 'ms',
  what: 'the same when the A–B link closes (a TCP reset or FIN): the neighbour goes with the link and another route is selected at once',
  reference: { name: 'Mycelium links', value: closedMycelium.worst },
});

const ctlNative = await measureControlTraffic('native');
const ctlMycelium = await measureControlTraffic('mycelium');
emit({
  bench: 'reroute-native',
  figure: 'control_bytes_per_s_per_neighbour',
  value: ctlNative.wireBytesPerS,
  unit: 'B/s',
  what: 'steady-state overlay control traffic one node sends one native neighbour (Hello, IHU, Updates; TCP payload incl. Micelio frame header and Noise length + tag), idle square, 10 min',
  reference: { name: 'Mycelium link, Mycelium timers', value: ctlMycelium.wireBytesPerS },
  series: [{ name: 'native control traffic vs Hello interval', x: 'Hello interval (ms)', y: 'B/s per neighbour', points: bytesPoints }],
  extra: { envelopeBytesPerS: ctlNative.unitBytesPerS, messagesPerS: ctlNative.messagesPerS, myceliumMessagesPerS: ctlMycelium.messagesPerS },
});
