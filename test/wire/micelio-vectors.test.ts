// Every envelope, sign-bytes, signature and frame vector of the Micelio reference (§8), byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import { ChatMessageSchema, EnvelopeSchema, PeerExchangeSchema, PeerHelloSchema, PeerInfoSchema, StateEntrySchema, StateSyncRequestSchema, StateUpdateSchema, DEFAULT_MAX_HOPS, KEEPALIVE_ENVELOPE_BYTES, MsgType, decodeEnvelope, decodeMessage, encodeEnvelope, encodeFrame, encodeMessage, envelopeSignBytes } from '../../src/wire/micelio/index.ts';
import { ed25519Sign, ed25519Verify } from '../../src/crypto/ed25519.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };
import { newEnvelope, verifyEnvelope } from '../../src/crypto/envelope.ts';

const A = identityFromSeed(fromHex(vectors.nodeA.ed25519Seed)!);
const B = identityFromSeed(fromHex(vectors.nodeB.ed25519Seed)!);
const TS = BigInt(vectors.fixedInputs.timestamp);
const hex = (s: string): Uint8Array => fromHex(s)!;

function frameHex(envelope: Uint8Array): string {
  const f = encodeFrame(envelope);
  assert.ok(f.ok);
  return toHex(f.value);
}

test('chat envelope from A: message, sign bytes, signature, envelope, frame, relay hop', () => {
  const chat = encodeMessage(ChatMessageSchema, create(ChatMessageSchema, { nick: 'alice', text: 'hello', timestamp: TS }));
  assert.equal(toHex(chat), vectors.chat.chatMessage);
  const env = newEnvelope({
    messageId: vectors.fixedInputs.uuidChat,
    senderId: A.nodeId,
    msgType: MsgType.Chat,
    hopCount: DEFAULT_MAX_HOPS,
    payload: chat,
    senderPubkey: A.ed25519Public,
    signingKey: A.signingKey,
  });
  assert.equal(toHex(envelopeSignBytes(env)), vectors.chat.signData);
  assert.equal(envelopeSignBytes(env).length, 112 + chat.length);
  assert.equal(toHex(env.signature), vectors.chat.signature);
  const bytes = encodeEnvelope(env);
  assert.equal(toHex(bytes), vectors.chat.envelope);
  assert.equal(frameHex(bytes), vectors.chat.frame);
  // A relay decrements hop_count only; the signature still verifies.
  const relayed = decodeEnvelope(hex(vectors.chat.envelope));
  assert.ok(relayed.ok);
  relayed.value.hopCount--;
  assert.equal(toHex(encodeEnvelope(relayed.value)), vectors.chat.envelopeHop9);
  assert.ok(verifyEnvelope(relayed.value, A.ed25519Public));
});

test('PeerHello from A and PeerHelloAck from B', () => {
  const hello = create(PeerHelloSchema, {
    nodeId: A.nodeId,
    version: '0.1.0',
    tags: ['EU', 'prod'],
    reachable: true,
    listenAddr: '127.0.0.1:4000',
    ed25519Pubkey: A.ed25519Public,
  });
  const helloBytes = encodeMessage(PeerHelloSchema, hello);
  assert.equal(toHex(helloBytes), vectors.hello.peerHello);
  const env = newEnvelope({ messageId: vectors.fixedInputs.uuidHello, senderId: A.nodeId, msgType: MsgType.PeerHello, payload: helloBytes, signingKey: A.signingKey });
  assert.equal(toHex(envelopeSignBytes(env)), vectors.hello.signData);
  assert.equal(toHex(env.signature), vectors.hello.signature);
  assert.equal(toHex(encodeEnvelope(env)), vectors.hello.envelope);
  assert.equal(frameHex(encodeEnvelope(env)), vectors.hello.frame);

  const ack = create(PeerHelloSchema, { nodeId: B.nodeId, version: '0.1.0', ed25519Pubkey: B.ed25519Public });
  const ackBytes = encodeMessage(PeerHelloSchema, ack);
  assert.equal(toHex(ackBytes), vectors.helloAck.peerHello);
  const ackEnv = newEnvelope({ messageId: vectors.fixedInputs.uuidHelloAck, senderId: B.nodeId, msgType: MsgType.PeerHelloAck, payload: ackBytes, signingKey: B.signingKey });
  assert.equal(toHex(ackEnv.signature), vectors.helloAck.signature);
  assert.equal(toHex(encodeEnvelope(ackEnv)), vectors.helloAck.envelope);
  assert.equal(frameHex(encodeEnvelope(ackEnv)), vectors.helloAck.frame);

  // And back: the vectors decode to what was encoded.
  const dec = decodeEnvelope(hex(vectors.hello.envelope));
  assert.ok(dec.ok);
  const h = decodeMessage(PeerHelloSchema, dec.value.payload);
  assert.ok(h.ok);
  assert.deepEqual(h.value.tags, ['EU', 'prod']);
  assert.ok(verifyEnvelope(dec.value, h.value.ed25519Pubkey));
});

