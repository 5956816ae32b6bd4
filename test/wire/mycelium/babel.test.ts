import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/base/bytes.ts';
import { parseIpv6 } from '../../../src/wire/ipv6.ts';
import {
  decodeBabelPacket,
  decodeTlvBody,
  encodeTlv,
  TLV_TYPE_HELLO,
  TLV_TYPE_IHU,
  TLV_TYPE_ROUTE_REQUEST,
  TLV_TYPE_SEQNO_REQUEST,
  TLV_TYPE_UPDATE,
  type Prefix,
  type Tlv,
} from '../../../src/wire/mycelium/babel.ts';
import { decodeControlFrame, encodeControlFrame } from '../../../src/wire/mycelium/packet.ts';
import V from '../../fixtures/mycelium-protocol-vectors.json' with { type: 'json' };

const hex = (s: string): Uint8Array => fromHex(s.replace(/\s/g, ''))!;

function ip(text: string): { family: 4 | 6; bytes: Uint8Array } {
  if (text.includes(':')) return { family: 6, bytes: parseIpv6(text)! };
  return { family: 4, bytes: Uint8Array.from(text.split('.').map(Number)) };
}

function prefix(family: number, address: string, plen: number): Prefix {
  const a = ip(address);
  assert.equal(a.family, family);
  return { family: a.family, len: plen, address: a.bytes };
}

/**
 * Prefix as the decoder yields it: bytes past the transmitted prefix zeroed, except for link-local
 * AE 3, whose 8 wire bytes are the lower half under an implied fe80::/64 (as Mycelium decodes it).
 */
function wirePrefix(family: number, address: string, plen: number): Prefix {
  const p = prefix(family, address, plen);
  if (address.startsWith('fe80:')) return p;
  const out = new Uint8Array(p.address.length);
  out.set(p.address.subarray(0, (plen + 7) >> 3));
  return { ...p, address: out };
}

function decodeOk(type: number, b: Uint8Array): Tlv {
  const r = decodeTlvBody(type, b);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}

const rid = (byte: number): Uint8Array => new Uint8Array(40).fill(byte);

test('Appendix A control frames encode byte for byte and decode back', () => {
  const F = V.frames;
  const ridA = hex(V.keys.routerIdA);
  const cases: [Tlv, string][] = [
    [{ kind: 'hello', flags: 0x8000, seqno: F.hello.seqno, intervalCs: F.hello.intervalCs }, F.hello.hex],
    [{ kind: 'ihu', rxCost: F.ihu.rxCost, intervalCs: F.ihu.intervalCs, address: undefined }, F.ihu.hex],
    [
      { kind: 'update', flags: 0, intervalCs: F.update.intervalCs, seqno: F.update.seqno, metric: F.update.metric, prefix: wirePrefix(6, F.update.prefix, 64), routerId: ridA },
      F.update.hex,
    ],
    [{ kind: 'route-request', generation: 0, prefix: wirePrefix(6, F.routeRequestBob.prefix, 64) }, F.routeRequestBob.hex],
    [{ kind: 'route-request', generation: 0, prefix: undefined }, F.routeRequestWildcard.hex],
    [
      { kind: 'seqno-request', seqno: F.seqnoRequest.seqno, hopCount: F.seqnoRequest.hopCount, routerId: ridA, prefix: wirePrefix(6, F.seqnoRequest.prefix, 64) },
      F.seqnoRequest.hex,
    ],
  ];
  for (const [tlv, want] of cases) {
    assert.equal(toHex(encodeControlFrame(tlv)), want, tlv.kind);
    const back = decodeControlFrame(hex(want));
    assert.ok(back.ok, back.ok ? '' : back.error.message);
    assert.deepEqual(back.value, tlv);
  }
});

test('Rust unit-test vectors: Hello', () => {
  const R = V.rustTlvBodies;
  for (const v of R.helloEncode) {
    const t: Tlv = { kind: 'hello', flags: v.flags, seqno: v.seqno, intervalCs: v.intervalCs };
    assert.equal(toHex(encodeTlv(t).subarray(2)), v.hex);
  }
  for (const v of R.helloDecode) {
    assert.deepEqual(decodeOk(TLV_TYPE_HELLO, hex(v.hex)), { kind: 'hello', flags: v.flags, seqno: v.seqno, intervalCs: v.intervalCs });
  }
});

