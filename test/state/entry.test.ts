// Entry signing: the hypha-state-v1 bytes, verification of every field, and why the phase-5 encoding was
// replaced (a relay can move bytes between key and value without breaking its signature).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import { ed25519Sign } from '../../src/crypto/ed25519.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import {
  entrySignBytes,
  entryToWire,
  parseKey,
  signEntry,
  verifyEntry,
  STATE_DOMAIN_TAG,
  SIGNATURE_SCHEME_V1,
} from '../../src/state/entry.ts';
import { hlcFromMs } from '../../src/state/hlc.ts';
import { decodeMessage } from '../../src/wire/micelio/codec.ts';
import { StateEntrySchema, type StateEntry } from '../../src/wire/gen/micelio_pb.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };

const A = identityFromSeed(fromHex(vectors.nodeA.ed25519Seed)!);
const B = identityFromSeed(fromHex(vectors.nodeB.ed25519Seed)!);
const LIMITS = { maxKeyBytes: 256, maxValueBytes: 4096 };
const utf8 = new TextEncoder();
const TS = hlcFromMs(1_700_000_000_000, 3);

/** The phase-5 branch's signed bytes: key ‖ value ‖ u64_BE(ts) ‖ node_id ‖ deleted, nothing between. */
function phase5SignBytes(key: string, value: Uint8Array, ts: bigint, nodeId: string, deleted: boolean): Uint8Array {
  const k = utf8.encode(key);
  const n = utf8.encode(nodeId);
  const out = new Uint8Array(k.length + value.length + 8 + n.length + 1);
  out.set(k, 0);
  out.set(value, k.length);
  new DataView(out.buffer).setBigUint64(k.length + value.length, ts);
  out.set(n, k.length + value.length + 8);
  out[out.length - 1] = deleted ? 1 : 0;
  return out;
}

function wire(e: Parameters<typeof entryToWire>[0]): StateEntry {
  return entryToWire(e);
}

test('the phase-5 vectors: our reading of its encoding matches, and Hypha refuses such entries', () => {
  const v = vectors.state;
  const legacy = phase5SignBytes(`${A.nodeId}/color`, utf8.encode('blue'), 1n, A.nodeId, false);
  assert.equal(toHex(legacy), v.entrySignData);
  const pb = decodeMessage(StateEntrySchema, fromHex(v.stateEntry)!);
  assert.ok(pb.ok);
  assert.equal(pb.value.scheme, 0);
  const r = verifyEntry(pb.value, LIMITS);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, 'scheme');
  assert.match(!r.ok ? r.error.message : '', /phase-5 way/);
});

test('phase-5 encoding collides on a key/value boundary shift; hypha-state-v1 does not', () => {
  const ts = 7n;
  const old1 = phase5SignBytes(`${A.nodeId}/ab`, utf8.encode('c'), ts, A.nodeId, false);
  const old2 = phase5SignBytes(`${A.nodeId}/a`, utf8.encode('bc'), ts, A.nodeId, false);
  assert.deepEqual(old1, old2, 'the same bytes: one signature covers both entries');
  const new1 = entrySignBytes({ key: `${A.nodeId}/ab`, value: utf8.encode('c'), ts, nodeId: A.nodeId, deleted: false });
  const new2 = entrySignBytes({ key: `${A.nodeId}/a`, value: utf8.encode('bc'), ts, nodeId: A.nodeId, deleted: false });
  assert.notDeepEqual(new1, new2);

  // The attack itself: a relay re-cuts a signed entry. Under phase-5 rules it would still verify.
  const signed = signEntry({ key: `${A.nodeId}/ab`, value: utf8.encode('c'), ts, deleted: false }, A);
  const shifted = { ...wire(signed), key: `${A.nodeId}/a`, value: utf8.encode('bc') };
  const r = verifyEntry(create(StateEntrySchema, shifted), LIMITS);
  assert.equal(!r.ok && r.error.code, 'signature');
  // And the phase-5 signature over the shifted entry is the same one, which is the flaw.
  const p5sig = ed25519Sign(A.signingKey, old1);
  assert.deepEqual(p5sig, ed25519Sign(A.signingKey, old2));
});

