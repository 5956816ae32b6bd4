// The traffic classifier reads msg_type straight from envelope bytes: it must agree with the real
// decoder on every envelope, and never throw on junk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { KEEPALIVE_ENVELOPE_BYTES, decodeEnvelope, encodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { newEnvelope } from '../../src/crypto/envelope.ts';
import { encodeControlFrame } from '../../src/wire/mycelium/packet.ts';
import { TrafficClassifier, TrafficCounters, envelopeMsgType, kindIndex, TRAFFIC_KINDS } from '../../src/sim/traffic.ts';

const id = identityFromSeed(new Uint8Array(32).fill(7));

test('envelopeMsgType agrees with the decoder on real envelopes', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 20 }), (msgType, payload, hops) => {
      const bytes = encodeEnvelope(newEnvelope({ msgType, payload, senderId: id.nodeId, signingKey: id.signingKey, hopCount: hops, senderPubkey: id.ed25519Public }));
      assert.equal(envelopeMsgType(bytes), msgType);
    }),
    { numRuns: 200 },
  );
  assert.equal(envelopeMsgType(KEEPALIVE_ENVELOPE_BYTES), 5);
});

test('envelopeMsgType never throws, and where the decoder accepts bytes it reads the same msg_type', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const t = envelopeMsgType(bytes);
      assert.ok(Number.isInteger(t) && t >= -1);
      const d = decodeEnvelope(bytes);
      if (d.ok && t >= 0) assert.equal(t, d.value.msgType);
    }),
    { numRuns: 2000 },
  );
  // Mutations of a real envelope.
  const real = encodeEnvelope(newEnvelope({ msgType: 3, payload: new Uint8Array(40), senderId: id.nodeId, signingKey: id.signingKey }));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: real.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
      const m = Uint8Array.from(real);
      m[at] = v;
      envelopeMsgType(m);
      envelopeMsgType(m.subarray(0, at));
    }),
    { numRuns: 1000 },
  );
});

test('classification: hello, keepalive, peer exchange, gossip, overlay types, Mycelium control and data', () => {
  const c = new TrafficClassifier({ nativeOverlayControl: [60], nativeOverlayData: [61] });
  const env = (t: number) => encodeEnvelope(newEnvelope({ msgType: t, payload: new Uint8Array(4), senderId: id.nodeId, signingKey: id.signingKey }));
  assert.equal(c.classify('native', env(1)), kindIndex('native-hello'));
  assert.equal(c.classify('native', env(2)), kindIndex('native-hello'));
  assert.equal(c.classify('native', KEEPALIVE_ENVELOPE_BYTES), kindIndex('native-keepalive'));
  assert.equal(c.classify('native', env(4)), kindIndex('native-peer-exchange'));
  assert.equal(c.classify('native', env(3)), kindIndex('native-gossip'));
  assert.equal(c.classify('native', env(60)), kindIndex('native-overlay-control'));
  assert.equal(c.classify('native', env(61)), kindIndex('native-overlay-data'));
  // By default the overlay's own msg_types (90 control, 91 data) are overlay traffic.
  const d = new TrafficClassifier();
  assert.equal(d.classify('native', env(90)), kindIndex('native-overlay-control'));
  assert.equal(d.classify('native', env(91)), kindIndex('native-overlay-data'));
  assert.equal(d.classify('native', env(60)), kindIndex('native-gossip'));
  const hello = encodeControlFrame({ kind: 'hello', flags: 0, seqno: 1, intervalCs: 2000 });
  assert.equal(c.classify('mycelium', hello), kindIndex('mycelium-control'));
  assert.equal(c.classify('mycelium', Uint8Array.of(1, 0, 0, 0)), kindIndex('mycelium-data'));
  const counters = new TrafficCounters(2);
  const snap = counters.snapshot();
  counters.add(1, kindIndex('mycelium-control'), 10);
  counters.add(1, kindIndex('mycelium-control'), 5);
  assert.equal(counters.bytesOf(1, ['mycelium-control'], snap), 15);
  assert.equal(counters.bytesOf(0, ['mycelium-control']), 0);
  assert.equal(counters.totals()['mycelium-control'].messages, 2);
  assert.equal(Object.keys(counters.totals()).length, TRAFFIC_KINDS.length);
});

test('envelopeMsgType reads protobuf as the decoder does: the last msg_type wins, a uint32 keeps its low bits', () => {
  assert.equal(envelopeMsgType(Uint8Array.from([40, 0, 40, 1])), 1);
  // msg_type = 2^32 + 3 as a 5-byte varint: the decoder keeps 3.
  assert.equal(envelopeMsgType(Uint8Array.from([40, 0x83, 0x80, 0x80, 0x80, 0x10])), 3);
});
