// The authentication binding of native neighbours: a neighbour whose key its link proved may relay
// anyone's routes (under the ownership rule), but may claim to originate a route — its own /64, or
// metric 0 — only under a router id carrying that key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import { generateX25519 } from '../../src/crypto/x25519.ts';
import { overlayAddress } from '../../src/identity/address.ts';
import { METRIC_INFINITE } from '../../src/router/metric.ts';
import { MYCELIUM_TIMERS, NATIVE_TIMERS, type Neighbour, type NeighbourKind } from '../../src/router/neighbour.ts';
import { Router } from '../../src/router/router.ts';
import { makeSubnet, subnetToPrefix } from '../../src/router/subnet.ts';
import type { Tlv, UpdateTlv } from '../../src/wire/mycelium/babel.ts';
import { makeRouterId } from '../../src/wire/mycelium/router-id.ts';

class Fake implements Neighbour {
  readonly id: string;
  readonly label: string;
  readonly kind: NeighbourKind;
  readonly staticCost = 10;
  readonly timers;
  readonly authenticatedKey: Uint8Array | undefined;
  readonly sent: Tlv[] = [];
  constructor(name: string, authenticatedKey?: Uint8Array) {
    this.id = name;
    this.label = name;
    this.authenticatedKey = authenticatedKey;
    this.kind = authenticatedKey === undefined ? 'mycelium' : 'native';
    this.timers = authenticatedKey === undefined ? MYCELIUM_TIMERS : NATIVE_TIMERS;
  }
  sendTlv(tlv: Tlv): boolean {
    this.sent.push(tlv);
    return true;
  }
  sendData(): boolean {
    return true;
  }
  close(): void {}
}

function node() {
  const kp = generateX25519();
  const address = overlayAddress(kp.publicKey);
  return { key: kp.publicKey, rid: makeRouterId(kp.publicKey, Uint8Array.of(1, 2, 3, 4, 5, 6)), address, subnet: makeSubnet(address, 64) };
}

function update(of: ReturnType<typeof node>, metric: number, rid = of.rid): UpdateTlv {
  return { kind: 'update', flags: 0, intervalCs: 30_000, seqno: 0, metric, prefix: subnetToPrefix(of.subnet), routerId: rid };
}

function setup() {
  const clock = new VirtualClock(0);
  const router = new Router({ clock, logger: silentLogger(), publicKey: generateX25519().publicKey });
  return { clock, router };
}

test('a native neighbour announces its own /64 under its own key: accepted', () => {
  const { router } = setup();
  const n = node();
  const nb = new Fake('n', n.key);
  router.addNeighbour(nb);
  router.receiveTlv(nb, update(n, 0));
  assert.equal(router.lookup(n.address).kind, 'selected');
  assert.equal(router.stats.updatesDeniedBinding, 0);
  router.stop();
});

test('a native neighbour claiming to originate another node\'s /64 (metric 0) is ignored and counted', () => {
  const { router } = setup();
  const n = node();
  const victim = node();
  const nb = new Fake('n', n.key);
  router.addNeighbour(nb);
  // Victim's /64 under the victim's router id passes the ownership rule, but metric 0 says "it is me".
  router.receiveTlv(nb, update(victim, 0));
  assert.equal(router.lookup(victim.address).kind, 'unknown');
  assert.equal(router.stats.updatesDeniedBinding, 1);
  // Relaying the same route (metric > 0: it crossed at least one link) is what neighbours do: accepted.
  router.receiveTlv(nb, update(victim, 25));
  assert.equal(router.lookup(victim.address).kind, 'selected');
  router.stop();
});

test('a native neighbour announcing its own /64 under another key is ignored (ownership, then binding)', () => {
  const { router } = setup();
  const n = node();
  const other = node();
  const nb = new Fake('n', n.key);
  router.addNeighbour(nb);
  for (const metric of [0, 40]) router.receiveTlv(nb, update(n, metric, other.rid));
  assert.equal(router.lookup(n.address).kind, 'unknown');
  // Without a second key whose address falls into that /64 (≈ 2^57 hashes) the ownership rule catches
  // this first; the binding is the second lock for the day such a key is found: the /64 of a native
  // neighbour belongs to the key its Noise handshake proved, whatever the router id says.
  assert.equal(router.stats.updatesDeniedOwnership + router.stats.updatesDeniedBinding, 2);
  router.stop();
});

test('a Mycelium neighbour (nothing authenticated) keeps Mycelium\'s rules: metric 0 for another subnet passes ownership', () => {
  const { router } = setup();
  const victim = node();
  const nb = new Fake('m');
  router.addNeighbour(nb);
  router.receiveTlv(nb, update(victim, 0));
  assert.equal(router.lookup(victim.address).kind, 'selected');
  assert.equal(router.stats.updatesDeniedBinding, 0);
  router.stop();
});

test('retractions from a native neighbour are not bound (they only ever touch its own route)', () => {
  const { router } = setup();
  const n = node();
  const victim = node();
  const nb = new Fake('n', n.key);
  const other = new Fake('o', node().key);
  router.addNeighbour(nb);
  router.addNeighbour(other);
  router.receiveTlv(other, update(victim, 30));
  assert.equal(router.lookup(victim.address).kind, 'selected');
  router.receiveTlv(nb, update(victim, METRIC_INFINITE));
  assert.equal(router.stats.updatesDeniedBinding, 0);
  assert.equal(router.stats.retractionsIgnored, 1);
  assert.equal(router.lookup(victim.address).kind, 'selected');
  router.stop();
});

test('neighbourInfo shows each neighbour\'s kind, static cost and (native) node id', () => {
  const { router } = setup();
  const nb = new Fake('n', node().key);
  router.addNeighbour(nb);
  router.addNeighbour(new Fake('m'));
  const info = router.neighbourInfo();
  assert.deepEqual(
    info.map((i) => [i.id, i.kind, i.staticCost, i.linkCost]),
    [
      ['n', 'native', 10, 1010],
      ['m', 'mycelium', 10, 1010],
    ],
  );
  router.stop();
});
