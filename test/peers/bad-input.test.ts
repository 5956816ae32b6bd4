// Bad input from one connection closes that connection only: the node keeps serving its other peer,
// and a WARN names the reason.
import { afterEach, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { fromHex } from '../../src/base/bytes.ts';
import { MsgType, encodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { NoiseXXHandshake } from '../../src/crypto/noise.ts';
import { closedPromise, connectRaw, rawNoiseClient, waitFor } from '../helpers/noise-client.ts';
import { helloClient } from '../helpers/hello-client.ts';
import { startNode, stopAll, waitConnected, type TestNode } from '../helpers/nodes.ts';
import { newEnvelope } from '../../src/crypto/envelope.ts';

let node: TestNode;
let good: TestNode;
let probe = 0;

before(async () => {
  node = await startNode({ handshakeTimeoutMs: 500, helloTimeoutMs: 800 });
  good = await startNode({ bootstrap: [node.addr] });
  await waitConnected(node, good);
});

after(async () => {
  await stopAll([good, node]);
});

/** The good peer is still connected and still heard: an envelope it sends arrives at the node. */
async function stillServing(): Promise<void> {
  assert.equal(node.pm.peer(good.id.nodeId)?.connected, true, 'good peer still connected');
  const tag = ++probe;
  let heard = false;
  const off = node.pm.on('envelope', (from, env) => {
    if (from.nodeId === good.id.nodeId && env.payload[0] === tag) heard = true;
  });
  good.pm.send(node.id.nodeId, newEnvelope({ msgType: 3, payload: Uint8Array.of(tag), senderId: good.id.nodeId, signingKey: good.id.signingKey }));
  await waitFor(() => heard, 'probe from the good peer');
  off();
}

function warned(text: string): Promise<void> {
  return waitFor(() => node.log.has('warn', text), `WARN "${text}"`);
}

afterEach(async () => {
  await stillServing();
});

const stranger = () => identityFromSeed(randomBytes(32));

test('garbage bytes instead of a handshake', async () => {
  const s = await connectRaw(node.addr);
  s.on('error', () => {});
  s.write(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'));
  await closedPromise(s);
  await warned('noise handshake message too large');
});

test('a truncated handshake', async () => {
  const who = stranger();
  const hs = new NoiseXXHandshake({ initiator: true, staticKey: { privateKey: who.x25519Private, publicKey: who.x25519Public } });
  const m1 = hs.writeMessage();
  assert.ok(m1.ok);
  const s = await connectRaw(node.addr);
  s.on('error', () => {});
  s.end(Uint8Array.of(0, 32, ...m1.value.subarray(0, 20)));
  await closedPromise(s);
  await warned('truncated handshake');
});

test('a client that never finishes the handshake is cut at the timeout', async () => {
  const s = await connectRaw(node.addr);
  s.on('error', () => {});
  await closedPromise(s);
  await warned('noise handshake timeout');
});

test('frames with bad magic, bad version and oversize length, before and after the hello', async () => {
  for (const [hex, reason] of [
    ['4d4a000100000000', 'invalid frame magic 0x4D4A'],
    ['4d49000700000000', 'unsupported frame version 7'],
    ['4d49000110000000', 'exceeds 1048576'],
  ]) {
    // instead of a hello
    const c1 = await rawNoiseClient(node.addr, stranger());
    c1.sendPlain(fromHex(hex)!);
    await c1.closed;
    await waitFor(() => node.log.records.some((r) => r.levelName === 'warn' && String(r.reason).includes('before hello') && String(r.reason).includes(reason)), reason);
    // after a good hello
    const id = stranger();
    const c2 = await helloClient(node.addr, id, {}, true);
    await waitFor(() => node.pm.peer(id.nodeId)?.connected === true, 'raw peer connected');
    c2.sendPlain(fromHex(hex)!);
    await c2.closed;
    await waitFor(() => node.log.records.some((r) => r.levelName === 'warn' && r.msg === 'peer disconnected' && String(r.reason).includes(reason)), `disconnect: ${reason}`);
  }
});

test('an envelope with a forged signature: a hello, and a peer exchange from a connected peer', async () => {
  const c = await helloClient(node.addr, stranger(), { corruptSignature: true });
  await c.closed;
  await warned('hello signature invalid');
  const id = stranger();
  const c2 = await helloClient(node.addr, id, {}, true);
  await waitFor(() => node.pm.peer(id.nodeId)?.connected === true, 'raw peer connected');
  const px = newEnvelope({ msgType: MsgType.PeerExchange, payload: new Uint8Array(0), senderId: id.nodeId, signingKey: id.signingKey });
  px.signature[0] ^= 0x80;
  c2.sendFrame(encodeEnvelope(px));
  await c2.closed;
  await warned('peer exchange signature invalid');
});

test('a hello whose key does not match the Noise static key', async () => {
  const c = await helloClient(node.addr, stranger(), { helloIdentity: stranger() });
  await c.closed;
  await warned('hello key does not match Noise static key');
});

test('a hello whose node_id is not the hash of its key', async () => {
  const c = await helloClient(node.addr, stranger(), { nodeId: 'ab'.repeat(32) });
  await c.closed;
  await warned('hello node_id is not the hash of its key');
});

test('a hello of the wrong type, and a silent peer after the handshake (hello timeout)', async () => {
  const c = await helloClient(node.addr, stranger(), { msgType: MsgType.PeerHelloAck });
  await c.closed;
  await warned('expected msg_type 1, got 2');
  const c2 = await rawNoiseClient(node.addr, stranger());
  await c2.closed;
  await warned('hello timeout');
});

test('a malformed envelope from a connected peer is skipped, as Micelio does; the link stays', async () => {
  const id = stranger();
  const c = await helloClient(node.addr, id, {}, true);
  await waitFor(() => node.pm.peer(id.nodeId)?.connected === true, 'raw peer connected');
  c.sendFrame(Uint8Array.of(0x0a, 0x05, 0x41)); // field 1 claims 5 bytes, has 1
  await warned('skipping malformed envelope');
  assert.equal(node.pm.peer(id.nodeId)?.connected, true);
  c.socket.destroy();
  await waitFor(() => node.pm.peer(id.nodeId) === undefined, 'raw peer gone');
  assert.equal(node.log.count('error'), 0);
});
