// The map: LWW merge is commutative, associative and idempotent (property tests over a pool of signed
// versions, including two different versions with one timestamp — a cloned identity), the digests always
// equal a recomputation, limits refuse with reasons, and tombstones expire by their own timestamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { compareEntries, signEntry, type SignedEntry } from '../../src/state/entry.ts';
import { DigestIndex } from '../../src/state/digest.ts';
import { hlcFromMs } from '../../src/state/hlc.ts';
import { DEFAULT_STATE_LIMITS } from '../../src/state/limits.ts';
import { StateMap } from '../../src/state/map.ts';

const A = identityFromSeed(randomBytes(32));
const B = identityFromSeed(randomBytes(32));
const NOW = 1_700_000_000_000;
const TTL = 24 * 3600_000;
const utf8 = new TextEncoder();

/** Every combination of key × timestamp × content: 2 owners × 2 keys × 3 ts × 3 contents = 36 versions. */
const POOL: SignedEntry[] = [];
for (const id of [A, B]) {
  for (const k of ['x', 'y']) {
    for (const ms of [NOW - 3000, NOW - 2000, NOW - 1000]) {
      for (const content of ['red', 'blue', null]) {
        POOL.push(signEntry({ key: `${id.nodeId}/${k}`, value: utf8.encode(content ?? ''), ts: hlcFromMs(ms), deleted: content === null }, id));
      }
    }
  }
}

function fold(entries: readonly SignedEntry[]): StateMap {
  const m = new StateMap(DEFAULT_STATE_LIMITS);
  for (const e of entries) m.merge(e, NOW, TTL);
  return m;
}

function snapshot(m: StateMap): string[] {
  return m.entries().map((e) => `${e.key}@${e.ts}:${e.deleted ? '-' : Buffer.from(e.value).toString()}`);
}

const seqs = fc.array(fc.nat({ max: POOL.length - 1 }), { maxLength: 30 }).map((ix) => ix.map((i) => POOL[i]));

test('LWW merge: commutative (any order of the same versions gives the same map)', () => {
  fc.assert(
    fc.property(seqs, fc.func(fc.integer()), (s, f) => {
      const shuffled = [...s].sort((a, b) => f(a.key + a.ts) - f(b.key + b.ts));
      assert.deepEqual(snapshot(fold(s)), snapshot(fold(shuffled)));
      assert.deepEqual(fold(s).digests.root(), fold(shuffled).digests.root());
    }),
    { numRuns: 300 },
  );
});

test('LWW merge: associative (merging a merged map into another equals merging everything)', () => {
  fc.assert(
    fc.property(seqs, seqs, seqs, (a, b, c) => {
      const ab = fold([...a, ...b]);
      const left = fold([...ab.entries(), ...c]); // (a ∪ b) ∪ c
      const bc = fold([...b, ...c]);
      const right = fold([...a, ...bc.entries()]); // a ∪ (b ∪ c)
      assert.deepEqual(snapshot(left), snapshot(right));
    }),
    { numRuns: 300 },
  );
});

test('LWW merge: idempotent (merging again changes nothing)', () => {
  fc.assert(
    fc.property(seqs, (s) => {
      const once = fold(s);
      const twice = fold([...s, ...s]);
      assert.deepEqual(snapshot(once), snapshot(twice));
      for (const e of once.entries()) assert.equal(once.merge(e, NOW, TTL).status, 'duplicate');
    }),
    { numRuns: 200 },
  );
});

test('compareEntries is a total order on contents: equal timestamps are decided by tombstone, then value', () => {
  const t = hlcFromMs(NOW);
  const red = signEntry({ key: `${A.nodeId}/x`, value: utf8.encode('red'), ts: t, deleted: false }, A);
  const blue = signEntry({ key: `${A.nodeId}/x`, value: utf8.encode('blue'), ts: t, deleted: false }, A);
  const gone = signEntry({ key: `${A.nodeId}/x`, value: new Uint8Array(0), ts: t, deleted: true }, A);
  assert.ok(compareEntries(red, blue) > 0);
  assert.ok(compareEntries(gone, red) > 0);
  assert.equal(compareEntries(red, red), 0);
  const later = signEntry({ key: `${A.nodeId}/x`, value: utf8.encode('a'), ts: t + 1n, deleted: false }, A);
  assert.ok(compareEntries(later, gone) > 0);
});