test('Rust unit-test vectors: IHU, including link-local AE 3 and a refused unknown AE', () => {
  const R = V.rustTlvBodies;
  for (const v of R.ihuEncode) {
    const t: Tlv = { kind: 'ihu', rxCost: v.rxCost, intervalCs: v.intervalCs, address: ip(v.address) };
    assert.equal(toHex(encodeTlv(t).subarray(2)), v.hex);
  }
  for (const v of R.ihuDecode) {
    const got = decodeOk(TLV_TYPE_IHU, hex(v.hex));
    assert.deepEqual(got, { kind: 'ihu', rxCost: v.rxCost, intervalCs: v.intervalCs, address: v.address === null ? undefined : ip(v.address) });
  }
  const bad = decodeTlvBody(TLV_TYPE_IHU, hex(R.ihuBadAe));
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.error.code, 'bad-ae');
});

test('Rust unit-test vectors: Update (58-byte IPv6, 53-byte IPv4, wildcard, link-local, flag mask)', () => {
  const R = V.rustTlvBodies;
  for (const v of R.updateEncode) {
    const t: Tlv = { kind: 'update', flags: v.flags, intervalCs: v.intervalCs, seqno: v.seqno, metric: v.metric, prefix: prefix(v.family, v.address, v.plen), routerId: rid(v.routerIdByte) };
    const b = encodeTlv(t).subarray(2);
    assert.equal(toHex(b), v.hex);
    assert.equal(b.length, v.family === 6 ? 58 : 53);
  }
  for (const v of R.updateDecode) {
    const got = decodeOk(TLV_TYPE_UPDATE, hex(v.hex));
    assert.deepEqual(got, { kind: 'update', flags: v.flags, intervalCs: v.intervalCs, seqno: v.seqno, metric: v.metric, prefix: wirePrefix(v.family, v.address, v.plen), routerId: rid(v.routerIdByte) });
  }
  const bad = decodeTlvBody(TLV_TYPE_UPDATE, hex(R.updateBadAe));
  assert.equal(!bad.ok && bad.error.code, 'bad-ae');
});

test('Rust unit-test vectors: RouteRequest', () => {
  const R = V.rustTlvBodies;
  for (const v of R.routeRequestEncode) {
    const t: Tlv = { kind: 'route-request', generation: v.generation, prefix: 'wildcard' in v ? undefined : prefix(v.family!, v.address!, v.plen!) };
    assert.equal(toHex(encodeTlv(t).subarray(2)), v.hex);
  }
  for (const v of R.routeRequestDecode) {
    const got = decodeOk(TLV_TYPE_ROUTE_REQUEST, hex(v.hex));
    assert.deepEqual(got, { kind: 'route-request', generation: v.generation, prefix: 'wildcard' in v ? undefined : wirePrefix(v.family!, v.address!, v.plen!) });
  }
  const bad = decodeTlvBody(TLV_TYPE_ROUTE_REQUEST, hex(R.routeRequestBadAe));
  assert.equal(!bad.ok && bad.error.code, 'bad-ae');
});

test('Rust unit-test vectors: SeqnoRequest, and hop count 0 is refused', () => {
  const R = V.rustTlvBodies;
  for (const v of R.seqnoRequestEncode) {
    const t: Tlv = { kind: 'seqno-request', seqno: v.seqno, hopCount: v.hopCount, routerId: rid(v.routerIdByte), prefix: prefix(v.family, v.address, v.plen) };
    assert.equal(toHex(encodeTlv(t).subarray(2)), v.hex);
  }
  for (const v of R.seqnoRequestDecode) {
    const got = decodeOk(TLV_TYPE_SEQNO_REQUEST, hex(v.hex));
    assert.deepEqual(got, { kind: 'seqno-request', seqno: v.seqno, hopCount: v.hopCount, routerId: rid(v.routerIdByte), prefix: wirePrefix(v.family, v.address, v.plen) });
  }
  const bad = decodeTlvBody(TLV_TYPE_SEQNO_REQUEST, hex(R.seqnoRequestBadAe));
  assert.equal(!bad.ok && bad.error.code, 'bad-ae');
  const zero = decodeTlvBody(TLV_TYPE_SEQNO_REQUEST, hex(R.seqnoRequestZeroHop));
  assert.equal(!zero.ok && zero.error.code, 'bad-hop-count');
});

test('the decoder checks lengths: trailing TLVs, short bodies, bad magic and version are errors', () => {
  const hello = hex(V.frames.hello.hex).subarray(4);
  assert.ok(decodeBabelPacket(hello).ok);
  const two = new Uint8Array([...hello.subarray(0, 2), 0, 16, ...hello.subarray(4), ...hello.subarray(4)]);
  assert.equal((decodeBabelPacket(two) as { ok: false; error: { code: string } }).error.code, 'bad-length');
  const badMagic = hello.slice();
  badMagic[0] = 43;
  assert.equal((decodeBabelPacket(badMagic) as { ok: false; error: { code: string } }).error.code, 'bad-magic');
  const badVersion = hello.slice();
  badVersion[1] = 2;
  assert.equal((decodeBabelPacket(badVersion) as { ok: false; error: { code: string } }).error.code, 'bad-version');
  const shortHello = decodeTlvBody(TLV_TYPE_HELLO, new Uint8Array(5));
  assert.equal(!shortHello.ok && shortHello.error.code, 'bad-length');
  const unknown = decodeBabelPacket(hex('2a0300030b0100'));
  assert.equal(!unknown.ok && unknown.error.code, 'unknown-tlv');
});

