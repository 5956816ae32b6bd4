import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex } from '../../src/base/bytes.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { buildHello, verifyHello } from '../../src/peers/hello.ts';
import { create } from '@bufbuild/protobuf';
import { MsgType, encodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { encodeMessage } from '../../src/wire/micelio/codec.ts';
import { PeerHelloSchema } from '../../src/wire/gen/micelio_pb.ts';
import { helloEnvelope } from '../helpers/hello-client.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };
import { newEnvelope } from '../../src/crypto/envelope.ts';

const A = identityFromSeed(fromHex(vectors.nodeA.ed25519Seed)!);
const B = identityFromSeed(fromHex(vectors.nodeB.ed25519Seed)!);

test('the §8 hello and ack verify against the Noise static keys of the transcript', () => {
  const h = verifyHello(fromHex(vectors.hello.envelope)!, MsgType.PeerHello, fromHex(vectors.noise.responderPeerStatic)!);
  assert.ok(h.ok, h.ok ? '' : h.error.message);
  assert.equal(h.value.nodeId, A.nodeId);
  assert.equal(h.value.version, '0.1.0');
  assert.deepEqual(h.value.tags, ['EU', 'prod']);
  assert.equal(h.value.listenAddr, '127.0.0.1:4000');
  assert.equal(h.value.reachable, true);
  const ack = verifyHello(fromHex(vectors.helloAck.envelope)!, MsgType.PeerHelloAck, B.x25519Public);
  assert.ok(ack.ok);
  assert.equal(ack.value.reachable, false);
});

test('buildHello with a pinned message id reproduces the §8 envelope', () => {
  const bytes = buildHello(A, { version: '0.1.0', tags: ['EU', 'prod'], listenAddr: '127.0.0.1:4000' }, MsgType.PeerHello, vectors.fixedInputs.uuidHello);
  assert.equal(Buffer.from(bytes).toString('hex'), vectors.hello.envelope);
});

test('each identity check fails with its own reason', () => {
  const C = identityFromSeed(new Uint8Array(32).fill(9));
  const cases: [Uint8Array, number, Uint8Array | undefined, string][] = [
    [Uint8Array.of(0x0a, 0x09), MsgType.PeerHello, A.x25519Public, 'hello: malformed'],
    [helloEnvelope(A, { msgType: 2 }), MsgType.PeerHello, A.x25519Public, 'expected msg_type 1, got 2'],
    [helloEnvelope(A, { corruptSignature: true }), MsgType.PeerHello, A.x25519Public, 'hello signature invalid'],
    [helloEnvelope(A, { senderId: B.nodeId }), MsgType.PeerHello, A.x25519Public, 'hello sender_id does not match node_id'],
    [encodeEnvelope(newEnvelope({ msgType: 1, payload: Uint8Array.of(0xff), senderId: A.nodeId, signingKey: A.signingKey })), MsgType.PeerHello, A.x25519Public, 'malformed PeerHello'],
    [
      encodeEnvelope(newEnvelope({ msgType: 1, payload: encodeMessage(PeerHelloSchema, create(PeerHelloSchema, { nodeId: A.nodeId, ed25519Pubkey: A.ed25519Public.subarray(0, 31) })), senderId: A.nodeId, signingKey: A.signingKey })),
      MsgType.PeerHello,
      A.x25519Public,
      'hello key is 31 bytes',
    ],
    [helloEnvelope(A, { nodeId: B.nodeId, senderId: A.nodeId }), MsgType.PeerHello, A.x25519Public, 'hello sender_id does not match node_id'],
    [helloEnvelope(A, { nodeId: 'ab'.repeat(32) }), MsgType.PeerHello, A.x25519Public, 'hello node_id is not the hash of its key'],
    [helloEnvelope(A, { helloIdentity: C }), MsgType.PeerHello, A.x25519Public, 'hello key does not match Noise static key'],
    [helloEnvelope(A), MsgType.PeerHello, undefined, 'link did not authenticate a static key'],
  ];
  for (const [bytes, type, st, reason] of cases) {
    const r = verifyHello(bytes, type as 1 | 2, st);
    assert.equal(r.ok, false, reason);
    assert.ok(!r.ok && r.error.message.includes(reason), `${reason}: got ${!r.ok && r.error.message}`);
  }
});

test('property: verifyHello returns a Result on random and mutated bytes', () => {
  const base = fromHex(vectors.hello.envelope)!;
  const mutated = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 5 }).map((flips) => {
    const m = base.slice();
    for (const [p, x] of flips) m[p % m.length] ^= x;
    return m;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated), (bytes) => {
      const r = verifyHello(bytes, MsgType.PeerHello, A.x25519Public);
      // Any change to signed or identity bytes must be caught; only hop_count (unsigned) may vary.
      if (r.ok) assert.equal(r.value.nodeId, A.nodeId);
    }),
    { numRuns: 1000 },
  );
});