test('property: incremental digests always equal a recomputation, at every prefix depth', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat({ max: POOL.length - 1 })), { maxLength: 60 }), fc.constantFrom('', A.nodeId, B.nodeId, ...['0', 'a', 'f3', '7c1', 'b2e4'].flatMap((k) => [A.nodeId + k, B.nodeId + k])), (ops, prefix) => {
      const idx = new DigestIndex();
      const held = new Set<SignedEntry>();
      for (const [add, i] of ops) {
        const e = POOL[i];
        if (add && !held.has(e)) {
          idx.add(e);
          held.add(e);
        } else if (!add && held.has(e)) {
          idx.remove(e);
          held.delete(e);
        }
      }
      const under = [...held].filter((e) => (e.owner + e.keyHash).startsWith(prefix));
      const fp = new Uint8Array(16);
      for (const e of under) for (let i = 0; i < 16; i++) fp[i] ^= e.fingerprint[i];
      const s = idx.summary(prefix);
      assert.equal(s.count, under.length);
      assert.deepEqual(s.fingerprint, fp);
      assert.deepEqual(idx.items(prefix).map((e) => e.owner + e.keyHash), under.map((e) => e.owner + e.keyHash).sort());
      assert.deepEqual(idx.summaries([prefix, '']).get(prefix), s);
    }),
    { numRuns: 300 },
  );
});

test('limits: entries per owner, entries in total and bytes, with messages that name the limit', () => {
  const m = new StateMap({ ...DEFAULT_STATE_LIMITS, maxEntriesPerOwner: 2, maxEntries: 3 });
  const put = (id: typeof A, k: string) => m.merge(signEntry({ key: `${id.nodeId}/${k}`, value: utf8.encode('v'), ts: hlcFromMs(NOW), deleted: false }, id), NOW, TTL);
  assert.equal(put(A, 'a').status, 'applied');
  assert.equal(put(A, 'b').status, 'applied');
  const r = put(A, 'c');
  assert.equal(r.status, 'refused');
  assert.match(r.status === 'refused' ? r.message : '', /max_entries_per_owner/);
  assert.equal(put(B, 'a').status, 'applied');
  const r2 = put(B, 'b');
  assert.equal(r2.status === 'refused' && r2.code, 'full');
  // An update of a held key is always room-neutral.
  const upd = m.merge(signEntry({ key: `${A.nodeId}/a`, value: utf8.encode('w'), ts: hlcFromMs(NOW + 1), deleted: false }, A), NOW, TTL);
  assert.equal(upd.status, 'applied');
  const small = new StateMap({ ...DEFAULT_STATE_LIMITS, maxBytes: 600 });
  assert.equal(small.merge(signEntry({ key: `${A.nodeId}/a`, value: new Uint8Array(100), ts: hlcFromMs(NOW), deleted: false }, A), NOW, TTL).status, 'applied');
  const r3 = small.merge(signEntry({ key: `${A.nodeId}/b`, value: new Uint8Array(300), ts: hlcFromMs(NOW), deleted: false }, A), NOW, TTL);
  assert.equal(r3.status === 'refused' && r3.code, 'bytes-full');
  assert.equal(small.bytes, small.entries().reduce((n, e) => n + e.encodedSize, 0));
});

test('tombstones expire by their own timestamp; an expired tombstone still removes an older value', () => {
  const m = new StateMap(DEFAULT_STATE_LIMITS);
  const live = signEntry({ key: `${A.nodeId}/x`, value: utf8.encode('v'), ts: hlcFromMs(NOW - 2 * TTL), deleted: false }, A);
  const del = signEntry({ key: `${A.nodeId}/x`, value: new Uint8Array(0), ts: hlcFromMs(NOW - TTL / 2), deleted: true }, A);
  m.merge(live, NOW, TTL);
  assert.equal(m.merge(del, NOW, TTL).status, 'applied');
  assert.equal(m.tombstoneCount, 1);
  assert.deepEqual(m.expire(NOW, TTL), []);
  const gone = m.expire(NOW + TTL / 2, TTL);
  assert.equal(gone.length, 1);
  assert.equal(m.size, 0);
  assert.equal(m.digests.root().count, 0);
  // Arriving after its TTL: nothing is stored, but a held older value is removed.
  assert.equal(m.merge(del, NOW + TTL, TTL).status, 'expired');
  m.merge(live, NOW + TTL, TTL);
  assert.equal(m.merge(del, NOW + TTL, TTL).status, 'removed');
  assert.equal(m.size, 0);
});
