import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { SystemClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import type { Link } from '../../src/link/link.ts';
import { privateNetwork, type PrivateNetwork } from '../../src/link/mycelium-transport.ts';
import { MyceliumPeerManager } from '../../src/peers/mycelium-peers.ts';
import { MyceliumDiscovery } from '../../src/peers/mycelium-discovery.ts';
import { encodeBeacon } from '../../src/wire/mycelium/beacon.ts';
import { encodeControlFrame } from '../../src/wire/mycelium/packet.ts';
import { waitFor } from '../helpers/poll.ts';

const clock = new SystemClock();

const HELLO = encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: 0, intervalCs: 2000 });

function manager(opts: { peers?: string[]; pn?: PrivateNetwork; listen?: boolean } = {}) {
  const links: Link[] = [];
  const m = new MyceliumPeerManager({
    clock,
    logger: silentLogger(),
    listen: opts.listen === false ? false : { host: '127.0.0.1', port: 0 },
    peers: opts.peers,
    privateNetwork: opts.pn,
    discovery: false,
    reconnectIntervalMs: 200,
    connectTimeoutMs: 3_000,
    onLink: (l) => {
      links.push(l);
      l.attach({ onMessage: () => {}, onClose: () => {} });
      // A Mycelium node talks first: its Update and Hello go out as soon as the link is up.
      l.send(HELLO);
    },
  });
  return { m, links };
}

function pn(name: string, key: Uint8Array): PrivateNetwork {
  const r = privateNetwork(name, key);
  assert.ok(r.ok);
  return r.value;
}

test('a static peer connects; both sides list it with Mycelium PeerStats fields; removing it closes the link', async () => {
  const a = manager();
  await a.m.start();
  const b = manager({ peers: [`tcp://127.0.0.1:${a.m.listenPort}`], listen: false });
  await b.m.start();
  await waitFor(() => a.links.length === 1 && b.links.length === 1, 'link up');
  await waitFor(() => b.m.peers()[0]?.connectionState === 'alive', 'alive');
  const [sb] = b.m.peers();
  assert.equal(sb.type, 'static');
  assert.deepEqual(sb.endpoint, { proto: 'tcp', addr: { socket: `127.0.0.1:${a.m.listenPort}` } });
  assert.equal(typeof sb.discovered, 'number');
  assert.equal(sb.lastConnected, 0);
  const [sa] = a.m.peers();
  assert.equal(sa.type, 'inbound');
  assert.equal(sa.connectionState, 'alive');
  assert.equal(b.m.addPeer(`tcp://127.0.0.1:${a.m.listenPort}`).ok, false, 'duplicate refused');
  assert.ok(b.m.removePeer(`tcp://127.0.0.1:${a.m.listenPort}`).ok);
  assert.equal(b.m.peers().length, 0);
  // The inbound side forgets the peer once its link is gone.
  await waitFor(() => a.m.peers().length === 0, 'inbound forgotten');
  assert.equal(b.m.removePeer('tcp://127.0.0.1:1').ok, false);
  await a.m.stop();
  await b.m.stop();
});

test('a static peer that goes away is redialled until it comes back', async () => {
  const a = manager();
  await a.m.start();
  const port = a.m.listenPort!;
  const b = manager({ peers: [`tcp://127.0.0.1:${port}`], listen: false });
  await b.m.start();
  await waitFor(() => b.links.length === 1, 'first link');
  await a.m.stop();
  await waitFor(() => b.m.peers()[0].connectionState !== 'alive', 'down');
  // A comes back on the same port.
  const a2 = new MyceliumPeerManager({ clock, logger: silentLogger(), listen: { host: '127.0.0.1', port }, discovery: false, onLink: (l) => l.attach({ onMessage: () => {}, onClose: () => {} }) });
  await a2.start();
  await waitFor(() => b.links.length === 2 && b.m.peers()[0].connectionState === 'alive', 'redialled');
  await a2.stop();
  await b.m.stop();
});

test('runtime errors: bad endpoint, tls:// outside a private network, quic', () => {
  const { m } = manager({ listen: false });
  assert.equal((m.addPeer('nonsense') as { ok: false; error: { code: string } }).error.code, 'bad-endpoint');
  assert.equal((m.addPeer('tls://127.0.0.1:9651') as { ok: false; error: { code: string } }).error.code, 'not-private');
  assert.equal((m.addPeer('quic://127.0.0.1:9651') as { ok: false; error: { code: string } }).error.code, 'unsupported');
});

