import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger, silentLogger } from '../../src/base/log.ts';
import { generateX25519 } from '../../src/crypto/x25519.ts';
import { overlayAddress } from '../../src/identity/address.ts';
import { MemoryWire } from '../../src/link/memory.ts';
import { MyceliumNeighbour } from '../../src/router/mycelium-neighbour.ts';
import { MYCELIUM_TIMERS, type Neighbour } from '../../src/router/neighbour.ts';
import { Router } from '../../src/router/router.ts';
import { makeSubnet, subnetToPrefix } from '../../src/router/subnet.ts';
import type { Tlv, UpdateTlv } from '../../src/wire/mycelium/babel.ts';
import { encodeControlFrame } from '../../src/wire/mycelium/packet.ts';
import { makeRouterId } from '../../src/wire/mycelium/router-id.ts';
import { METRIC_INFINITE } from '../../src/router/metric.ts';

class FakeNeighbour implements Neighbour {
  readonly id: string;
  readonly kind = 'mycelium' as const;
  readonly label: string;
  readonly staticCost = 10;
  readonly timers = MYCELIUM_TIMERS;
  readonly sent: Tlv[] = [];
  closed: string | undefined;
  constructor(name: string) {
    this.id = name;
    this.label = name;
  }
  sendTlv(tlv: Tlv): boolean {
    this.sent.push(tlv);
    return true;
  }
  sendData(): boolean {
    return true;
  }
  close(reason: string): void {
    this.closed = reason;
  }
  take<K extends Tlv['kind']>(kind: K): Extract<Tlv, { kind: K }>[] {
    const out = this.sent.filter((t) => t.kind === kind) as Extract<Tlv, { kind: K }>[];
    this.sent.length = 0;
    return out;
  }
}

function origin() {
  const kp = generateX25519();
  const rid = makeRouterId(kp.publicKey, Uint8Array.of(1, 2, 3, 4, 5, 6));
  const subnet = makeSubnet(overlayAddress(kp.publicKey), 64);
  return { kp, rid, subnet, address: overlayAddress(kp.publicKey) };
}

function update(o: ReturnType<typeof origin>, metric: number, seqno = 0): UpdateTlv {
  return { kind: 'update', flags: 0, intervalCs: 30_000, seqno, metric, prefix: subnetToPrefix(o.subnet), routerId: o.rid };
}

function setup() {
  const clock = new VirtualClock(0);
  const router = new Router({ clock, logger: silentLogger(), publicKey: generateX25519().publicKey });
  return { clock, router };
}

test('a new neighbour gets our /64 at once and a Hello; every Hello is answered with an IHU', () => {
  const { router } = setup();
  const n = new FakeNeighbour('n');
  router.addNeighbour(n);
  const ups = n.sent.filter((t) => t.kind === 'update') as UpdateTlv[];
  assert.equal(ups.length, 1);
  assert.equal(ups[0].metric, 0);
  assert.equal(ups[0].intervalCs, 30_000);
  assert.deepEqual(ups[0].routerId, router.routerId);
  assert.ok(n.sent.some((t) => t.kind === 'hello'));
  n.sent.length = 0;
  router.receiveTlv(n, { kind: 'hello', flags: 0x8000, seqno: 1, intervalCs: 2000 });
  const ihu = n.take('ihu');
  assert.equal(ihu.length, 1);
  assert.equal(ihu[0].intervalCs, 6000);
  assert.equal(ihu[0].address, undefined);
  router.stop();
});

test('link cost is the smoothed Hello→IHU round trip plus the static cost', async () => {
  const { clock, router } = setup();
  const n = new FakeNeighbour('n');
  router.addNeighbour(n); // hello sent at t=0
  assert.equal(router.linkCost(n), 1000 + 10);
  await clock.advance(40);
  router.receiveTlv(n, { kind: 'ihu', rxCost: 0, intervalCs: 6000, address: undefined });
  assert.equal(router.linkCost(n), Math.floor((1000 * 9 + 40) / 10) + 10);
  router.stop();
});

