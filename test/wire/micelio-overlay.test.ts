import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { toHex } from '../../src/base/bytes.ts';
import {
  EnvelopeSchema,
  MAX_OVERLAY_PACKET_BYTES,
  MsgType,
  OVERLAY_CONTROL_MSG_TYPE,
  OVERLAY_DATA_MSG_TYPE,
  decodeEnvelope,
  encodeEnvelope,
  encodeOverlayEnvelope,
  isLinkLocalMsgType,
  peekOverlayEnvelope,
} from '../../src/wire/micelio/index.ts';
import { encodeControlFrame } from '../../src/wire/mycelium/packet.ts';

test('the reserved msg_types: 90 control, 91 data; both consumed below gossip', () => {
  assert.equal(MsgType.OverlayControl, OVERLAY_CONTROL_MSG_TYPE);
  assert.equal(MsgType.OverlayData, OVERLAY_DATA_MSG_TYPE);
  assert.equal(OVERLAY_CONTROL_MSG_TYPE, 90);
  assert.equal(OVERLAY_DATA_MSG_TYPE, 91);
  // In Micelio's core range 6–99 and clear of the replicated state's 6, 7, 8.
  for (const t of [90, 91]) assert.ok(t >= 6 && t <= 99 && ![6, 7, 8].includes(t));
  assert.ok(isLinkLocalMsgType(90) && isLinkLocalMsgType(91));
});

test('layout: hop_count 1, msg_type, payload — byte for byte what protobuf encodes, no id, sender or signature', () => {
  const hello = encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: 7, intervalCs: 100 });
  const bytes = encodeOverlayEnvelope(OVERLAY_CONTROL_MSG_TYPE, hello);
  assert.equal(toHex(bytes.subarray(0, 6)), `2001285a32${hello.length.toString(16).padStart(2, '0')}`);
  assert.equal(toHex(bytes.subarray(6)), toHex(hello));
  const viaProtobuf = encodeEnvelope(create(EnvelopeSchema, { hopCount: 1, msgType: 90, payload: hello }));
  assert.equal(toHex(bytes), toHex(viaProtobuf));
  const env = decodeEnvelope(bytes);
  assert.ok(env.ok);
  assert.equal(env.value.messageId, '');
  assert.equal(env.value.senderId, '');
  assert.equal(env.value.signature.length, 0);
  assert.equal(env.value.hopCount, 1);
  assert.equal(env.value.msgType, 90);
  // Lengths ≥ 128 take a multi-byte varint; still identical to protobuf's encoding (which leaves out an
  // empty payload altogether, where ours writes a zero length: both decode alike).
  for (const n of [0, 1, 127, 128, 1440, 16_383, 16_384, 65_575]) {
    const p = new Uint8Array(n).fill(0xab);
    const mine = encodeOverlayEnvelope(OVERLAY_DATA_MSG_TYPE, p);
    if (n > 0) assert.equal(toHex(mine), toHex(encodeEnvelope(create(EnvelopeSchema, { hopCount: 1, msgType: 91, payload: p }))));
    const back = peekOverlayEnvelope(mine);
    assert.ok(back);
    assert.equal(back.msgType, 91);
    assert.equal(back.packet.length, n);
  }
  assert.throws(() => encodeOverlayEnvelope(OVERLAY_DATA_MSG_TYPE, new Uint8Array(MAX_OVERLAY_PACKET_BYTES + 1)), RangeError);
  // The largest packet still fits a Micelio frame (1 MiB of envelope).
  assert.ok(encodeOverlayEnvelope(OVERLAY_DATA_MSG_TYPE, new Uint8Array(MAX_OVERLAY_PACKET_BYTES)).length <= 1_048_576);
});

test('peek: only the canonical form; anything else is left to the full decoder', () => {
  const p = Uint8Array.of(1, 2, 3);
  const canonical = encodeOverlayEnvelope(OVERLAY_DATA_MSG_TYPE, p);
  assert.deepEqual(peekOverlayEnvelope(canonical)?.packet, p);
  // Another msg_type, another hop count, a trailing byte, a short payload, a signed envelope: not peeked.
  const other = Uint8Array.from(canonical);
  other[3] = 3;
  assert.equal(peekOverlayEnvelope(other), undefined);
  const hop2 = Uint8Array.from(canonical);
  hop2[1] = 2;
  assert.equal(peekOverlayEnvelope(hop2), undefined);
  assert.equal(peekOverlayEnvelope(Uint8Array.of(...canonical, 0)), undefined);
  assert.equal(peekOverlayEnvelope(canonical.subarray(0, canonical.length - 1)), undefined);
  const signed = encodeEnvelope(create(EnvelopeSchema, { hopCount: 1, msgType: 91, payload: p, signature: new Uint8Array(64) }));
  assert.equal(peekOverlayEnvelope(signed), undefined);
  // The keepalive is not an overlay envelope.
  assert.equal(peekOverlayEnvelope(Uint8Array.of(0x28, 0x05)), undefined);
});

test('peek over random and mutated bytes: never throws; whatever it accepts decodes to the same envelope', () => {
  const check = (b: Uint8Array): void => {
    const got = peekOverlayEnvelope(b);
    if (got === undefined) return;
    const env = decodeEnvelope(b);
    assert.ok(env.ok);
    assert.equal(env.value.msgType, got.msgType);
    assert.equal(env.value.hopCount, 1);
    assert.equal(toHex(env.value.payload), toHex(got.packet));
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 3000 });
  const valid = fc.tuple(fc.constantFrom(90, 91), fc.uint8Array({ maxLength: 300 })).map(([t, p]) => encodeOverlayEnvelope(t as 90 | 91, p));
  fc.assert(
    fc.property(valid, fc.nat(), fc.integer({ min: 0, max: 255 }), (b, i, v) => {
      const m = Uint8Array.from(b);
      m[i % m.length] = v;
      check(m);
      check(m.subarray(0, i % (m.length + 1)));
    }),
    { numRuns: 3000 },
  );
});