test('the encoder refuses what the Rust decoder would skip', () => {
  assert.throws(() => encodeTlv({ kind: 'seqno-request', seqno: 1, hopCount: 0, routerId: rid(1), prefix: prefix(6, '400::', 64) }), /hop count/);
  assert.throws(() => encodeTlv({ kind: 'ihu', rxCost: 1, intervalCs: 0, address: undefined }), /interval/);
  assert.throws(() => encodeTlv({ kind: 'update', flags: 0, intervalCs: 1, seqno: 1, metric: 1, prefix: { family: 6, len: 129, address: new Uint8Array(16) }, routerId: rid(1) }), /prefix length/);
  assert.throws(() => encodeTlv({ kind: 'update', flags: 0, intervalCs: 1, seqno: 70000, metric: 1, prefix: prefix(6, '400::', 64), routerId: rid(1) }), /u16/);
});

const arbPrefix: fc.Arbitrary<Prefix> = fc.oneof(
  fc.record({ len: fc.integer({ min: 0, max: 128 }), bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }) }).map(({ len, bytes }) => {
    const address = new Uint8Array(16);
    address.set(bytes.subarray(0, (len + 7) >> 3));
    return { family: 6 as const, len, address };
  }),
  fc.record({ len: fc.integer({ min: 0, max: 32 }), bytes: fc.uint8Array({ minLength: 4, maxLength: 4 }) }).map(({ len, bytes }) => {
    const address = new Uint8Array(4);
    address.set(bytes.subarray(0, (len + 7) >> 3));
    return { family: 4 as const, len, address };
  }),
);
const u16 = fc.integer({ min: 0, max: 0xffff });
const arbTlv: fc.Arbitrary<Tlv> = fc.oneof(
  fc.record({ kind: fc.constant('hello' as const), flags: fc.constantFrom(0, 0x8000), seqno: u16, intervalCs: u16 }),
  fc.record({
    kind: fc.constant('ihu' as const),
    rxCost: u16,
    intervalCs: fc.integer({ min: 1, max: 0xffff }),
    address: fc.option(
      fc.oneof(
        fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => ({ family: 4 as const, bytes })),
        fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => ({ family: 6 as const, bytes })),
      ),
      { nil: undefined },
    ),
  }),
  fc.record({ kind: fc.constant('update' as const), flags: fc.constantFrom(0, 0x40, 0x80, 0xc0), intervalCs: u16, seqno: u16, metric: u16, prefix: arbPrefix, routerId: fc.uint8Array({ minLength: 40, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('route-request' as const), generation: fc.integer({ min: 0, max: 255 }), prefix: fc.option(arbPrefix, { nil: undefined }) }),
  fc.record({ kind: fc.constant('seqno-request' as const), seqno: u16, hopCount: fc.integer({ min: 1, max: 255 }), routerId: fc.uint8Array({ minLength: 40, maxLength: 40 }), prefix: arbPrefix }),
);

/** fast-check records have null prototypes; compare as plain objects. */
function normalise(t: Tlv): Tlv {
  return structuredClone(t);
}

test('property: every TLV the encoder accepts decodes to itself', () => {
  fc.assert(
    fc.property(arbTlv, (t) => {
      const back = decodeControlFrame(encodeControlFrame(t));
      assert.ok(back.ok, back.ok ? '' : back.error.message);
      assert.deepEqual(back.value, normalise(t));
    }),
    { numRuns: 2000 },
  );
});

test('property: random and mutated control frames never throw, and whatever decodes re-encodes', () => {
  const check = (b: Uint8Array): void => {
    const r = decodeControlFrame(b);
    if (r.ok) {
      // Whatever we accept we can also send (as a valid, possibly normalised frame).
      const again = decodeControlFrame(encodeControlFrame(r.value));
      assert.ok(again.ok);
    } else {
      assert.equal(typeof r.error.code, 'string');
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), check), { numRuns: 3000 });
  fc.assert(
    fc.property(arbTlv, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (t, muts, cut) => {
      const b = encodeControlFrame(t).slice();
      for (const [at, v] of muts) b[at % b.length] = v;
      check(b);
      check(b.subarray(0, cut % (b.length + 1)));
    }),
    { numRuns: 3000 },
  );
});
