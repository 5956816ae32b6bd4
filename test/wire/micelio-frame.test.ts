import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import {
  FrameReader,
  MAX_FRAME_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  decodeEnvelope,
  decodeFrame,
  decodeMessage,
  encodeFrame,
  PeerExchangeSchema,
  PeerHelloSchema,
  PeerInfoSchema,
  StateSyncResponseSchema,
} from '../../src/wire/micelio/index.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };

function readAll(chunks: Uint8Array[]) {
  const r = new FrameReader();
  const frames: Uint8Array[] = [];
  for (const c of chunks) {
    const res = r.push(c, (f) => frames.push(f));
    if (!res.ok) return { frames, error: res.error, reader: r };
  }
  return { frames, error: undefined, reader: r };
}

function frame(payload: Uint8Array): Uint8Array {
  const f = encodeFrame(payload);
  assert.ok(f.ok);
  return f.value;
}

test('encode: empty payload allowed, exactly 1 MiB allowed, 1 MiB + 1 refused', () => {
  assert.equal(toHex(frame(new Uint8Array(0))), '4d49000100000000');
  assert.equal(frame(new Uint8Array(MAX_FRAME_PAYLOAD_BYTES)).length, MAX_FRAME_BYTES);
  const big = encodeFrame(new Uint8Array(MAX_FRAME_PAYLOAD_BYTES + 1));
  assert.equal(big.ok, false);
  assert.equal(big.ok ? '' : big.error.code, 'too-large');
});

test('reader reassembles frames split at every byte and packed together', () => {
  const payloads = [fromHex(vectors.keepalive.envelope)!, new Uint8Array(0), fromHex(vectors.hello.envelope)!];
  const stream = Uint8Array.from(payloads.flatMap((p) => [...frame(p)]));
  // one byte at a time
  const oneByOne = readAll([...stream].map((b) => Uint8Array.of(b)));
  assert.equal(oneByOne.error, undefined);
  assert.deepEqual(oneByOne.frames.map(toHex), payloads.map(toHex));
  // all in one chunk
  assert.deepEqual(readAll([stream]).frames.map(toHex), payloads.map(toHex));
  // a 1 MiB frame across many chunks
  const big = new Uint8Array(MAX_FRAME_PAYLOAD_BYTES).fill(9);
  const f = frame(big);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < f.length; i += 65_536) chunks.push(f.subarray(i, i + 65_536));
  const got = readAll(chunks);
  assert.equal(got.frames.length, 1);
  assert.equal(got.frames[0].length, MAX_FRAME_PAYLOAD_BYTES);
});

test('reader errors: bad magic, bad version, oversize length; then stays failed', () => {
  const badMagic = readAll([fromHex('4d4a000100000000')!]);
  assert.equal(badMagic.error?.code, 'bad-magic');
  assert.match(badMagic.error!.message, /0x4D4A/);
  const badVersion = readAll([fromHex('4d49000200000000')!]);
  assert.equal(badVersion.error?.code, 'bad-version');
  const oversize = readAll([fromHex('4d49000100100001')!]);
  assert.equal(oversize.error?.code, 'too-large');
  assert.equal(oversize.reader.bufferedBytes, 8, 'no payload buffer allocated for an oversize frame');
  assert.equal(oversize.reader.push(frame(new Uint8Array(1)), () => assert.fail('delivered after error')).ok, false);
});

test('decodeFrame needs exactly one frame', () => {
  assert.ok(decodeFrame(fromHex(vectors.keepalive.frame)!).ok);
  assert.equal(decodeFrame(fromHex('4d4900')!).ok, false);
  assert.equal(decodeFrame(fromHex(vectors.keepalive.frame + '00')!).ok, false);
});

const validStream = Uint8Array.from([...frame(fromHex(vectors.hello.envelope)!), ...frame(fromHex(vectors.keepalive.envelope)!)]);

function mutate(base: Uint8Array) {
  return fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }), fc.nat()).map(([flips, cut]) => {
    const m = base.slice(0, base.length - (cut % 4 === 0 ? cut % base.length : 0));
    for (const [pos, x] of flips) if (m.length) m[pos % m.length] ^= x;
    return m;
  });
}

test('property: the frame reader never throws and never buffers beyond one maximal frame', () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutate(validStream)), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), (bytes, cuts) => {
      const r = new FrameReader();
      let i = 0;
      let k = 0;
      while (i < bytes.length) {
        const n = cuts[k++ % cuts.length];
        const res = r.push(bytes.subarray(i, i + n), (f) => assert.ok(f.length <= MAX_FRAME_PAYLOAD_BYTES));
        assert.ok(r.bufferedBytes <= MAX_FRAME_BYTES);
        if (!res.ok) break;
        i += n;
      }
    }),
    { numRuns: 500 },
  );
});

test('property: envelope, hello and peer-exchange decoders return a Result on any bytes', () => {
  const envelopes = [vectors.hello.envelope, vectors.chat.envelope, vectors.peerExchange.envelope].map((h) => fromHex(h)!);
  const payloads = [vectors.hello.peerHello, vectors.peerExchange.peerExchange, vectors.peerExchange.peerInfo].map((h) => fromHex(h)!);
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), ...envelopes.map(mutate), ...payloads.map(mutate)), (bytes) => {
      for (const r of [
        decodeEnvelope(bytes),
        decodeMessage(PeerHelloSchema, bytes),
        decodeMessage(PeerExchangeSchema, bytes),
        decodeMessage(PeerInfoSchema, bytes),
        decodeMessage(StateSyncResponseSchema, bytes),
      ]) {
        if (!r.ok) assert.equal(typeof r.error.message, 'string');
      }
    }),
    { numRuns: 1000 },
  );
});

test('a length-delimited field claiming more bytes than present is refused before allocating', () => {
  // payload (field 6) announcing 0x7fffffff bytes, 3 present
  const r = decodeEnvelope(fromHex('32ffffffff07010203')!);
  assert.equal(r.ok, false);
  // invalid UTF-8 in a string field is refused like Go's proto3 unmarshal
  assert.equal(decodeEnvelope(fromHex('0a02c328')!).ok, false);
});
