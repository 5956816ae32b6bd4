import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/base/bytes.ts';
import { parseIpv6 } from '../../../src/wire/ipv6.ts';
import {
  decodeDataFrame,
  decodeFrame,
  encodeControlFrame,
  encodeDataFrame,
  MAX_RAW_DATA_BYTES,
  setDataFrameHopLimit,
} from '../../../src/wire/mycelium/packet.ts';
import { MyceliumFrameReader } from '../../../src/wire/mycelium/stream.ts';
import { decodeBeacon, encodeBeacon, BEACON_BYTES } from '../../../src/wire/mycelium/beacon.ts';
import V from '../../fixtures/mycelium-protocol-vectors.json' with { type: 'json' };

const hex = (s: string): Uint8Array => fromHex(s)!;

test('the Appendix A encrypted data frame encodes and decodes field by field', () => {
  const E = V.frames.encryptedData;
  const frame = encodeDataFrame({
    hopLimit: E.hopLimit,
    src: parseIpv6(V.keys.aliceAddress)!,
    dst: parseIpv6(V.keys.bobAddress)!,
    rawData: hex(E.rawData),
  });
  assert.equal(toHex(frame), E.frame);
  const d = decodeDataFrame(hex(E.frame));
  assert.ok(d.ok);
  assert.equal(d.value.hopLimit, 64);
  assert.equal(toHex(d.value.rawData), E.rawData);
  assert.equal(d.value.rawData.length, 66);
  setDataFrameHopLimit(frame, 3);
  assert.equal((decodeDataFrame(frame) as { ok: true; value: { hopLimit: number } }).value.hopLimit, 3);
});

test('a data frame longer than the 16-bit length field is refused by the encoder', () => {
  const z = new Uint8Array(16);
  assert.throws(() => encodeDataFrame({ hopLimit: 1, src: z, dst: z, rawData: new Uint8Array(MAX_RAW_DATA_BYTES + 1) }), /exceeds/);
});

test('the discovery beacon vector (port 9651) round-trips; other sizes and magics are refused', () => {
  const B = V.frames.beacon;
  const b = encodeBeacon({ tcpPort: B.port, routerId: hex(B.routerId) });
  assert.equal(b.length, BEACON_BYTES);
  assert.equal(toHex(b), B.hex);
  const d = decodeBeacon(hex(B.hex));
  assert.ok(d.ok);
  assert.equal(d.value.tcpPort, 9651);
  assert.equal(decodeBeacon(hex(B.hex).subarray(0, 49)).ok, false);
  const bad = hex(B.hex);
  bad[0] = 0x4d;
  assert.equal(decodeBeacon(bad).ok, false);
});

test('property: beacon decoder never throws on random bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => void decodeBeacon(b)), { numRuns: 2000 });
});

function frames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const k of ['hello', 'ihu', 'update', 'routeRequestBob', 'routeRequestWildcard', 'seqnoRequest', 'encryptedData'] as const) {
    const f = V.frames[k] as { hex?: string; frame?: string };
    out.push(hex(f.frame ?? f.hex!));
  }
  return out;
}

test('the stream reader splits frames however the stream is chunked', () => {
  const all = frames();
  const stream = new Uint8Array(all.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of all) {
    stream.set(f, o);
    o += f.length;
  }
  for (const chunkSize of [1, 2, 3, 7, 8, 9, 16, 41, 100, stream.length]) {
    const r = new MyceliumFrameReader();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i += chunkSize) {
      const res = r.push(stream.slice(i, i + chunkSize), (f) => got.push(toHex(f)));
      assert.ok(res.ok);
    }
    assert.deepEqual(got, all.map(toHex), `chunk ${chunkSize}`);
    assert.equal(r.bufferedBytes, 0);
  }
});

test('the stream reader stays in sync across a TLV type nobody knows, and stops on a bad version', () => {
  // A control frame carrying an unknown TLV (type 11): the reader frames it by the Babel length, the
  // frame decoder rejects it, and the next frame still comes out whole.
  const unknown = hex('010100002a0300040b02abcd');
  const hello = hex(V.frames.hello.hex);
  const r = new MyceliumFrameReader();
  const got: Uint8Array[] = [];
  assert.ok(r.push(new Uint8Array([...unknown, ...hello]), (f) => got.push(f)).ok);
  assert.equal(got.length, 2);
  assert.equal(decodeFrame(got[0]).ok, false);
  assert.equal((decodeFrame(got[0]) as { ok: false; error: { code: string } }).error.code, 'unknown-tlv');
  assert.ok(decodeFrame(got[1]).ok);
  const bad = r.push(hex('02010000'), () => assert.fail('nothing after a bad version'));
  assert.ok(bad.ok); // only 4 bytes: not yet enough to judge
  const res = r.push(hex('2a030008'), () => assert.fail('nothing after a bad version'));
  assert.equal(!res.ok && res.error.code, 'bad-version');
  assert.equal(r.push(hello, () => assert.fail('reader stays failed')).ok, false);
});

test('property: the stream reader never throws on random bytes and never yields a frame of the wrong length', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), (chunks) => {
      const r = new MyceliumFrameReader();
      for (const c of chunks) {
        const res = r.push(c, (f) => {
          // Every frame decodes to a typed result, never an exception.
          const d = decodeFrame(f);
          if (!d.ok) assert.equal(typeof d.error.code, 'string');
        });
        if (!res.ok) break;
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: mutated valid frames decode to a typed result', () => {
  const all = frames();
  fc.assert(
    fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (i, muts) => {
      const f = all[i].slice();
      for (const [at, v] of muts) f[at % f.length] = v;
      const d = decodeFrame(f);
      if (!d.ok) assert.equal(typeof d.error.message, 'string');
    }),
    { numRuns: 3000 },
  );
});

test('control frames: one TLV per frame, decodeFrame tells data from control', () => {
  const f = encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: 5, intervalCs: 2000 });
  assert.equal(toHex(f), V.frames.hello.hex);
  const d = decodeFrame(f);
  assert.ok(d.ok && d.value.kind === 'control' && d.value.tlv.kind === 'hello');
  const e = decodeFrame(hex(V.frames.encryptedData.frame));
  assert.ok(e.ok && e.value.kind === 'data');
});
