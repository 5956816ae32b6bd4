// Multi-node behaviour over real sockets on 127.0.0.1.
import { afterEach, test } from 'node:test';
import type { Socket } from 'node:net';
import assert from 'node:assert/strict';
import { MemoryPeerStore, type PeerHandle } from '../../src/peers/index.ts';
import { waitFor } from '../helpers/noise-client.ts';
import { connectedTo, startNode, stopAll, stopStarted, waitConnected, waitFullMesh, type TestNode } from '../helpers/nodes.ts';
import { newEnvelope } from '../../src/crypto/envelope.ts';

afterEach(stopStarted);

test('two nodes connect: hello binds identities, both sides see each other, keys and envelopes flow', async () => {
  const a = await startNode({ tags: ['EU', 'prod'] });
  const keys: string[] = [];
  const got: { from: string; type: number }[] = [];
  const b = await startNode({ bootstrap: [a.addr] });
  b.pm.on('key', (k) => keys.push(`${k.trust}:${k.nodeId}`));
  a.pm.on('envelope', (from, env) => got.push({ from: from.nodeId, type: env.msgType }));
  await waitConnected(a, b);
  const pa = b.pm.peer(a.id.nodeId) as PeerHandle;
  assert.equal(pa.version, 'hypha/0.1.0');
  assert.deepEqual(pa.tags, ['EU', 'prod']);
  assert.equal(pa.direction, 'outbound');
  assert.equal(pa.listenAddr, a.addr);
  assert.equal(pa.isHypha, true);
  assert.deepEqual(pa.ed25519PublicKey, a.id.ed25519Public);
  assert.equal(a.pm.peer(b.id.nodeId)?.direction, 'inbound');
  await waitFor(() => keys.includes(`direct:${a.id.nodeId}`), 'direct key event');
  // A msg_type the peers layer does not consume goes up, with the peer it came from.
  const env = newEnvelope({ msgType: 3, payload: Uint8Array.of(1), senderId: b.id.nodeId, signingKey: b.id.signingKey, hopCount: 10 });
  assert.ok(b.pm.send(a.id.nodeId, env));
  await waitFor(() => got.length === 1, 'envelope hook');
  assert.deepEqual(got[0], { from: b.id.nodeId, type: 3 });
  // Each side remembers the other (b is reachable too: it listens on 127.0.0.1).
  assert.equal(a.pm.knownPeers().find((r) => r.nodeId === b.id.nodeId)?.addr, b.addr);
  assert.equal(b.pm.knownPeers().find((r) => r.nodeId === a.id.nodeId)?.addr, a.addr);
  await stopAll([a, b]);
  assert.equal(a.log.count('error'), 0);
});

test('a 10-node star: the hub reaches every spoke and every spoke the hub', async () => {
  const noDiscovery = { discoveryIntervalMs: 3_600_000, exchangeIntervalMs: 3_600_000 };
  const hub = await startNode(noDiscovery);
  const spokes: TestNode[] = [];
  for (let i = 0; i < 9; i++) spokes.push(await startNode({ ...noDiscovery, bootstrap: [hub.addr] }));
  await waitFor(() => hub.pm.connectedCount === 9, 'hub has 9 peers');
  const received = new Set<string>();
  for (const s of spokes) s.pm.on('envelope', (from) => from.nodeId === hub.id.nodeId && received.add(s.id.nodeId));
  const r = hub.pm.broadcast(newEnvelope({ msgType: 3, payload: Uint8Array.of(7), senderId: hub.id.nodeId, signingKey: hub.id.signingKey }));
  assert.deepEqual(r, { sent: 9, total: 9 });
  await waitFor(() => received.size === 9, 'all spokes got the broadcast');
  const atHub = new Set<string>();
  hub.pm.on('envelope', (from) => atHub.add(from.nodeId));
  for (const s of spokes) s.pm.send(hub.id.nodeId, newEnvelope({ msgType: 1000, payload: Uint8Array.of(1), senderId: s.id.nodeId, signingKey: s.id.signingKey }));
  await waitFor(() => atHub.size === 9, 'hub heard every spoke');
  await stopAll([hub, ...spokes]);
});