test('a neighbour that stops answering Hellos is declared dead and its link closed', async () => {
  const { clock, router } = setup();
  const n = new FakeNeighbour('n');
  router.addNeighbour(n);
  await clock.advance(60_000);
  assert.match(n.closed ?? '', /no IHU/);
  assert.equal(router.neighbourCount, 0);
  assert.equal(router.stats.deadNeighbours, 1);
});

test('an Update for a subnet its router id does not own is ignored', () => {
  const { router } = setup();
  const n = new FakeNeighbour('n');
  router.addNeighbour(n);
  const victim = origin();
  const attacker = origin();
  // The attacker announces the victim's /64 under its own router id.
  router.receiveTlv(n, { ...update(victim, 0), routerId: attacker.rid });
  assert.equal(router.lookup(victim.address).kind, 'unknown');
  assert.equal(router.stats.updatesDeniedOwnership, 1);
  // The genuine announcement is accepted.
  router.receiveTlv(n, update(victim, 0));
  assert.equal(router.lookup(victim.address).kind, 'selected');
  router.stop();
});

test('updates outside 400::/7 or shorter than /64 are filtered', () => {
  const { router } = setup();
  const n = new FakeNeighbour('n');
  router.addNeighbour(n);
  const o = origin();
  router.receiveTlv(n, { ...update(o, 0), prefix: { family: 6, len: 48, address: o.subnet.address } });
  const outside = new Uint8Array(16);
  outside[0] = 0x20;
  router.receiveTlv(n, { ...update(o, 0), prefix: { family: 6, len: 64, address: outside } });
  router.receiveTlv(n, { ...update(o, 0), prefix: { family: 4, len: 32, address: new Uint8Array(4) } });
  assert.equal(router.stats.updatesDeniedByFilter, 3);
  assert.equal(router.selectedRoutes().length, 0);
  router.stop();
});

test('a retraction from a neighbour that did not announce the route is ignored', () => {
  const { router } = setup();
  const a = new FakeNeighbour('a');
  const b = new FakeNeighbour('b');
  router.addNeighbour(a);
  router.addNeighbour(b);
  const o = origin();
  router.receiveTlv(a, update(o, 100));
  const l = router.lookup(o.address);
  assert.ok(l.kind === 'selected' && l.nextHop === a);
  // b never announced o's subnet; its retraction (under any router id) must not touch a's route.
  router.receiveTlv(b, { ...update(o, METRIC_INFINITE), routerId: origin().rid });
  router.receiveTlv(b, update(o, METRIC_INFINITE));
  const l2 = router.lookup(o.address);
  assert.ok(l2.kind === 'selected' && l2.nextHop === a);
  assert.equal(router.stats.retractionsIgnored, 2);
  // The announcing neighbour can withdraw it.
  router.receiveTlv(a, update(o, METRIC_INFINITE));
  assert.notEqual(router.lookup(o.address).kind, 'selected');
  router.stop();
});

test('a lost route is retracted to every neighbour and forgotten after the hold time', async () => {
  const { clock, router } = setup();
  const a = new FakeNeighbour('a');
  const b = new FakeNeighbour('b');
  router.addNeighbour(a);
  router.addNeighbour(b);
  const o = origin();
  router.receiveTlv(a, update(o, 50));
  const fwd = b.take('update');
  assert.ok(fwd.some((u) => u.metric > 50 && u.metric !== METRIC_INFINITE), 'triggered update to b');
  router.removeNeighbour(a, 'link closed');
  const ret = b.take('update');
  assert.ok(ret.some((u) => u.metric === METRIC_INFINITE && u.prefix.address[0] === o.subnet.address[0]), 'retraction to b');
  // While the retraction is held a request gets no answer; after the hold it is a new query.
  router.receiveTlv(b, { kind: 'route-request', generation: 3, prefix: subnetToPrefix(o.subnet) });
  assert.equal(router.queriedSubnets().length, 0);
  assert.equal(router.fallbackRoutes()[0]?.metric, 'infinite');
  await clock.advance(7_000);
  assert.equal(router.fallbackRoutes().length, 0);
  router.receiveTlv(b, { kind: 'route-request', generation: 3, prefix: subnetToPrefix(o.subnet) });
  assert.equal(router.queriedSubnets().length, 1);
  router.stop();
});

