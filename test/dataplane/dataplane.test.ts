import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import { generateX25519 } from '../../src/crypto/x25519.ts';
import { MemoryWire } from '../../src/link/memory.ts';
import { MemoryDevice } from '../../src/dataplane/memory-device.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { icmpv6ChecksumOk } from '../../src/wire/icmpv6.ts';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6.ts';
import { ipv6Packet } from '../helpers/ipv6.ts';

interface Node {
  overlay: Overlay;
  device: MemoryDevice;
  address: Uint8Array;
  messages: { payload: Uint8Array; src: Uint8Array }[];
}

function makeNet(n: number, clock: VirtualClock) {
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const kp = generateX25519();
    const device = new MemoryDevice({ name: `mem${i}` });
    const messages: Node['messages'] = [];
    const overlay = new Overlay({
      clock,
      logger: silentLogger(),
      x25519Private: kp.privateKey,
      x25519Public: kp.publicKey,
      device,
      onMessage: (payload, src) => messages.push({ payload: Uint8Array.from(payload), src }),
    });
    nodes.push({ overlay, device, address: overlay.router.address, messages });
  }
  const wires: MemoryWire[] = [];
  const link = (i: number, j: number) => {
    const w = new MemoryWire(clock, { protocol: 'mycelium', latencyMs: 2 });
    nodes[i].overlay.attachLink(w.a);
    nodes[j].overlay.attachLink(w.b);
    wires.push(w);
    return w;
  };
  return { nodes, link, wires };
}

test('a packet from A crosses B, arrives at C decrypted with the hop limit counted down, and back', async () => {
  const clock = new VirtualClock(0);
  const { nodes, link } = makeNet(3, clock);
  link(0, 1);
  link(1, 2);
  await clock.advance(1000);
  const [a, , c] = nodes;
  const body = new TextEncoder().encode('hello overlay');
  a.device.inject(ipv6Packet(a.address, c.address, 64, body));
  // A has no route to C yet: the packet waits while a RouteRequest resolves it.
  await clock.advance(1000);
  assert.equal(c.device.written.length, 1);
  const got = c.device.written[0];
  assert.equal(formatIpv6(got.subarray(8, 24)), formatIpv6(a.address));
  assert.deepEqual(got.subarray(40), body);
  // As in Mycelium every node that routes the packet counts a hop: A, B and C itself.
  assert.equal(got[7], 61);
  // The reply needs no route request: C learned A when A's packet arrived (it asked for it).
  c.device.inject(ipv6Packet(c.address, a.address, 64, body));
  await clock.advance(100);
  assert.equal(a.device.written.length, 1);
  assert.equal(b(nodes).overlay.dataplane.counters.forwarded, 2);
  const stats = b(nodes).overlay.dataplane.packetStatistics();
  assert.deepEqual(stats.bySource.map((s) => s.ip).sort(), [formatIpv6(a.address), formatIpv6(c.address)].sort());
  for (const n of nodes) n.overlay.stop();
});

function b(nodes: Node[]): Node {
  return nodes[1];
}

test('messages (type 1) reach the message hook', async () => {
  const clock = new VirtualClock(0);
  const { nodes, link } = makeNet(2, clock);
  link(0, 1);
  await clock.advance(500);
  assert.equal(nodes[0].overlay.dataplane.sendMessage(nodes[1].address, Uint8Array.of(1, 2, 3)), true);
  await clock.advance(100);
  assert.deepEqual(nodes[1].messages.map((m) => [...m.payload]), [[1, 2, 3]]);
  assert.equal(formatIpv6(nodes[1].messages[0].src), formatIpv6(nodes[0].address));
  for (const n of nodes) n.overlay.stop();
});

test('ICMPv6 from the local data plane: address unreachable, source policy, hop limit', async () => {
  const clock = new VirtualClock(0);
  const { nodes } = makeNet(1, clock);
  const a = nodes[0];
  const inMySubnet = Uint8Array.from(a.address);
  inMySubnet[15] ^= 1;
  a.device.inject(ipv6Packet(a.address, inMySubnet, 64, new Uint8Array(8)));
  const notOverlay = parseIpv6('2001:db8::1')!;
  a.device.inject(ipv6Packet(notOverlay, parseIpv6('400::1')!, 64, new Uint8Array(8)));
  a.device.inject(ipv6Packet(a.address, parseIpv6('400::1')!, 1, new Uint8Array(8)));
  const [addr, policy, hop] = a.device.written;
  assert.deepEqual([addr[40], addr[41]], [1, 3]);
  assert.deepEqual([policy[40], policy[41]], [1, 5]);
  assert.deepEqual([hop[40], hop[41]], [3, 0]);
  for (const p of a.device.written) assert.ok(icmpv6ChecksumOk(p));
  a.overlay.stop();
});

