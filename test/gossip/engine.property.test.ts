// Property tests: whatever envelopes neighbours send — random, or valid ones with bytes mutated — the
// engine never throws, its maps never grow past their limits, nothing it relays carries more hops than
// it would give, and nothing it delivers is content its originator did not sign.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { VirtualClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import { GossipEngine, type GossipMessage } from '../../src/gossip/engine.ts';
import { EnvelopeSchema } from '../../src/wire/gen/micelio_pb.ts';
import { decodeEnvelope, encodeEnvelope, envelopeSignBytes, isLinkLocalMsgType } from '../../src/wire/micelio/envelope.ts';
import { ed25519Verify } from '../../src/crypto/ed25519.ts';
import { FakePeers, ident, signed } from './helpers.ts';

const LOCAL = ident(1);
const NODES = [ident(2), ident(3), ident(4), ident(5)];
const LIMITS = { seenMaxEntries: 64, keyringMaxEntries: 6, limiterMaxEntries: 5 };

function build() {
  const clock = new VirtualClock();
  const peers = new FakePeers();
  const engine = new GossipEngine({ identity: LOCAL, peers, clock, logger: silentLogger(), ...LIMITS });
  engine.start();
  for (const n of NODES.slice(0, 3)) peers.connect(n);
  const got: GossipMessage[] = [];
  for (const t of [0, 3, 6, 7, 1000]) engine.handle(t, (m) => got.push(m));
  return { clock, peers, engine, got };
}

function checkInvariants(s: ReturnType<typeof build>): void {
  const st = s.engine.stats();
  assert.ok(st.seen.size <= LIMITS.seenMaxEntries);
  assert.ok(st.keyring.size <= LIMITS.keyringMaxEntries);
  assert.ok(st.limiter.size <= LIMITS.limiterMaxEntries);
  for (const out of s.peers.take()) assert.ok(out.env.hopCount < s.engine.maxHops, 'relayed with fewer hops than the maximum');
  // Everything delivered verifies with the originator's real key (when we know who that is).
  for (const m of s.got.splice(0)) {
    const owner = [LOCAL, ...NODES].find((n) => n.nodeId === m.senderId);
    if (owner === undefined) continue;
    assert.deepEqual([...m.senderPublicKey], [...owner.ed25519Public]);
  }
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const anyId = fc.oneof(fc.string({ maxLength: 140 }), fc.constantFrom(...NODES.map((n) => n.nodeId), LOCAL.nodeId), fc.uuid());
const anyType = fc.oneof(fc.constantFrom(0, 3, 6, 7, 8, 99, 1000, 0xffffffff), fc.nat()).filter((t) => t <= 0xffffffff && !isLinkLocalMsgType(t));

const randomEnvelope = fc.record({
  messageId: anyId,
  senderId: anyId,
  lamportTs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  hopCount: fc.oneof(fc.nat(12), fc.constant(0xffffffff)),
  msgType: anyType,
  payload: bytes(80),
  signature: fc.oneof(bytes(70), fc.uint8Array({ minLength: 64, maxLength: 64 })),
  senderPubkey: fc.oneof(bytes(40), fc.constantFrom(...NODES.map((n) => n.ed25519Public))),
});

test('random envelopes from any neighbour never throw and never grow a map past its limit (property)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(randomEnvelope, fc.nat(2), fc.nat(400_000)), { maxLength: 60 }), async (msgs) => {
      const s = build();
      for (const [fields, from, waitMs] of msgs) {
        s.peers.deliver(NODES[from].nodeId, create(EnvelopeSchema, fields));
        await s.clock.advance(waitMs); // the sweeps run on the way
        checkInvariants(s);
      }
      assert.equal(s.engine.stats().delivered, 0, 'nothing random carries a valid signature');
    }),
    { numRuns: 150 },
  );
});

test('valid envelopes with mutated bytes: no throw, and nothing unsigned is ever delivered (property)', () => {
  const originals = NODES.map((n, i) => encodeEnvelope(signed(n, { msgType: [3, 6, 1000, 7][i], payload: `payload of node ${i}`, hopCount: 4 })));
  const mutation = fc.record({
    which: fc.nat(originals.length - 1),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }),
  });
  fc.assert(
    fc.property(fc.array(mutation, { maxLength: 30 }), (ms) => {
      const s = build();
      for (const { which, edits } of ms) {
        const b = [...originals[which]];
        for (const [pos, v, op] of edits) {
          const i = pos % (b.length + 1);
          if (op === 'set' && i < b.length) b[i] = v;
          else if (op === 'insert') b.splice(i, 0, v);
          else if (op === 'delete') b.splice(i, 1);
        }
        const env = decodeEnvelope(Uint8Array.from(b));
        if (!env.ok) continue;
        s.peers.deliver(NODES[which % 3].nodeId, env.value);
        for (const m of s.got) {
          const owner = NODES.find((n) => n.nodeId === m.senderId);
          assert.ok(owner, 'delivered from a known originator');
          const data = envelopeSignBytes({ messageId: m.messageId, senderId: m.senderId, lamportTs: m.lamportTs, msgType: m.msgType, payload: m.payload });
          const sig = env.value.signature;
          assert.ok(ed25519Verify(owner.ed25519Public, data, sig), 'every delivered message is signed by its originator');
        }
        checkInvariants(s);
      }
    }),
    { numRuns: 200 },
  );
});

test('random bytes, decoded as envelopes when they decode, never throw in the engine (property)', () => {
  fc.assert(
    fc.property(fc.array(bytes(200), { maxLength: 40 }), (blobs) => {
      const s = build();
      for (const b of blobs) {
        const env = decodeEnvelope(b);
        if (env.ok) s.peers.deliver(NODES[0].nodeId, env.value);
        checkInvariants(s);
      }
    }),
    { numRuns: 200 },
  );
});

test('a flood of distinct valid originators keeps every map at its limit (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 1000 }), (count, seedBase) => {
      const s = build();
      for (let i = 0; i < count; i++) s.peers.deliver(NODES[i % 3].nodeId, signed(ident(1000 + seedBase + i)));
      checkInvariants(s);
      const st = s.engine.stats();
      assert.equal(st.received, count, 'every new originator has a full bucket');
    }),
    { numRuns: 15 },
  );
});