test('route requests: own subnet answered with metric 0, unknown forwarded with generation + 1, generation 15 dropped', () => {
  const { router } = setup();
  const a = new FakeNeighbour('a');
  const b = new FakeNeighbour('b');
  router.addNeighbour(a);
  router.addNeighbour(b);
  a.sent.length = 0;
  b.sent.length = 0;
  router.receiveTlv(a, { kind: 'route-request', generation: 0, prefix: subnetToPrefix(router.subnet) });
  const own = a.take('update');
  assert.equal(own.length, 1);
  assert.equal(own[0].metric, 0);
  const o = origin();
  router.receiveTlv(a, { kind: 'route-request', generation: 4, prefix: subnetToPrefix(o.subnet) });
  const f = b.take('route-request');
  assert.equal(f.length, 1);
  assert.equal(f[0].generation, 5);
  assert.equal(a.take('route-request').length, 0, 'not back to the sender');
  const p = origin();
  router.receiveTlv(a, { kind: 'route-request', generation: 15, prefix: subnetToPrefix(p.subnet) });
  assert.equal(b.take('route-request').length, 0);
  assert.equal(router.stats.routeRequestsDropped, 1);
  // A request nobody could answer (outside 400::/7, or wider than /64) is not flooded.
  const outside = new Uint8Array(16);
  outside[0] = 0x20;
  router.receiveTlv(a, { kind: 'route-request', generation: 0, prefix: { family: 6, len: 64, address: outside } });
  router.receiveTlv(a, { kind: 'route-request', generation: 0, prefix: { family: 6, len: 48, address: p.subnet.address } });
  router.receiveTlv(a, { kind: 'route-request', generation: 0, prefix: { family: 4, len: 24, address: new Uint8Array(4) } });
  assert.equal(b.take('route-request').length, 0);
  assert.equal(router.stats.routeRequestsDropped, 4);
  router.stop();
});

test('a seqno request for our own subnet bumps our seqno, at most once per 4 s', async () => {
  const { clock, router } = setup();
  const a = new FakeNeighbour('a');
  router.addNeighbour(a);
  a.sent.length = 0;
  const req: Tlv = { kind: 'seqno-request', seqno: 1, hopCount: 64, routerId: router.routerId, prefix: subnetToPrefix(router.subnet) };
  router.receiveTlv(a, req);
  const ups = a.take('update');
  assert.equal(ups.length, 1);
  assert.equal(ups[0].seqno, 1);
  await clock.advance(1000);
  router.receiveTlv(a, { ...req, seqno: 2 });
  assert.equal(a.take('update').length, 0);
  await clock.advance(4000);
  router.receiveTlv(a, { ...req, seqno: 2 });
  assert.equal(a.take('update')[0]?.seqno, 2);
  router.stop();
});

test('an unfeasible update does not replace the selected route and asks for a newer seqno', () => {
  const { router } = setup();
  const a = new FakeNeighbour('a');
  const b = new FakeNeighbour('b');
  router.addNeighbour(a);
  router.addNeighbour(b);
  const o = origin();
  router.receiveTlv(a, update(o, 100, 5)); // selected, advertised to b → feasibility distance (5, 100 + cost)
  a.sent.length = 0;
  router.receiveTlv(a, update(o, 60_000, 5)); // same seqno, much worse metric: unfeasible
  const l = router.lookup(o.address);
  assert.ok(l.kind === 'selected' && l.metric === 100);
  const sr = a.take('seqno-request');
  assert.equal(sr.length, 1);
  assert.equal(sr[0].seqno, 6);
  router.stop();
});