test('a bootstrap chain A→B→C→D→E converges to a full mesh through peer exchange', async () => {
  const nodes: TestNode[] = [await startNode()];
  for (let i = 1; i < 5; i++) nodes.push(await startNode({ bootstrap: [nodes[i - 1].addr] }));
  await waitFullMesh(nodes);
  // Everyone knows everyone else's address.
  for (const n of nodes) assert.equal(n.pm.knownPeers().filter((r) => r.reachable).length, 4);
  await stopAll(nodes);
});

test('max_peers = 1 is enforced in both directions', async () => {
  const a = await startNode();
  const b = await startNode();
  const x = await startNode({ maxPeers: 1, bootstrap: [a.addr, b.addr] });
  let maxSeen = 0;
  x.pm.on('connected', () => (maxSeen = Math.max(maxSeen, x.pm.connectedCount)));
  await waitFor(() => x.pm.connectedCount === 1, 'x has one peer');
  // Inbound: a third node that dials x is refused before any crypto.
  const c = await startNode({ bootstrap: [x.addr] });
  await waitFor(() => x.log.has('info', 'max peers reached'), 'refusal logged');
  // Give discovery and bootstrap some rounds to try.
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(x.pm.connectedCount, 1);
  assert.equal(maxSeen, 1);
  assert.equal(connectedTo(c, x), false);
  assert.ok(x.pm.stats().refusedInbound >= 1);
  await stopAll([a, b, x, c]);
});

test('an outbound-only node takes full part: it connects, is never advertised, and exchanges messages', async () => {
  const a = await startNode();
  const b = await startNode({ bootstrap: [a.addr] });
  const o = await startNode({ outboundOnly: true, bootstrap: [a.addr] });
  assert.equal(o.pm.listenAddress, undefined);
  assert.equal(o.pm.advertiseAddress, '');
  // It learns b through a's peer exchange and dials it.
  await waitFullMesh([a, b, o]);
  const pa = a.pm.peer(o.id.nodeId) as PeerHandle;
  assert.equal(pa.reachable, false);
  assert.equal(pa.listenAddr, '');
  // Nobody lists it as dialable.
  for (const n of [a, b]) assert.ok(!n.pm.knownPeers().some((r) => r.nodeId === o.id.nodeId && r.reachable));
  const heard: string[] = [];
  b.pm.on('envelope', (from) => heard.push(from.nodeId));
  o.pm.broadcast(newEnvelope({ msgType: 3, payload: Uint8Array.of(1), senderId: o.id.nodeId, signingKey: o.id.signingKey }));
  await waitFor(() => heard.includes(o.id.nodeId), 'b heard the outbound-only node');
  await stopAll([a, b, o]);
});

test('a restarted node reloads its peer table and reconnects without any bootstrap', async () => {
  const a = await startNode();
  const b = await startNode({ bootstrap: [a.addr] });
  const store = new MemoryPeerStore();
  const seed = new Uint8Array(32).fill(0x42);
  const n1 = await startNode({ seed, store, bootstrap: [a.addr] });
  await waitFullMesh([a, b, n1]);
  await n1.pm.stop();
  assert.ok(store.records.has(a.id.nodeId) && store.records.has(b.id.nodeId), 'peer table persisted on stop');
  await waitFor(() => a.pm.connectedCount === 1 && b.pm.connectedCount === 1, 'others saw it leave');
  const n2 = await startNode({ seed, store });
  await waitFullMesh([a, b, n2]);
  assert.ok(n2.log.has('info', 'peer table loaded'));
  await stopAll([a, b, n2]);
});

