// The WebSocket frame decoder of the JSON-RPC server: masked client frames decode to what was sent, in any
// split; random and mutated bytes never throw, and every refusal names a close code and a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { acceptKey, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG, encodeServerFrame, parseClientFrame } from '../../src/api/jsonrpc/websocket.ts';

/** A client frame as a browser sends it: masked. */
function clientFrame(opcode: number, payload: Uint8Array, mask: Uint8Array, fin = true): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65_536) {
    out[1] = 0x80 | 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setUint32(6, len);
  }
  out.set(mask, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

test('the handshake key of RFC 6455 §1.3', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('masked frames of every length class decode to their payload; a frame split anywhere needs more bytes', () => {
  fc.assert(fc.property(
    fc.constantFrom(0x1, 0x2, 0x0),
    fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 125, max: 70_000 }).map((n) => new Uint8Array(n).fill(7))),
    fc.uint8Array({ minLength: 4, maxLength: 4 }),
    fc.boolean(),
    (op, payload, mask, fin) => {
      const f = clientFrame(op, payload, mask, fin);
      const r = parseClientFrame(f, 1 << 20);
      assert.equal(r.kind, 'frame');
      if (r.kind !== 'frame') return;
      assert.equal(r.used, f.length);
      assert.deepEqual([r.frame.opcode, r.frame.fin], [op, fin]);
      assert.deepEqual(Buffer.from(r.frame.payload), Buffer.from(payload));
      for (const cut of [0, 1, 2, Math.floor(f.length / 2), f.length - 1]) assert.equal(parseClientFrame(f.subarray(0, cut), 1 << 20).kind, 'need-more');
    },
  ), { numRuns: 200 });
});

test('refusals: unmasked, reserved bits, unknown opcodes, long or fragmented control frames, oversized payloads', () => {
  const mask = new Uint8Array([1, 2, 3, 4]);
  const expect = (bytes: Uint8Array, code: number, reason: RegExp) => {
    const r = parseClientFrame(bytes, 1000);
    assert.equal(r.kind, 'error');
    if (r.kind === 'error') {
      assert.equal(r.closeCode, code);
      assert.match(r.reason, reason);
    }
  };
  expect(encodeServerFrame(0x1, new Uint8Array(3)), CLOSE_PROTOCOL_ERROR, /must be masked/);
  const rsv = clientFrame(0x1, new Uint8Array(3), mask);
  rsv[0] |= 0x40;
  expect(rsv, CLOSE_PROTOCOL_ERROR, /reserved bits/);
  expect(clientFrame(0x3, new Uint8Array(1), mask), CLOSE_PROTOCOL_ERROR, /unknown opcode 3/);
  expect(clientFrame(0x9, new Uint8Array(1), mask, false), CLOSE_PROTOCOL_ERROR, /fragmented control frame/);
  expect(clientFrame(0x9, new Uint8Array(126), mask), CLOSE_PROTOCOL_ERROR, /control frame of 126 bytes/);
  expect(clientFrame(0x1, new Uint8Array(1001), mask).subarray(0, 8), CLOSE_TOO_BIG, /a frame of 1001 bytes; at most 1000/);
  const huge = new Uint8Array([0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 0]);
  expect(huge, CLOSE_TOO_BIG, /4 GiB or more/);
});

test('random and mutated bytes never throw (property)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 1 << 16 }), (bytes, max) => {
    const r = parseClientFrame(bytes, max);
    assert.ok(['frame', 'need-more', 'error'].includes(r.kind));
    if (r.kind === 'frame') assert.ok(r.used <= bytes.length && r.frame.payload.length <= max);
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (payload, flips) => {
    const f = clientFrame(0x1, payload, new Uint8Array([9, 8, 7, 6]));
    for (const [at, v] of flips) f[at % f.length] = v;
    parseClientFrame(f, 1 << 16);
  }), { numRuns: 2000 });
});

test('server frames carry their length in the right class', () => {
  for (const n of [0, 125, 126, 65_535, 65_536]) {
    const f = encodeServerFrame(0x1, new Uint8Array(n));
    assert.equal(f[0], 0x81);
    assert.equal(f.length, n + (n < 126 ? 2 : n < 65_536 ? 4 : 10));
  }
});