test('hypha-state-v1 bytes: domain tag first (never valid UTF-8), every field length-prefixed', () => {
  const b = entrySignBytes({ key: `${A.nodeId}/k`, value: utf8.encode('v'), ts: 0x0102n, nodeId: A.nodeId, deleted: true });
  assert.deepEqual(b.subarray(0, STATE_DOMAIN_TAG.length), STATE_DOMAIN_TAG);
  assert.equal(b[0], 0xff);
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, 1)));
  const expected =
    'ff' + toHex(utf8.encode('hypha-state-v1')) + '00' +
    '00000042' + toHex(utf8.encode(`${A.nodeId}/k`)) +
    '00000001' + '76' +
    '0000000000000102' +
    '00000040' + toHex(utf8.encode(A.nodeId)) +
    '01';
  assert.equal(toHex(b), expected);
});

test('a signed entry verifies, round-trips through protobuf, and carries scheme 1', () => {
  const e = signEntry({ key: `${A.nodeId}/color`, value: utf8.encode('blue'), ts: TS, deleted: false }, A);
  const pb = wire(e);
  assert.equal(pb.scheme, SIGNATURE_SCHEME_V1);
  const r = verifyEntry(pb, LIMITS);
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.equal(r.value.owner, A.nodeId);
  assert.equal(r.value.subkey, 'color');
  assert.deepEqual(r.value.fingerprint, e.fingerprint);
  assert.equal(r.value.encodedSize, e.encodedSize);
  const t = signEntry({ key: `${A.nodeId}/color`, value: utf8.encode('ignored'), ts: TS + 1n, deleted: true }, A);
  assert.equal(t.value.length, 0, 'a tombstone carries no value');
  assert.ok(verifyEntry(wire(t), LIMITS).ok);
});

test('tampering with any field is refused, each with its own reason', () => {
  const e = signEntry({ key: `${A.nodeId}/color`, value: utf8.encode('blue'), ts: TS, deleted: false }, A);
  const base = wire(e);
  const flipped = (b: Uint8Array, i = 0): Uint8Array => {
    const c = Uint8Array.from(b);
    c[i] ^= 1;
    return c;
  };
  const cases: [string, Partial<StateEntry>, string][] = [
    ['key (same owner)', { key: `${A.nodeId}/colour` }, 'signature'],
    ['key (another owner)', { key: `${B.nodeId}/color` }, 'namespace'],
    ['key (no owner)', { key: 'color' }, 'key'],
    ['value', { value: utf8.encode('red') }, 'signature'],
    ['value emptied', { value: new Uint8Array(0) }, 'signature'],
    ['ts', { lamportTs: TS + 1n }, 'signature'],
    ['ts zero', { lamportTs: 0n }, 'ts'],
    ['ts past 2^63', { lamportTs: 1n << 63n }, 'ts'],
    ['node_id', { nodeId: B.nodeId }, 'node-id'],
    ['deleted', { deleted: true, value: new Uint8Array(0) }, 'signature'],
    ['deleted with a value', { deleted: true }, 'tombstone-value'],
    ['signature', { signature: flipped(base.signature, 10) }, 'signature'],
    ['signature truncated', { signature: base.signature.subarray(0, 63) }, 'signature'],
    ['author key (another node)', { authorPubkey: B.ed25519Public }, 'node-id'],
    ['author key (short)', { authorPubkey: A.ed25519Public.subarray(0, 31) }, 'pubkey'],
    ['author key and node id swapped to B', { authorPubkey: B.ed25519Public, nodeId: B.nodeId }, 'namespace'],
    ['scheme', { scheme: 2 }, 'scheme'],
    ['scheme removed', { scheme: 0 }, 'scheme'],
  ];
  for (const [what, change, code] of cases) {
    const r = verifyEntry(create(StateEntrySchema, { ...base, ...change }), LIMITS);
    assert.equal(r.ok, false, what);
    assert.equal(!r.ok && r.error.code, code, `${what}: ${!r.ok ? r.error.message : ''}`);
  }
  // B re-signing A's key with B's own key is still a foreign write.
  const forged = create(StateEntrySchema, { ...base, nodeId: B.nodeId, authorPubkey: B.ed25519Public });
  forged.signature = ed25519Sign(B.signingKey, entrySignBytes({ key: base.key, value: base.value, ts: base.lamportTs, nodeId: B.nodeId, deleted: false }));
  assert.equal((verifyEntry(forged, LIMITS) as { error: { code: string } }).error.code, 'namespace');
});