test('private network: same name and key connect over TLS; another key is refused', async () => {
  const key = randomBytes(32);
  const a = manager({ pn: pn('testnet', key) });
  await a.m.start();
  // tcp:// is upgraded to TLS in private mode.
  const b = manager({ pn: pn('testnet', key), peers: [`tcp://127.0.0.1:${a.m.listenPort}`], listen: false });
  await b.m.start();
  await waitFor(() => a.links.length === 1 && b.links.length === 1, 'TLS link');
  assert.equal(a.links[0].transport, 'tls');
  assert.equal(b.links[0].transport, 'tls');
  const c = manager({ pn: pn('testnet', randomBytes(32)), peers: [`tls://127.0.0.1:${a.m.listenPort}`], listen: false });
  await c.m.start();
  await waitFor(() => a.m.refused >= 1, 'wrong key refused');
  assert.equal(c.links.length, 0);
  assert.equal(a.links.length, 1);
  const d = manager({ pn: pn('othernet', key), peers: [`tls://127.0.0.1:${a.m.listenPort}`], listen: false });
  await d.m.start();
  await waitFor(() => a.m.refused >= 2, 'wrong name refused');
  assert.equal(d.links.length, 0);
  for (const x of [a, b, c, d]) await x.m.stop();
});

test('private network: a plain tcp:// peer is refused', async () => {
  const a = manager({ pn: pn('testnet', randomBytes(32)) });
  await a.m.start();
  const plain = manager({ peers: [`tcp://127.0.0.1:${a.m.listenPort}`], listen: false });
  await plain.m.start();
  await waitFor(() => a.m.refused >= 1, 'plain TCP refused');
  assert.equal(a.links.length, 0);
  // The plain side got a TCP connection but the other end speaks TLS and hangs up: its link dies.
  await waitFor(() => plain.links.every((l) => l.closed), 'plain link closed');
  await a.m.stop();
  await plain.m.stop();
});

test('network name and key are validated', () => {
  assert.equal(privateNetwork('x', randomBytes(32)).ok, false);
  assert.equal(privateNetwork('x'.repeat(65), randomBytes(32)).ok, false);
  assert.equal(privateNetwork('ok', randomBytes(31)).ok, false);
  const long = privateNetwork('ok', randomBytes(40));
  assert.ok(long.ok && long.value.key.length === 32);
});

test('discovery: only 50-byte "mycelium" beacons from fe80::/64 that are not our own count', () => {
  const own = randomBytes(40);
  const other = randomBytes(40);
  const found: string[] = [];
  const d = new MyceliumDiscovery({ clock, logger: silentLogger(), routerId: own, tcpPort: 9651, onPeer: (h, p) => found.push(`${h}|${p}`) });
  const good = encodeBeacon({ tcpPort: 9999, routerId: other });
  d.handlePacket(good, '2001:db8::1');
  d.handlePacket(good, '192.0.2.1');
  d.handlePacket(good.subarray(0, 49), 'fe80::1%eth0');
  d.handlePacket(new Uint8Array([...good, 0]), 'fe80::1%eth0');
  const badMagic = Uint8Array.from(good);
  badMagic[0] ^= 1;
  d.handlePacket(badMagic, 'fe80::1%eth0');
  d.handlePacket(encodeBeacon({ tcpPort: 1, routerId: own }), 'fe80::1%eth0');
  d.handlePacket(good, 'fe80:1::1%eth0');
  assert.deepEqual(found, []);
  assert.equal(d.stats.ignored, 7);
  d.handlePacket(good, 'fe80::1%eth0');
  assert.deepEqual(found, ['fe80::1%eth0|9999']);
});

test('discovery: garbage on the real UDP port is ignored and the node carries on', async () => {
  const found: string[] = [];
  const d = new MyceliumDiscovery({ clock, logger: silentLogger(), routerId: randomBytes(40), tcpPort: 9651, port: 0, onPeer: (h) => found.push(h) });
  assert.ok(await d.start());
  const port = d.boundPort!;
  const s = dgram.createSocket('udp6');
  try {
    for (let i = 0; i < 50; i++) s.send(randomBytes(i * 3), port, '::1');
    s.send(encodeBeacon({ tcpPort: 1, routerId: randomBytes(40) }), port, '::1'); // not link-local
    await waitFor(() => d.stats.ignored >= 51, 'packets seen');
    assert.deepEqual(found, []);
  } finally {
    s.close();
    d.stop();
  }
});

test('a discovered peer is dialled (tcp, or tls in private mode) and listed as linkLocalDiscovery', async () => {
  const a = manager();
  await a.m.start();
  const b = manager({ listen: false });
  await b.m.start();
  (b.m as unknown as { discovered(h: string, p: number): void }).discovered('127.0.0.1', a.m.listenPort!);
  await waitFor(() => b.links.length === 1, 'discovered peer connected');
  assert.equal(b.m.peers()[0].type, 'linkLocalDiscovery');
  await a.m.stop();
  await b.m.stop();
});
