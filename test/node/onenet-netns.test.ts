// Issue #6's acceptance in network namespaces (root): `hypha run` processes with TUN.
//
// 1. One network: a Hypha mesh A–B–C over native links (TCP + Noise), and D, a Hypha node that runs the
//    overlay on Mycelium links only, peered with C over tcp://. C runs both kinds and joins the two.
//    ping -6 and a TCP transfer from A reach D's overlay address; D routes to A's /64 through its link to C;
//    C's `hypha peers list` shows both kinds with their link cost.
// 2. Reroute: the square A–B–D, A–C–D of native links; A pings D every 200 ms and the link of A's active
//    path is taken down silently. The outage is measured from the ping output and reported, not asserted
//    (bench/reroute-netns.ts puts the same measurement beside its target).
//
// The third acceptance item, a Go-Micelio-like peer that gets chat and peer exchange and never an overlay
// envelope, is test/peers/micelio-overlay.test.ts (in one process) and test/api/hypha-peers.test.ts (a hello
// of version 0.1.0 over a real Noise socket to a node whose native link to a Hypha peer carries the overlay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { HyphaPeers } from '../../src/api/services.ts';
import {
  HYPHA_BIN, NETNS_API, hyphaNetnsSkipReason, myceliumEndpoint, nativeAddr, pingSteady, pingUntilAnswered, rerouteSquare,
  startHyphaInNetns, stopCleanly, tcpEchoOverOverlay, viaAddress, waitForRoute,
} from '../helpers/hypha-netns.ts';
import { tempBase } from '../helpers/hypha-nodes.ts';
import { NetnsLab, waitFor } from '../helpers/netns.ts';

const ECHO_BYTES = 256 * 1024;
/** Give-up point for the reroute on native links (it takes about 4 s): generous for a loaded machine. */
const NATIVE_REROUTE_DEADLINE_MS = 30_000;

test('one network: A–B–C over native links, D on Mycelium links only peered with C; ping, TCP and D\'s route to A', { timeout: 90_000 }, async (t) => {
  const why = await hyphaNetnsSkipReason();
  if (why !== undefined) return t.skip(why);
  const base = await tempBase(t, 'hypha-netns-onenet-');
  const lab = await NetnsLab.create(4, t);
  const [nsA, nsB, nsC, nsD] = [0, 1, 2, 3].map((i) => lab.ns(i));
  const ab = await lab.connect(nsA, nsB);
  const bc = await lab.connect(nsB, nsC);
  const cd = await lab.connect(nsC, nsD);

  // Native links: A dials B, B dials C. D makes no native links and dials C's Mycelium listener.
  const [c, d] = await Promise.all([
    startHyphaInNetns({ name: 'C', ns: nsC, dataDir: join(base, 'c'), listen: nativeAddr(bc.b.ipv6) }),
    startHyphaInNetns({ name: 'D', ns: nsD, dataDir: join(base, 'd'), overlayLinks: 'mycelium', peers: [myceliumEndpoint(cd.a.ipv6)] }),
  ]);
  const b = await startHyphaInNetns({ name: 'B', ns: nsB, dataDir: join(base, 'b'), listen: nativeAddr(ab.b.ipv6), bootstrap: [nativeAddr(bc.b.ipv6)] });
  const a = await startHyphaInNetns({ name: 'A', ns: nsA, dataDir: join(base, 'a'), bootstrap: [nativeAddr(ab.b.ipv6)] });

  // ping -6 from A to D's overlay address: the first packets wait while the route is found.
  const firstMs = await pingUntilAnswered(nsA, d.address, 60_000);
  t.diagnostic(`first ping A → D answered after ${Math.round(firstMs)} ms (route discovery included)`);
  await pingSteady(nsA, d.address);

  // C bridges the two kinds: `hypha peers list` shows its native peer B and its Mycelium peer D, each with a cost.
  const peers = await waitFor('C lists B (native, with a cost) and D (Mycelium, with a cost)', async () => {
    const r = await nsC.exec(process.execPath, [HYPHA_BIN, 'peers', 'list', '--json', '--api-addr', NETNS_API]);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout) as HyphaPeers;
    return p.native.some((x) => x.nodeId === b.nodeId && x.linkCost !== null) && p.mycelium.some((x) => x.linkCost !== null) ? p : undefined;
  }, 30_000, 250);
  const nb = peers.native.find((x) => x.nodeId === b.nodeId)!;
  assert.equal(nb.hypha, true);
  assert.equal(nb.direction, 'inbound', 'B dialled C');
  assert.match(nb.version, /^hypha\//);
  assert.equal(peers.mycelium.length, 1);
  assert.equal(peers.mycelium[0].type, 'inbound', 'D dialled C');
  assert.equal(peers.mycelium[0].connectionState, 'alive');
  const table = await nsC.run(process.execPath, [HYPHA_BIN, 'peers', 'list', '--api-addr', NETNS_API]);
  assert.match(table, /^Kind\s+Peer\s+/);
  assert.match(table, new RegExp(`\\nnative\\s+${b.nodeId.slice(0, 16)}\\s`));
  assert.match(table, /\nmycelium\s+/);
  t.diagnostic(`C's hypha peers list:\n${table}`);

  // A reaches D over its native link to B; D's view of A's /64: selected, through its Mycelium link to C.
  const aRoute = await waitForRoute(a, d, 'a route to D over the native link to B', (r) => viaAddress(r, ab.b.ipv6));
  assert.match(aRoute.nextHop, /^NATIVE /, `A's next hop towards D is a native link: ${aRoute.nextHop}`);
  const dRoute = await waitForRoute(d, a, 'a route to A through C', (r) => viaAddress(r, cd.a.ipv6));
  assert.equal(dRoute.subnet, a.subnet, 'D selected A\'s own /64');
  assert.match(dRoute.nextHop, new RegExp(`^TCP \\[${cd.b.ipv6}\\]:\\d+ <-> \\[${cd.a.ipv6}\\]:9651$`), 'through D\'s tcp:// link to C');
  assert.equal(typeof dRoute.metric, 'number', `a finite metric: ${JSON.stringify(dRoute)}`);

  // A TCP transfer from A to a server on D's overlay address: 256 KiB echoed back intact.
  assert.deepEqual(await tcpEchoOverOverlay(d, nsA, ECHO_BYTES), { bytes: ECHO_BYTES, same: true });

  await stopCleanly([a, b, c, d]);
});

test('reroute on native links: the square A–B–D, A–C–D; the active first link is cut silently while A pings D', { timeout: 90_000 }, async (t) => {
  const why = await hyphaNetnsSkipReason();
  if (why !== undefined) return t.skip(why);
  const base = await tempBase(t, 'hypha-netns-reroute-');
  const lab = await NetnsLab.create(4, t);
  const r = await rerouteSquare(lab, base, 'native', NATIVE_REROUTE_DEADLINE_MS);
  assert.notEqual(r.after, r.before, 'A routes to D through the other side after the cut');
  const message = `reroute on native links after the A–${r.before} link went down silently: ${(r.outageMs / 1000).toFixed(1)} s ` +
    `until the first answered ping, ${r.lostPings} pings lost, ${(r.gapMs / 1000).toFixed(1)} s between replies; now through ${r.after}`;
  t.diagnostic(message);
  console.log(`# ${message}`);
});