test('a destination nobody announces gets ICMPv6 no route once the query times out', async () => {
  const clock = new VirtualClock(0);
  const { nodes, link } = makeNet(2, clock);
  link(0, 1);
  await clock.advance(500);
  const nowhere = parseIpv6('4ff:1:2:3::9')!;
  nodes[0].device.inject(ipv6Packet(nodes[0].address, nowhere, 64, new Uint8Array(4)));
  assert.equal(nodes[0].overlay.router.queriedSubnets().length, 1);
  await clock.advance(16_000);
  const icmp = nodes[0].device.written.at(-1)!;
  assert.deepEqual([icmp[40], icmp[41]], [1, 0]);
  assert.equal(nodes[0].overlay.dataplane.counters.droppedNoRoute, 1);
  for (const n of nodes) n.overlay.stop();
});

test('a router on the way reports an expired hop limit back to the sender, encrypted (OOB ICMP)', async () => {
  const clock = new VirtualClock(0);
  const { nodes, link } = makeNet(3, clock);
  link(0, 1);
  link(1, 2);
  await clock.advance(1000);
  const [a, bn, c] = nodes;
  // Make sure A knows C and B knows A (routes flood on acquisition).
  a.device.inject(ipv6Packet(a.address, c.address, 64, new Uint8Array(4)));
  await clock.advance(500);
  a.device.written.length = 0;
  // Hop limit 2: A counts one, B finds 1 left and cannot forward.
  a.device.inject(ipv6Packet(a.address, c.address, 2, Uint8Array.of(9, 9, 9, 9)));
  await clock.advance(100);
  assert.equal(bn.overlay.dataplane.counters.oobIcmpSent, 1);
  assert.equal(a.overlay.dataplane.counters.oobIcmpReceived, 1);
  const icmp = a.device.written.at(-1)!;
  assert.deepEqual([icmp[40], icmp[41]], [3, 0]);
  assert.equal(formatIpv6(icmp.subarray(8, 24)), formatIpv6(bn.address), 'reported by B');
  // It quotes the original IPv6 packet.
  assert.equal(formatIpv6(icmp.subarray(48 + 24, 48 + 40)), formatIpv6(c.address));
  assert.ok(icmpv6ChecksumOk(icmp));
  for (const n of nodes) n.overlay.stop();
});

test('packets are only opened from senders with a route; without a device inbound L3 is counted and dropped', async () => {
  const clock = new VirtualClock(0);
  const kpA = generateX25519();
  const kpB = generateX25519();
  const a = new Overlay({ clock, logger: silentLogger(), x25519Private: kpA.privateKey, x25519Public: kpA.publicKey, device: new MemoryDevice() });
  const bo = new Overlay({ clock, logger: silentLogger(), x25519Private: kpB.privateKey, x25519Public: kpB.publicKey });
  const w = new MemoryWire(clock, { protocol: 'mycelium', latencyMs: 1 });
  a.attachLink(w.a);
  bo.attachLink(w.b);
  await clock.advance(100);
  (a.dataplane as unknown as { device: MemoryDevice }).device.inject(ipv6Packet(a.router.address, bo.router.address, 64, new Uint8Array(10)));
  await clock.advance(100);
  assert.equal(bo.dataplane.counters.droppedNoDevice, 1);
  a.stop();
  bo.stop();
});

test('packets waiting for a route are bounded: past the limit they are dropped, counted and answered with ICMPv6', async () => {
  const clock = new VirtualClock(0);
  const kp = generateX25519();
  const device = new MemoryDevice();
  const o = new Overlay({ clock, logger: silentLogger(), x25519Private: kp.privateKey, x25519Public: kp.publicKey, device, dataplaneLimits: { maxQueuedPerSubnet: 5, maxQueuedTotal: 8 } });
  const dst1 = parseIpv6('4aa:1:2:3::1')!;
  const dst2 = parseIpv6('4bb:1:2:3::1')!;
  for (let i = 0; i < 7; i++) device.inject(ipv6Packet(o.router.address, dst1, 64, new Uint8Array(4)));
  for (let i = 0; i < 7; i++) device.inject(ipv6Packet(o.router.address, dst2, 64, new Uint8Array(4)));
  const c = o.dataplane.counters;
  assert.equal(c.queuedOutbound, 8);
  assert.equal(c.droppedQueueFull, 6);
  assert.equal(device.written.length, 6);
  assert.ok(device.written.every((p) => p[40] === 1 && p[41] === 0));
  o.stop();
});
