// Every decoder of the state layer over random and mutated bytes: no exception escapes, and whatever is
// accepted is within bounds. The sync responder, fed random well-formed requests, always answers with
// one page under the payload limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { silentLogger } from '../../src/base/log.ts';
import { VirtualClock } from '../../src/base/clock.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { decodeItems, encodeItems, isRangePrefix, ITEM_RECORD_BYTES } from '../../src/state/digest.ts';
import { entryToWire, signEntry } from '../../src/state/entry.ts';
import { hlcFromMs } from '../../src/state/hlc.ts';
import { DEFAULT_STATE_LIMITS } from '../../src/state/limits.ts';
import { StateMap } from '../../src/state/map.ts';
import { decodeObservation, parseDesiredKey } from '../../src/state/desired.ts';
import { decodeTags, encodeTagForSelector, matchesSelector, parseSelector } from '../../src/state/selector.ts';
import { StateSync } from '../../src/state/sync.ts';
import {
  decodeStateUpdate,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeStateUpdate,
  encodeSyncRequest,
  encodeSyncResponse,
  MAX_SYNC_PAYLOAD_BYTES,
} from '../../src/state/sync-codec.ts';
import { RangeDigestSchema, RangeItemsSchema, StateSyncRequestSchema, StateSyncResponseSchema } from '../../src/wire/gen/micelio_pb.ts';

const A = identityFromSeed(randomBytes(32));
const NOW = 1_700_000_000_000;
const entries = Array.from({ length: 300 }, (_, i) => signEntry({ key: `${A.nodeId}/k${i}`, value: new TextEncoder().encode('v'.repeat(i)), ts: hlcFromMs(NOW + i), deleted: i % 17 === 0 }, A));

function mutate(bytes: Uint8Array, edits: [number, number][]): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (const [at, x] of edits) if (out.length > 0) out[at % out.length] ^= x;
  return out;
}

const validRequest = encodeSyncRequest(create(StateSyncRequestSchema, {
  version: 1,
  session: 5n,
  round: 2,
  wantKnown: true,
  known: { [A.nodeId]: 7n },
  knownFrom: '',
  ranges: [create(RangeDigestSchema, { prefix: A.nodeId + 'ab', count: 3, fingerprint: new Uint8Array(16) })],
  lists: [create(RangeItemsSchema, { prefix: A.nodeId, items: encodeItems(entries.slice(0, 3)) })],
}));
const validResponse = encodeSyncResponse(create(StateSyncResponseSchema, { version: 1, session: 5n, round: 2, entries: entries.slice(0, 3).map(entryToWire), mismatched: [A.nodeId + '0'], rootFingerprint: new Uint8Array(16) }));
const validUpdate = encodeStateUpdate(entryToWire(entries[1]));

const bytesArb = fc.uint8Array({ maxLength: 2048 });
const editsArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 });

test('property: sync and update decoders never throw on random or mutated bytes, and bound what they accept', () => {
  fc.assert(
    fc.property(bytesArb, editsArb, fc.constantFrom(validRequest, validResponse, validUpdate), (random, edits, valid) => {
      for (const b of [random, mutate(valid, edits), valid.subarray(0, edits[0][0] % (valid.length + 1))]) {
        const req = decodeSyncRequest(b);
        if (req.ok) {
          assert.ok(req.value.version === 1);
          for (const d of req.value.ranges) assert.ok(isRangePrefix(d.prefix));
          for (const l of req.value.lists) assert.equal(l.items.length % ITEM_RECORD_BYTES, 0);
        }
        const resp = decodeSyncResponse(b);
        if (resp.ok) for (const p of [...resp.value.mismatched, ...resp.value.unfinished]) assert.ok(isRangePrefix(p));
        decodeStateUpdate(b);
        decodeItems(b);
      }
    }),
    { numRuns: 1500 },
  );
});