test('property: any single-byte change to a signed entry\'s fields is refused', () => {
  const e = signEntry({ key: `${A.nodeId}/some/key`, value: utf8.encode('some value'), ts: TS, deleted: false }, A);
  const base = wire(e);
  fc.assert(
    fc.property(fc.constantFrom('key', 'value', 'signature', 'authorPubkey', 'nodeId'), fc.nat(), fc.integer({ min: 1, max: 255 }), (field, at, x) => {
      const pb = create(StateEntrySchema, { ...base });
      if (field === 'key' || field === 'nodeId') {
        const s = pb[field];
        const i = at % s.length;
        const ch = String.fromCharCode((s.charCodeAt(i) ^ (x & 0x3f)) || 0x61);
        if (ch === s[i]) return;
        pb[field] = s.slice(0, i) + ch + s.slice(i + 1);
      } else {
        const b = Uint8Array.from(pb[field]);
        b[at % b.length] ^= x;
        pb[field] = b;
      }
      assert.equal(verifyEntry(pb, LIMITS).ok, false);
    }),
    { numRuns: 300 },
  );
});

test('limits on key and value size are enforced with reasons that name the limit', () => {
  const big = signEntry({ key: `${A.nodeId}/k`, value: new Uint8Array(5000), ts: TS, deleted: false }, A);
  const r = verifyEntry(wire(big), LIMITS);
  assert.equal(!r.ok && r.error.code, 'value-too-long');
  assert.match(!r.ok ? r.error.message : '', /max_value_bytes \(4096\)/);
  const long = signEntry({ key: `${A.nodeId}/${'x'.repeat(300)}`, value: new Uint8Array(1), ts: TS, deleted: false }, A);
  const r2 = verifyEntry(wire(long), LIMITS);
  assert.equal(!r2.ok && r2.error.code, 'key-too-long');
});

test('key syntax: owner id, non-empty subkey, no whitespace or control characters', () => {
  assert.ok(parseKey(`${A.nodeId}/a/b/c`).ok);
  assert.equal(parseKey(`${A.nodeId}/a/b/c`).ok && (parseKey(`${A.nodeId}/a/b/c`) as { value: { subkey: string } }).value.subkey, 'a/b/c');
  for (const bad of ['nokey', `${A.nodeId}/`, `${A.nodeId.toUpperCase()}/x`, `${A.nodeId.slice(1)}/x`, `${A.nodeId}/a b`, `${A.nodeId}/a\u0000`, `${A.nodeId}/a\u001b[31m`, `${A.nodeId}/\ud800`]) {
    assert.equal(parseKey(bad).ok, false, JSON.stringify(bad));
  }
});

test('property: verifyEntry never throws on arbitrary StateEntry messages or bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const pb = decodeMessage(StateEntrySchema, bytes);
      if (pb.ok) assert.equal(verifyEntry(pb.value, LIMITS).ok, false);
    }),
    { numRuns: 500 },
  );
  const good = wire(signEntry({ key: `${A.nodeId}/k`, value: utf8.encode('v'), ts: TS, deleted: false }, A));
  fc.assert(
    fc.property(fc.record({ key: fc.string(), value: fc.uint8Array({ maxLength: 50 }), lamportTs: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), nodeId: fc.string(), deleted: fc.boolean(), scheme: fc.nat() }, { requiredKeys: [] }), (change) => {
      const pb = create(StateEntrySchema, { ...good, ...change });
      const r = verifyEntry(pb, LIMITS);
      // Only a change that changes nothing signed can pass.
      if (r.ok) assert.deepEqual([pb.key, toHex(pb.value), pb.lamportTs, pb.nodeId, pb.deleted, pb.scheme], [good.key, toHex(good.value), good.lamportTs, good.nodeId, good.deleted, good.scheme]);
    }),
    { numRuns: 300 },
  );
});