test('malformed control frames close only that link, and other neighbours carry on', async () => {
  const clock = new VirtualClock(0);
  const cap = captureLogger('warn');
  const router = new Router({ clock, logger: cap.logger, publicKey: generateX25519().publicKey });
  const w1 = new MemoryWire(clock, { protocol: 'mycelium', latencyMs: 1 });
  const w2 = new MemoryWire(clock, { protocol: 'mycelium', latencyMs: 1 });
  new MyceliumNeighbour({ link: w1.b, router, logger: cap.logger, onData: () => {} });
  new MyceliumNeighbour({ link: w2.b, router, logger: cap.logger, onData: () => {} });
  await clock.advance(10);
  assert.equal(router.neighbourCount, 2);
  const bad = encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: 1, intervalCs: 2000 });
  bad[8] = 99; // unknown TLV type
  w1.a.send(bad);
  await clock.advance(10);
  assert.equal(w1.b.closed, true);
  assert.equal(w2.b.closed, false);
  assert.equal(router.neighbourCount, 1);
  assert.ok(cap.has('warn', 'malformed packet'));
  // A truncated TLV (length says 6, body has 5) on the other link does the same to it alone.
  const w3 = new MemoryWire(clock, { protocol: 'mycelium', latencyMs: 1 });
  new MyceliumNeighbour({ link: w3.b, router, logger: cap.logger, onData: () => {} });
  w3.a.send(Uint8Array.from([1, 1, 0, 0, 0x2a, 3, 0, 7, 4, 6, 0x80, 0, 0, 1, 7]));
  await clock.advance(10);
  assert.equal(w3.b.closed, true);
  assert.equal(w2.b.closed, false);
  router.stop();
});

test('timers are per neighbour: a neighbour with a fast profile is found dead in seconds, a Mycelium one is not', async () => {
  const { clock, router } = setup();
  const slow = new FakeNeighbour('mycelium');
  const fast = new FakeNeighbour('native');
  Object.assign(fast, { timers: { helloIntervalMs: 1_000, ihuIntervalMs: 3_000, deadAfterMs: 3_000, deadCheckIntervalMs: 500, updateIntervalMs: 30_000, helloOnConnect: true } });
  router.addNeighbour(slow);
  router.addNeighbour(fast);
  await clock.advance(4_000);
  assert.match(fast.closed ?? '', /no IHU/);
  assert.equal(slow.closed, undefined);
  assert.ok(fast.sent.filter((t) => t.kind === 'hello').length >= 4, 'fast Hellos');
  assert.equal(slow.sent.filter((t) => t.kind === 'hello').length, 1, 'only the Hello on connect so far');
  const u = fast.sent.find((t) => t.kind === 'update') as UpdateTlv;
  assert.equal(u.intervalCs, 3_000, 'Updates advertise the neighbour profile interval');
  router.stop();
});

test('lookups follow the table as subnets come and go, also for the destination looked up last', async () => {
  const { clock, router } = setup();
  const a = new FakeNeighbour('a');
  router.addNeighbour(a);
  const o = origin();
  const p = origin();
  // A miss, looked up again and again (the last match is remembered), then the subnet arrives.
  for (let i = 0; i < 3; i++) assert.equal(router.lookup(o.address).kind, 'unknown');
  router.receiveTlv(a, update(o, 50));
  assert.equal(router.lookup(o.address).kind, 'selected');
  router.receiveTlv(a, update(p, 50));
  // Alternating destinations each find their own subnet.
  for (let i = 0; i < 3; i++) {
    const lo = router.lookup(o.address);
    const lp = router.lookup(p.address);
    assert.ok(lo.kind === 'selected' && lo.subnet.key === o.subnet.key);
    assert.ok(lp.kind === 'selected' && lp.subnet.key === p.subnet.key);
  }
  // The route is lost, then forgotten after the hold time: the remembered match must go with it.
  router.removeNeighbour(a, 'link closed');
  assert.notEqual(router.lookup(o.address).kind, 'selected');
  await clock.advance(7_000);
  assert.equal(router.lookup(o.address).kind, 'unknown');
  router.stop();
});