test('property: the responder answers any well-formed request with one page under the payload limit', () => {
  const map = new StateMap(DEFAULT_STATE_LIMITS);
  for (const e of entries) map.merge(e, NOW, 86_400_000);
  const sent: Uint8Array[] = [];
  const sync = new StateSync({
    selfId: 'f'.repeat(64),
    map,
    gossip: { handle: () => () => undefined, broadcast: () => ({ messageId: '', sent: 0, total: 0 }), sendDirect: (_p, _t, b) => (sent.push(b), true) },
    peers: { on: () => () => undefined, peers: () => [], peer: () => undefined },
    clock: new VirtualClock(NOW),
    logger: silentLogger(),
    ingest: () => 0,
    prepare: () => undefined,
  });
  const hex = fc.stringMatching(/^[0-9a-f]{0,32}$/);
  const reqArb = fc.record({
    wantKnown: fc.boolean(),
    compareOwners: fc.boolean(),
    known: fc.dictionary(fc.constantFrom(A.nodeId, 'e'.repeat(64)), fc.bigInt({ min: 0n, max: hlcFromMs(NOW + 400) })),
    afterOwner: fc.constantFrom('', A.nodeId),
    afterTs: fc.bigInt({ min: 0n, max: hlcFromMs(NOW + 400) }),
    ranges: fc.array(hex.map((h) => create(RangeDigestSchema, { prefix: A.nodeId + h, count: 1, fingerprint: new Uint8Array(16) })), { maxLength: 40 }),
    lists: fc.array(fc.tuple(hex, fc.subarray(entries, { maxLength: 20 })).map(([h, es]) => create(RangeItemsSchema, { prefix: A.nodeId + h, items: encodeItems(es) })), { maxLength: 40 }),
  });
  fc.assert(
    fc.property(reqArb, (r) => {
      const req = create(StateSyncRequestSchema, { version: 1, ...r, ranges: r.compareOwners ? r.ranges.map((d) => ({ ...d, prefix: A.nodeId })) : r.ranges });
      const resp = sync.answer(req);
      const bytes = encodeSyncResponse(resp);
      assert.ok(bytes.length <= MAX_SYNC_PAYLOAD_BYTES, `${bytes.length}`);
      assert.ok(decodeSyncResponse(bytes).ok);
    }),
    { numRuns: 300 },
  );
  assert.equal(sent.length, 0);
});

test('property: selectors, tags, desired keys and observations never throw on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), fc.array(fc.string({ maxLength: 12 }), { maxLength: 6 }), fc.uint8Array({ maxLength: 200 }), (text, tags, bytes) => {
      const s = parseSelector(text);
      if (s.ok) matchesSelector(s.value, tags);
      decodeTags(bytes);
      parseDesiredKey(`${A.nodeId}/desired/${text}`);
      decodeObservation({ key: `${A.nodeId}/observed/x`, owner: A.nodeId, subkey: 'observed/x', value: bytes, ts: 1n, writtenAtMs: 0, deleted: false, size: 0 });
    }),
    { numRuns: 1000 },
  );
});

test('selectors: tags, negation, conjunction, "*", and percent-encoded tags', () => {
  const sel = (t: string) => {
    const r = parseSelector(t);
    assert.ok(r.ok, t);
    return r.value;
  };
  assert.ok(matchesSelector(sel('EU'), ['EU', 'prod']));
  assert.ok(!matchesSelector(sel('EU'), ['eu']));
  assert.ok(matchesSelector(sel('region=EU,prod'), ['prod', 'region=EU']));
  assert.ok(!matchesSelector(sel('region=EU,prod'), ['region=EU']));
  assert.ok(matchesSelector(sel('prod,!canary'), ['prod']));
  assert.ok(!matchesSelector(sel('prod,!canary'), ['prod', 'canary']));
  assert.ok(matchesSelector(sel('*'), []));
  assert.ok(matchesSelector(sel(encodeTagForSelector('a,b/c')), ['a,b/c']));
  for (const bad of ['', 'a,,b', '!', 'a*', '%zz']) assert.equal(parseSelector(bad).ok, false, bad);
  assert.deepEqual(parseDesiredKey(`${A.nodeId}/desired/EU,prod/app/version`)?.name, 'app/version');
  assert.equal(parseDesiredKey(`${A.nodeId}/desired/EU`), undefined);
  assert.equal(parseDesiredKey(`${A.nodeId}/other/EU/x`), undefined);
});