test('keepalive envelope and frame', () => {
  const env = create(EnvelopeSchema, { msgType: MsgType.Keepalive });
  assert.equal(toHex(encodeEnvelope(env)), vectors.keepalive.envelope);
  assert.equal(toHex(KEEPALIVE_ENVELOPE_BYTES), vectors.keepalive.envelope);
  assert.equal(frameHex(KEEPALIVE_ENVELOPE_BYTES), vectors.keepalive.frame);
});

test('PeerExchange envelope from A listing itself', () => {
  const info = create(PeerInfoSchema, { nodeId: A.nodeId, addr: '127.0.0.1:4000', reachable: true, ed25519Pubkey: A.ed25519Public, lastSeen: TS });
  assert.equal(toHex(encodeMessage(PeerInfoSchema, info)), vectors.peerExchange.peerInfo);
  const px = encodeMessage(PeerExchangeSchema, create(PeerExchangeSchema, { peers: [info] }));
  assert.equal(toHex(px), vectors.peerExchange.peerExchange);
  const env = newEnvelope({ messageId: vectors.fixedInputs.uuidPeerExchange, senderId: A.nodeId, msgType: MsgType.PeerExchange, payload: px, signingKey: A.signingKey });
  assert.equal(toHex(env.signature), vectors.peerExchange.signature);
  assert.equal(toHex(encodeEnvelope(env)), vectors.peerExchange.envelope);
});

test('phase-5 state messages encode to the vectors', () => {
  const key = `${A.nodeId}/color`;
  const entrySign = (deleted: boolean, ts: bigint, value: Uint8Array): Uint8Array => {
    const enc = new TextEncoder();
    const k = enc.encode(key);
    const id = enc.encode(A.nodeId);
    const out = new Uint8Array(k.length + value.length + 8 + id.length + 1);
    out.set(k, 0);
    out.set(value, k.length);
    new DataView(out.buffer).setBigUint64(k.length + value.length, ts);
    out.set(id, k.length + value.length + 8);
    out[out.length - 1] = deleted ? 1 : 0;
    return out;
  };
  const value = new TextEncoder().encode('blue');
  const sd = entrySign(false, 1n, value);
  assert.equal(toHex(sd), vectors.state.entrySignData);
  const sig = ed25519Sign(A.signingKey, sd);
  assert.equal(toHex(sig), vectors.state.entrySignature);
  const entry = create(StateEntrySchema, { key, value, lamportTs: 1n, nodeId: A.nodeId, signature: sig, authorPubkey: A.ed25519Public });
  assert.equal(toHex(encodeMessage(StateEntrySchema, entry)), vectors.state.stateEntry);
  assert.equal(toHex(encodeMessage(StateUpdateSchema, create(StateUpdateSchema, { entry }))), vectors.state.stateUpdate);
  const tomb = entrySign(true, 2n, new Uint8Array(0));
  assert.equal(toHex(tomb), vectors.state.tombstoneSignData);
  assert.equal(toHex(ed25519Sign(A.signingKey, tomb)), vectors.state.tombstoneSignature);
  assert.ok(ed25519Verify(A.ed25519Public, tomb, hex(vectors.state.tombstoneSignature)));
  const req = create(StateSyncRequestSchema, { known: { [A.nodeId]: 2n } });
  assert.equal(toHex(encodeMessage(StateSyncRequestSchema, req)), vectors.state.stateSyncRequest);
});

test('signature checks: wrong key, bad sizes, tampering; hop_count and sender_pubkey are not signed', () => {
  const env = decodeEnvelope(hex(vectors.chat.envelope));
  assert.ok(env.ok);
  const e = env.value;
  assert.ok(verifyEnvelope(e, A.ed25519Public));
  assert.ok(!verifyEnvelope(e, B.ed25519Public));
  assert.ok(!verifyEnvelope(e, A.ed25519Public.subarray(0, 31)));
  e.hopCount = 1;
  e.senderPubkey = new Uint8Array(0);
  assert.ok(verifyEnvelope(e, A.ed25519Public));
  e.lamportTs = 1n;
  assert.ok(!verifyEnvelope(e, A.ed25519Public));
  e.lamportTs = 0n;
  e.payload = Uint8Array.of(...e.payload, 0);
  assert.ok(!verifyEnvelope(e, A.ed25519Public));
  e.payload = e.payload.subarray(0, e.payload.length - 1);
  e.signature = e.signature.subarray(0, 63);
  assert.ok(!verifyEnvelope(e, A.ed25519Public));
});

test('unknown fields survive a decode / re-encode (relays stay transparent)', () => {
  const base = hex(vectors.keepalive.envelope);
  // field 15, varint 7, then field 20 length-delimited "hi"
  const extended = Uint8Array.of(...base, 0x78, 0x07, 0xa2, 0x01, 0x02, 0x68, 0x69);
  const d = decodeEnvelope(extended);
  assert.ok(d.ok);
  assert.equal(toHex(encodeEnvelope(d.value)), toHex(extended));
});