test('keepalives keep an idle link up; a peer that falls silent is evicted at the idle timeout', async () => {
  const health = { keepaliveIntervalMs: 150, idleTimeoutMs: 2_000, exchangeIntervalMs: 3_600_000, discoveryIntervalMs: 3_600_000 };
  const a = await startNode(health);
  const b = await startNode({ ...health, bootstrap: [a.addr] });
  await waitConnected(a, b);
  let reconnects = 0;
  a.pm.on('connected', () => reconnects++);
  const pb = b.pm.peer(a.id.nodeId) as PeerHandle;
  const rx0 = pb.stats().rxMessages;
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(pb.connected, true, 'the same link is still up');
  assert.equal(reconnects, 0);
  assert.ok(pb.stats().rxMessages - rx0 >= 5, 'keepalives arrived');
  // A peer that completes the hello and then says nothing at all.
  const { helloClient } = await import('../helpers/hello-client.ts');
  const { identityFromSeed } = await import('../../src/identity/identity.ts');
  const silent = identityFromSeed(new Uint8Array(32).fill(0x77));
  const c = await helloClient(a.addr, silent, {}, true);
  await waitFor(() => a.pm.peer(silent.nodeId)?.connected === true, 'silent peer connected');
  await c.closed;
  await waitFor(() => a.log.records.some((r) => r.msg === 'peer disconnected' && String(r.reason).includes('idle timeout')), 'idle eviction');
  assert.equal(pb.connected, true, 'the other peer is unaffected');
});

test('advertise address: the bound address, nothing for a wildcard listener, or the configured one', async () => {
  const a = await startNode();
  assert.equal(a.pm.advertiseAddress, a.addr);
  const w = await startNode({ listen: '0.0.0.0:0' });
  assert.equal(w.pm.advertiseAddress, '');
  const c = await startNode({ listen: '0.0.0.0:0', advertiseAddr: '203.0.113.10:4000', bootstrap: [a.addr] });
  assert.equal(c.pm.advertiseAddress, '203.0.113.10:4000');
  await waitConnected(a, c);
  assert.equal(a.pm.peer(c.id.nodeId)?.listenAddr, '203.0.113.10:4000');
  assert.equal(a.pm.peer(c.id.nodeId)?.reachable, true);
});

test('stop() is prompt even with dials and handshakes in flight, and leaves nothing running', async () => {
  const { createServer } = await import('node:net');
  // A server that accepts and never answers: a dial to it sits in the Noise handshake.
  const held: Socket[] = [];
  const mute = createServer((s) => held.push(s));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
  const addr = `127.0.0.1:${(mute.address() as { port: number }).port}`;
  const n = await startNode({ bootstrap: [addr], handshakeTimeoutMs: 60_000, dialTimeoutMs: 60_000 });
  await waitFor(() => held.length === 1, 'dial in its handshake');
  const t0 = Date.now();
  await n.pm.stop();
  assert.ok(Date.now() - t0 < 10_000, `stop waited for a timeout (${Date.now() - t0} ms)`);
  for (const s of held) s.destroy();
  mute.close();
});

test('two nodes that bootstrap off each other, started together, settle on one stable link', async () => {
  const { createServer } = await import('node:net');
  const freePort = async (): Promise<number> => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  };
  const [pa, pb] = [await freePort(), await freePort()];
  const [a, b] = await Promise.all([
    startNode({ listen: `127.0.0.1:${pa}`, bootstrap: [`127.0.0.1:${pb}`] }),
    startNode({ listen: `127.0.0.1:${pb}`, bootstrap: [`127.0.0.1:${pa}`] }),
  ]);
  await waitConnected(a, b);
  // Both dials may complete; the duplicate rule then keeps one of them (a single switch is allowed).
  await new Promise((r) => setTimeout(r, 1_000));
  const link = a.pm.peer(b.id.nodeId)?.linkId;
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(a.pm.connectedCount, 1);
  assert.equal(b.pm.connectedCount, 1);
  assert.equal(a.pm.peer(b.id.nodeId)?.linkId, link, 'no flapping once settled');
});
