// The gossip engine against Micelio's rules (reference §3.3), on a VirtualClock, with a stand-in peer
// manager so every envelope in and out is visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { bytesEqual } from '../../src/base/bytes.ts';
import { GossipEngine, MAX_GOSSIP_PAYLOAD_BYTES, type GossipEngineOptions, type GossipMessage } from '../../src/gossip/engine.ts';
import { TrustLevel } from '../../src/gossip/keyring.ts';
import { EnvelopeSchema } from '../../src/wire/gen/micelio_pb.ts';
import { decodeEnvelope, encodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { FakePeers, ident, resignedBy, signed } from './helpers.ts';
import { verifyEnvelope } from '../../src/crypto/envelope.ts';

const LOCAL = ident(1);
const ALICE = ident(2);
const BOB = ident(3);
const CAROL = ident(4);
const MALLORY = ident(5);

/** Deterministic randomness (an LCG), so relay target choices repeat. */
function seeded(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function setup(opts: Partial<GossipEngineOptions> = {}) {
  const clock = new VirtualClock();
  const peers = new FakePeers();
  const log = captureLogger('debug');
  const engine = new GossipEngine({ identity: LOCAL, peers, clock, logger: log.logger, random: seeded(), ...opts });
  engine.start();
  const got: GossipMessage[] = [];
  engine.handle(3, (m) => got.push(m));
  return { clock, peers, log, engine, got };
}

/** Three neighbours by default: alice, bob, carol. */
function meshed(opts: Partial<GossipEngineOptions> = {}) {
  const s = setup(opts);
  for (const n of [ALICE, BOB, CAROL]) s.peers.connect(n);
  return s;
}

test('a duplicate is delivered and relayed once', () => {
  const { peers, engine, got } = meshed();
  const env = signed(ALICE, { hopCount: 5 });
  peers.deliver(ALICE.nodeId, env);
  assert.equal(peers.take().length, 2, 'relayed to bob and carol');
  peers.deliver(BOB.nodeId, env);
  peers.deliver(CAROL.nodeId, env);
  assert.equal(got.length, 1);
  assert.equal(peers.take().length, 0);
  const st = engine.stats();
  assert.equal(st.received, 1);
  assert.equal(st.dropped.duplicate, 2);
});

test('a sender with no known key and no sender_pubkey is dropped with a WARN, and not relayed', () => {
  const { peers, engine, got, log } = meshed();
  peers.deliver(ALICE.nodeId, signed(MALLORY, { withPubkey: false }));
  assert.equal(got.length, 0);
  assert.equal(peers.take().length, 0);
  assert.equal(engine.stats().dropped['unknown-sender'], 1);
  assert.ok(log.has('warn', 'unknown-sender'));
});

test('auto-learn: a sender_pubkey whose SHA-256 is the sender id is learned at gossip trust and used', () => {
  const { peers, engine, got } = meshed();
  assert.equal(engine.publicKeyOf(MALLORY.nodeId), undefined);
  peers.deliver(ALICE.nodeId, signed(MALLORY, { payload: 'first' }));
  assert.equal(got.length, 1);
  assert.equal(got[0].senderId, MALLORY.nodeId);
  assert.ok(bytesEqual(got[0].senderPublicKey, MALLORY.ed25519Public));
  assert.ok(bytesEqual(engine.publicKeyOf(MALLORY.nodeId)!, MALLORY.ed25519Public));
  assert.equal(engine.trustOf(MALLORY.nodeId), TrustLevel.Gossip);
  // Once known, a message without sender_pubkey verifies with the keyring key.
  peers.deliver(ALICE.nodeId, signed(MALLORY, { payload: 'second', withPubkey: false }));
  assert.equal(got.length, 2);
});

test('auto-learn refuses a key whose hash is not the sender id, or of the wrong size', () => {
  const { peers, engine, got } = meshed();
  const wrongKey = signed(MALLORY);
  wrongKey.senderPubkey = CAROL.ed25519Public; // someone else's key
  peers.deliver(ALICE.nodeId, wrongKey);
  const short = signed(MALLORY);
  short.senderPubkey = MALLORY.ed25519Public.subarray(0, 31);
  peers.deliver(ALICE.nodeId, short);
  const long = signed(MALLORY);
  long.senderPubkey = new Uint8Array([...MALLORY.ed25519Public, 0]);
  peers.deliver(ALICE.nodeId, long);
  assert.equal(got.length, 0);
  assert.equal(engine.stats().dropped['unknown-sender'], 3);
  assert.equal(engine.publicKeyOf(MALLORY.nodeId), undefined);
  assert.equal(engine.stats().keyring.rejected, 3);
});

test('auto-learn with a bad signature: dropped, and the key is not kept (Micelio would keep it)', () => {
  const { peers, engine, got, log } = meshed();
  const env = resignedBy(signed(MALLORY), CAROL); // sender_pubkey matches the id, signature does not
  peers.deliver(ALICE.nodeId, env);
  assert.equal(got.length, 0);
  assert.equal(engine.stats().dropped['bad-signature'], 1);
  assert.equal(engine.publicKeyOf(MALLORY.nodeId), undefined);
  assert.equal(engine.stats().keyring.size, 4, 'own key + three neighbours');
  assert.ok(log.has('warn', 'bad-signature'));
});

test('a forged signature is dropped; the keyring key is used, not the sender_pubkey the envelope brings', () => {
  const { peers, engine, got } = meshed();
  // Payload changed after signing.
  const tampered = signed(BOB);
  tampered.payload = new TextEncoder().encode('HELLO');
  peers.deliver(ALICE.nodeId, tampered);
  // Bob is known (direct): mallory signs as bob and attaches her own key as sender_pubkey.
  const impersonation = resignedBy(signed(BOB), MALLORY);
  impersonation.senderPubkey = MALLORY.ed25519Public;
  peers.deliver(ALICE.nodeId, impersonation);
  // Wrong signature length.
  const shortSig = signed(BOB);
  shortSig.signature = shortSig.signature.subarray(0, 63);
  peers.deliver(ALICE.nodeId, shortSig);
  assert.equal(got.length, 0);
  assert.equal(engine.stats().dropped['bad-signature'], 3);
  assert.equal(peers.take().length, 0);
  assert.equal(engine.trustOf(BOB.nodeId), TrustLevel.Direct);
});

test('hop_count 0 and 1 are delivered but not relayed', () => {
  const { peers, engine, got } = meshed();
  peers.deliver(ALICE.nodeId, signed(BOB, { hopCount: 0 }));
  peers.deliver(ALICE.nodeId, signed(BOB, { hopCount: 1 }));
  assert.equal(got.length, 2);
  assert.deepEqual(got.map((m) => m.hopCount), [0, 1]);
  assert.equal(peers.take().length, 0);
  assert.equal(engine.stats().relayed, 0);
});

test('relaying decrements hop_count, skips only the neighbour it came from, keeps payload and unknown fields', () => {
  const { peers, engine, got } = meshed();
  const env = signed(BOB, { hopCount: 5, payload: Uint8Array.of(0, 1, 2, 255) });
  // An envelope field this version does not know (number 99), as a newer node might send.
  const withExtra = new Uint8Array([...encodeEnvelope(env), 0x9a, 0x06, 0x03, 0x61, 0x62, 0x63]);
  const decoded = decodeEnvelope(withExtra);
  assert.ok(decoded.ok);
  peers.deliver(ALICE.nodeId, decoded.value);
  assert.equal(got.length, 1);
  assert.equal(got[0].fromPeer, ALICE.nodeId);
  assert.equal(got[0].hopCount, 5);
  const out = peers.take();
  assert.deepEqual(out.map((s) => s.to).sort(), [BOB.nodeId, CAROL.nodeId].sort(), 'the originator is not excluded; alice is');
  for (const s of out) {
    assert.equal(s.env.hopCount, 4);
    assert.ok(bytesEqual(s.env.payload, env.payload));
    assert.ok(verifyEnvelope(s.env, BOB.ed25519Public), 'still verifies: hop_count is not signed');
    assert.deepEqual(s.env.$unknown?.map((f) => f.no), [99]);
    const tail = s.bytes.subarray(s.bytes.length - 6);
    assert.deepEqual([...tail], [0x9a, 0x06, 0x03, 0x61, 0x62, 0x63]);
  }
  assert.equal(engine.stats().forwarded, 2);
  assert.equal(engine.stats().relayed, 1);
});

test('relays go to a random min(3, n) of the other neighbours', () => {
  const { peers, engine } = setup();
  const ids = Array.from({ length: 8 }, (_, i) => peers.connect(ident(100 + i)));
  const chosen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    peers.deliver(ids[0], signed(ident(200 + i)));
    const out = peers.take();
    assert.equal(out.length, 3);
    assert.equal(new Set(out.map((s) => s.to)).size, 3, 'three different neighbours');
    for (const s of out) {
      assert.notEqual(s.to, ids[0]);
      chosen.add(s.to);
    }
  }
  assert.equal(chosen.size, 7, 'every other neighbour gets picked some of the time');
  // Fewer candidates than the fanout: all of them.
  const small = setup();
  small.peers.connect(ALICE);
  small.peers.connect(BOB);
  small.peers.deliver(ALICE.nodeId, signed(CAROL));
  assert.deepEqual(small.peers.take().map((s) => s.to), [BOB.nodeId]);
  assert.equal(engine.stats().forwarded, 60);
});

test('own broadcast: signed, hop 10, sender_pubkey, UUIDv4 id, marked seen, sent to every neighbour', () => {
  const { peers, engine, got } = setup();
  const ids = Array.from({ length: 6 }, (_, i) => peers.connect(ident(100 + i)));
  const payload = new TextEncoder().encode('hi all');
  const r = engine.broadcast(3, payload);
  assert.deepEqual({ sent: r.sent, total: r.total }, { sent: 6, total: 6 });
  assert.match(r.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const out = peers.take();
  assert.deepEqual(out.map((s) => s.to).sort(), [...ids].sort());
  const env = out[0].env;
  assert.equal(env.messageId, r.messageId);
  assert.equal(env.senderId, LOCAL.nodeId);
  assert.equal(env.hopCount, 10);
  assert.equal(env.msgType, 3);
  assert.equal(env.lamportTs, 0n);
  assert.ok(bytesEqual(env.senderPubkey, LOCAL.ed25519Public));
  assert.ok(verifyEnvelope(env, LOCAL.ed25519Public));
  // It comes back from a neighbour: already seen, not delivered, not relayed.
  peers.deliver(ids[2], env);
  assert.equal(got.length, 0);
  assert.equal(peers.take().length, 0);
  assert.equal(engine.stats().dropped.duplicate, 1);
  // A neighbour with a full queue: partial delivery is reported and counted.
  peers.full.add(ids[0]);
  const r2 = engine.broadcast(3, payload);
  assert.deepEqual({ sent: r2.sent, total: r2.total }, { sent: 5, total: 6 });
  const st = engine.stats();
  assert.equal(st.originated, 2);
  assert.equal(st.broadcast, 11);
  assert.equal(st.sendDropped, 1);
});

test('a copy of our own message that outlived the seen cache is dropped, not re-delivered', async () => {
  const { peers, engine, got, clock } = meshed();
  const r = engine.broadcast(3, new TextEncoder().encode('old news'));
  const env = peers.take()[0].env;
  await clock.advance(6 * 60_000);
  peers.deliver(ALICE.nodeId, env);
  assert.equal(got.length, 0);
  assert.equal(peers.take().length, 0);
  assert.equal(engine.stats().dropped['own-message'], 1);
  assert.ok(r.messageId);
});

test('unknown msg_types are relayed without a handler; plugin types are delivered to their handlers', () => {
  const { peers, engine } = meshed();
  peers.deliver(ALICE.nodeId, signed(BOB, { msgType: 77, hopCount: 3 }));
  const out = peers.take();
  assert.equal(out.length, 2);
  assert.ok(out.every((s) => s.env.msgType === 77 && s.env.hopCount === 2));
  let st = engine.stats();
  assert.equal(st.received, 1);
  assert.equal(st.delivered, 0);
  const plugin: GossipMessage[] = [];
  engine.handle(1000, (m) => plugin.push(m));
  peers.deliver(ALICE.nodeId, signed(BOB, { msgType: 1000, payload: 'plugin data' }));
  assert.equal(plugin.length, 1);
  assert.equal(new TextDecoder().decode(plugin[0].payload), 'plugin data');
  st = engine.stats();
  assert.equal(st.delivered, 1);
});

test('each originator has a token bucket of 10/s, burst 20; a flood from one leaves the others alone', async () => {
  const { peers, engine, got, clock } = meshed();
  const flood = Array.from({ length: 30 }, (_, i) => signed(MALLORY, { payload: `flood ${i}` }));
  for (const env of flood) peers.deliver(ALICE.nodeId, env);
  assert.equal(got.length, 20, 'the burst');
  assert.equal(engine.stats().dropped['rate-limited'], 10);
  // Bob, at the same moment, is not affected.
  for (let i = 0; i < 5; i++) peers.deliver(BOB.nodeId, signed(CAROL, { payload: `carol ${i}` }));
  assert.equal(got.filter((m) => m.senderId === CAROL.nodeId).length, 5);
  // Half a second refills 5 tokens.
  await clock.advance(500);
  for (let i = 0; i < 8; i++) peers.deliver(ALICE.nodeId, signed(MALLORY, { payload: `later ${i}` }));
  assert.equal(got.filter((m) => m.senderId === MALLORY.nodeId).length, 25);
});

test('messages dropped before the seen check are not marked seen: a later copy gets through', async () => {
  const { peers, got, clock } = meshed();
  // Unknown sender without a key, then the same message with its key.
  const env = signed(MALLORY, { withPubkey: false });
  peers.deliver(ALICE.nodeId, env);
  assert.equal(got.length, 0);
  peers.deliver(BOB.nodeId, create(EnvelopeSchema, { ...env, senderPubkey: MALLORY.ed25519Public }));
  assert.equal(got.length, 1);
  // A bad-signature copy first, then the real one.
  const real = signed(CAROL);
  peers.deliver(ALICE.nodeId, resignedBy(real, MALLORY));
  peers.deliver(BOB.nodeId, real);
  assert.equal(got.length, 2);
  // Rate-limited, then retried once tokens are back.
  for (let i = 0; i < 20; i++) peers.deliver(ALICE.nodeId, signed(BOB));
  const limited = signed(BOB, { payload: 'the 21st' });
  peers.deliver(ALICE.nodeId, limited);
  assert.ok(!got.some((m) => m.messageId === limited.messageId));
  await clock.advance(100);
  peers.deliver(CAROL.nodeId, limited);
  assert.ok(got.some((m) => m.messageId === limited.messageId));
});

test('size limits: ids empty or over 128 bytes, payload over 64 KiB', () => {
  const { peers, engine, got } = meshed();
  const cases: [string, (e: ReturnType<typeof signed>) => void][] = [
    ['empty message_id', (e) => (e.messageId = '')],
    ['empty sender_id', (e) => (e.senderId = '')],
    ['129-byte message_id', (e) => (e.messageId = 'x'.repeat(129))],
    ['65-character, 130-byte message_id', (e) => (e.messageId = 'é'.repeat(65))],
    ['129-byte sender_id', (e) => (e.senderId = 'a'.repeat(129))],
  ];
  for (const [, mutate] of cases) {
    const env = signed(BOB);
    mutate(env);
    peers.deliver(ALICE.nodeId, env);
  }
  assert.equal(engine.stats().dropped['invalid-id'], cases.length);
  // 128 bytes is fine (Micelio's limit is inclusive).
  peers.deliver(ALICE.nodeId, signed(BOB, { messageId: 'm'.repeat(128) }));
  assert.equal(got.length, 1);
  peers.deliver(ALICE.nodeId, signed(BOB, { payload: new Uint8Array(MAX_GOSSIP_PAYLOAD_BYTES) }));
  assert.equal(got.length, 2);
  peers.deliver(ALICE.nodeId, signed(BOB, { payload: new Uint8Array(MAX_GOSSIP_PAYLOAD_BYTES + 1) }));
  assert.equal(got.length, 2);
  assert.equal(engine.stats().dropped['payload-too-large'], 1);
  assert.throws(() => engine.broadcast(3, new Uint8Array(MAX_GOSSIP_PAYLOAD_BYTES + 1)), /over the 65536-byte limit/);
});

test('a hop_count above the maximum (it is not signed) is clamped before relaying', () => {
  const { peers, engine, got } = meshed();
  peers.deliver(ALICE.nodeId, signed(BOB, { hopCount: 0xffffffff }));
  assert.equal(got[0].hopCount, 10);
  const out = peers.take();
  assert.ok(out.length > 0 && out.every((s) => s.env.hopCount === 9));
  assert.equal(engine.stats().hopsClamped, 1);
});

test('the seen cache forgets after 5 minutes; the sweep empties it and the idle limiter entries', async () => {
  const { peers, engine, got, clock } = meshed();
  const env = signed(BOB);
  peers.deliver(ALICE.nodeId, env);
  await clock.advance(4 * 60_000);
  peers.deliver(ALICE.nodeId, env);
  assert.equal(got.length, 1, 'still a duplicate at 4 min');
  await clock.advance(61_000);
  assert.equal(engine.stats().seen.size, 0, 'swept');
  assert.equal(engine.stats().seen.expired, 1);
  peers.deliver(ALICE.nodeId, env);
  assert.equal(got.length, 2, 'accepted again after the TTL');
  await clock.advance(6 * 60_000);
  assert.equal(engine.stats().limiter.size, 0, 'bob idle for over 5 min: forgotten');
  assert.equal(engine.stats().limiter.expired, 1);
});

test('bounded maps: seen, keyring and limiter evict the oldest when full, and count it', () => {
  const { peers, engine } = meshed({ seenMaxEntries: 10, keyringMaxEntries: 8, limiterMaxEntries: 5 });
  for (let i = 0; i < 12; i++) peers.deliver(ALICE.nodeId, signed(ident(300 + i)));
  const st = engine.stats();
  assert.equal(st.received, 12);
  assert.equal(st.seen.size, 10);
  assert.equal(st.seen.evictions, 2);
  assert.equal(st.keyring.size, 8);
  assert.equal(st.keyring.evictions, 4 + 12 - 8, '4 start entries + 12 learned into 8 slots');
  assert.equal(st.limiter.size, 5);
  assert.equal(st.limiter.evictions, 7);
  assert.equal(st.evictions, 2 + 8 + 7);
  // A connected neighbour's key evicted from the keyring is taken again from its hello.
  assert.ok(bytesEqual(engine.publicKeyOf(ALICE.nodeId)!, ALICE.ed25519Public));
  assert.equal(engine.trustOf(ALICE.nodeId), TrustLevel.Direct);
  peers.deliver(BOB.nodeId, signed(ALICE, { withPubkey: false }));
  assert.equal(engine.stats().received, 13);
});

test('keyring trust: a direct key is not downgraded by gossip; a gossip key is upgraded by a hello', () => {
  const { peers, engine } = meshed();
  assert.equal(engine.trustOf(ALICE.nodeId), TrustLevel.Direct);
  peers.events.emit('key', { nodeId: ALICE.nodeId, publicKey: ALICE.ed25519Public, trust: 'gossip', via: BOB.nodeId });
  assert.equal(engine.trustOf(ALICE.nodeId), TrustLevel.Direct);
  peers.events.emit('key', { nodeId: MALLORY.nodeId, publicKey: MALLORY.ed25519Public, trust: 'gossip', via: BOB.nodeId });
  assert.equal(engine.trustOf(MALLORY.nodeId), TrustLevel.Gossip);
  peers.connect(MALLORY);
  assert.equal(engine.trustOf(MALLORY.nodeId), TrustLevel.Direct);
  // A key that is not the node's is refused whatever its trust.
  peers.events.emit('key', { nodeId: ident(9).nodeId, publicKey: CAROL.ed25519Public, trust: 'direct', via: BOB.nodeId });
  assert.equal(engine.publicKeyOf(ident(9).nodeId), undefined);
  assert.ok(bytesEqual(engine.publicKeyOf(LOCAL.nodeId)!, LOCAL.ed25519Public), 'own key at start');
});

test('direct messages: signed, hop 1, one neighbour; delivered there with fromPeer and never relayed', () => {
  const a = meshed();
  const r = a.engine.sendDirect(BOB.nodeId, 7, new TextEncoder().encode('sync please'));
  assert.equal(r, true);
  const out = a.peers.take();
  assert.equal(out.length, 1);
  assert.equal(out[0].to, BOB.nodeId);
  assert.equal(out[0].env.hopCount, 1);
  assert.ok(verifyEnvelope(out[0].env, LOCAL.ed25519Public));
  assert.equal(a.engine.sendDirect(MALLORY.nodeId, 7, new Uint8Array()), false, 'not a neighbour');
  assert.equal(a.engine.stats().direct, 1);

  // On the receiving side (a node whose neighbours include LOCAL):
  const b = setup({ identity: BOB });
  b.peers.connect(LOCAL);
  b.peers.connect(CAROL);
  const got: GossipMessage[] = [];
  b.engine.handle(7, (m) => got.push(m));
  b.peers.deliver(LOCAL.nodeId, out[0].env);
  assert.equal(got.length, 1);
  assert.equal(got[0].fromPeer, LOCAL.nodeId);
  assert.equal(got[0].senderId, LOCAL.nodeId);
  assert.equal(b.peers.take().length, 0);
});

test('handlers: several per type in order, unsubscribe, a throwing one is contained; link-local types refused', () => {
  const { peers, engine, got, log } = meshed();
  const order: string[] = [];
  const off1 = engine.handle(3, () => order.push('one'));
  engine.handle(3, () => {
    throw new Error('plugin bug');
  });
  engine.handle(3, () => order.push('three'));
  peers.deliver(ALICE.nodeId, signed(BOB));
  assert.deepEqual(order, ['one', 'three']);
  assert.equal(got.length, 1);
  assert.equal(engine.stats().handlerErrors, 1);
  assert.ok(log.has('error', 'gossip handler threw'));
  off1();
  peers.deliver(ALICE.nodeId, signed(BOB));
  assert.deepEqual(order, ['one', 'three', 'three']);
  assert.equal(peers.take().length, 4, 'relaying is unaffected by the throw');
  for (const t of [1, 2, 4, 5]) assert.throws(() => engine.handle(t, () => {}), /consumed by the peer manager/);
  assert.throws(() => engine.handle(-1, () => {}), RangeError);
  assert.throws(() => engine.handle(2 ** 32, () => {}), RangeError);
  assert.deepEqual(engine.handledTypes(), [3]);
});

test('drop warnings are rate-limited: one per reason per 10 s, with the count of the others', async () => {
  const { peers, log, clock } = meshed();
  for (let i = 0; i < 50; i++) peers.deliver(ALICE.nodeId, signed(ident(400 + i), { withPubkey: false }));
  assert.equal(log.records.filter((r) => r.levelName === 'warn' && r.reason === 'unknown-sender').length, 1);
  await clock.advance(10_000);
  peers.deliver(ALICE.nodeId, signed(ident(499), { withPubkey: false }));
  const warns = log.records.filter((r) => r.levelName === 'warn' && r.reason === 'unknown-sender');
  assert.equal(warns.length, 2);
  assert.equal(warns[1].alsoDroppedSinceLastWarn, 49);
});

test('stop unsubscribes; start again resubscribes and learns the keys of peers already connected', () => {
  const { peers, engine, got } = setup();
  engine.stop();
  peers.connect(ALICE); // its key event is missed while stopped
  peers.deliver(ALICE.nodeId, signed(ALICE, { withPubkey: false }));
  assert.equal(got.length, 0);
  engine.start();
  assert.equal(engine.trustOf(ALICE.nodeId), TrustLevel.Direct);
  peers.deliver(ALICE.nodeId, signed(ALICE, { withPubkey: false }));
  assert.equal(got.length, 1);
});

test('a relayed envelope re-encodes to the same bytes apart from hop_count', () => {
  const { peers } = meshed();
  const env = signed(BOB, { hopCount: 7 });
  const bytes = encodeEnvelope(env);
  peers.deliver(ALICE.nodeId, fromBinary(EnvelopeSchema, bytes));
  const out = peers.take()[0];
  const back = create(EnvelopeSchema, { ...out.env, hopCount: 7 });
  assert.deepEqual([...toBinary(EnvelopeSchema, back)], [...bytes]);
});
