// One behavioural suite for every Store implementation: LMDB and memory must be interchangeable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesBucket, jsonBucket, MAX_KEY_BYTES, StoreError, type Store } from '../../src/store/store.ts';

export interface StoreHarness {
  /** Opens the store on the same underlying data each time (a restart). */
  open(): Store | Promise<Store>;
  /** Removes the data; called once per test. */
  cleanup(): Promise<void>;
}

interface Peer {
  addr: string;
  lastSeen: number;
  tags: string[];
}

const peersSpec = jsonBucket<Peer>('peers');
const blobs = bytesBucket('blobs');

export function storeSuite(name: string, harness: () => Promise<StoreHarness>): void {
  async function withStore(t: { after: (fn: () => Promise<void>) => void }): Promise<{ h: StoreHarness; store: Store }> {
    const h = await harness();
    const store = await h.open();
    t.after(async () => {
      await store.close();
      await h.cleanup();
    });
    return { h, store };
  }

  test(`${name}: put, get, has, delete on JSON and bytes buckets`, async (t) => {
    const { store } = await withStore(t);
    const peers = store.bucket(peersSpec);
    assert.equal(peers.get('a'), undefined);
    assert.equal(peers.has('a'), false);
    await peers.put('a', { addr: '10.0.0.1:4000', lastSeen: 17, tags: ['eu'] });
    assert.deepEqual(peers.get('a'), { addr: '10.0.0.1:4000', lastSeen: 17, tags: ['eu'] });
    assert.equal(peers.has('a'), true);
    const b = store.bucket(blobs);
    await b.put('a', Uint8Array.of(1, 2, 3));
    assert.deepEqual(b.get('a'), Uint8Array.of(1, 2, 3));
    // Buckets are separate key spaces.
    assert.equal(peers.get('a')?.lastSeen, 17);
    await peers.delete('a');
    assert.equal(peers.get('a'), undefined);
    await peers.delete('never-there');
    assert.deepEqual(b.get('a'), Uint8Array.of(1, 2, 3));
  });

  test(`${name}: a write is visible at once, before its promise resolves`, async (t) => {
    const { store } = await withStore(t);
    const peers = store.bucket(peersSpec);
    const p1 = peers.put('k', { addr: 'x:1', lastSeen: 1, tags: [] });
    assert.equal(peers.get('k')?.lastSeen, 1);
    const p2 = peers.put('k', { addr: 'x:1', lastSeen: 2, tags: [] });
    const p3 = peers.delete('k');
    assert.equal(peers.get('k'), undefined);
    assert.deepEqual([...peers.entries()], []);
    const p4 = peers.put('k', { addr: 'x:1', lastSeen: 4, tags: [] });
    assert.deepEqual([...peers.entries()].map(([k, v]) => [k, v.lastSeen]), [['k', 4]]);
    await Promise.all([p1, p2, p3, p4]);
    assert.equal(peers.get('k')?.lastSeen, 4);
  });

  test(`${name}: values are copies, never shared with the caller`, async (t) => {
    const { store } = await withStore(t);
    const peers = store.bucket(peersSpec);
    const v = { addr: 'h:1', lastSeen: 1, tags: ['a'] };
    const w = peers.put('k', v);
    v.tags.push('mutated');
    const got = peers.get('k')!;
    got.lastSeen = 99;
    assert.deepEqual(peers.get('k'), { addr: 'h:1', lastSeen: 1, tags: ['a'] });
    const b = store.bucket(blobs);
    const buf = Uint8Array.of(9, 9);
    const w2 = b.put('k', buf);
    buf[0] = 0;
    await Promise.all([w, w2]);
    assert.deepEqual(b.get('k'), Uint8Array.of(9, 9));
  });

  test(`${name}: data persists across close and reopen`, async (t) => {
    const h = await harness();
    t.after(() => h.cleanup());
    const s1 = await h.open();
    const peers = s1.bucket(peersSpec);
    for (let i = 0; i < 100; i++) void peers.put(`peer/${String(i).padStart(3, '0')}`, { addr: `h${i}:1`, lastSeen: i, tags: [] });
    void peers.delete('peer/050');
    void s1.bucket(blobs).put('x', Uint8Array.of(7));
    await s1.close();
    await s1.close(); // idempotent
    const s2 = await h.open();
    const again = s2.bucket(peersSpec);
    assert.equal(again.get('peer/007')?.addr, 'h7:1');
    assert.equal(again.get('peer/050'), undefined);
    assert.equal([...again.entries('peer/')].length, 99);
    assert.deepEqual(s2.bucket(blobs).get('x'), Uint8Array.of(7));
    await s2.close();
  });

  test(`${name}: prefix iteration is in UTF-8 byte order and honours the prefix`, async (t) => {
    const { store } = await withStore(t);
    const b = store.bucket(blobs);
    // '\u{1F600}' (4 UTF-8 bytes, F0…) sorts after '\uFFFD' (EF BF BD) in bytes, though not in UTF-16.
    const keys = ['a', 'ab', 'abc', 'ab\u{1F600}', 'ab\uFFFD', 'b', 'aa', 'a/1', 'a/2', 'é'];
    await Promise.all(keys.map((k, i) => b.put(k, Uint8Array.of(i))));
    const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...b.entries()].map(([k]) => k), sorted);
    assert.deepEqual([...b.entries('ab')].map(([k]) => k), ['ab', 'abc', 'ab\uFFFD', 'ab\u{1F600}']);
    assert.deepEqual([...b.entries('a/')].map(([k]) => k), ['a/1', 'a/2']);
    assert.deepEqual([...b.entries('zzz')], []);
    assert.deepEqual([...b.entries('a/')].map(([, v]) => v[0]), [7, 8]);
    // Iteration can stop early.
    for (const [k] of b.entries()) {
      assert.equal(k, 'a');
      break;
    }
  });

  test(`${name}: bad keys, values and bucket names are refused with a StoreError`, async (t) => {
    const { store } = await withStore(t);
    const peers = store.bucket(peersSpec);
    assert.throws(() => peers.get(''), StoreError);
    await assert.rejects(peers.put('', { addr: '', lastSeen: 0, tags: [] }), StoreError);
    await assert.rejects(peers.put('k'.repeat(MAX_KEY_BYTES + 1), { addr: '', lastSeen: 0, tags: [] }), /exceeds the 511-byte limit/);
    await peers.put('k'.repeat(MAX_KEY_BYTES), { addr: '', lastSeen: 0, tags: [] });
    // 'é' is two bytes: the limit is in bytes, not characters.
    await assert.rejects(peers.put('é'.repeat(256), { addr: '', lastSeen: 0, tags: [] }), StoreError);
    const loose = store.bucket(jsonBucket<unknown>('loose'));
    await assert.rejects(loose.put('k', { n: 1n }), /cannot encode value as json/);
    await assert.rejects(loose.put('k', undefined), /cannot encode value as json/);
    assert.equal(loose.get('k'), undefined);
    await assert.rejects(store.bucket(blobs).put('k', 'text' as unknown as Uint8Array), /bytes bucket stores Uint8Array/);
    assert.throws(() => store.bucket(jsonBucket('Bad Name')), /bucket name "Bad Name" is invalid/);
    assert.throws(() => store.bucket(jsonBucket('_meta')), StoreError);
    assert.throws(() => store.bucket(bytesBucket('peers')), /already open with json values, not bytes/);
  });

  test(`${name}: a bucket keeps its encoding across a restart`, async (t) => {
    const h = await harness();
    t.after(() => h.cleanup());
    const s1 = await h.open();
    await s1.bucket(peersSpec).put('k', { addr: 'a:1', lastSeen: 1, tags: [] });
    await s1.close();
    const s2 = await h.open();
    assert.throws(() => s2.bucket(bytesBucket('peers')), /already open with json values/);
    assert.equal(s2.bucket(peersSpec).get('k')?.addr, 'a:1');
    await s2.close();
  });

  test(`${name}: a closed store refuses every use`, async (t) => {
    const h = await harness();
    t.after(() => h.cleanup());
    const s = await h.open();
    const peers = s.bucket(peersSpec);
    await s.close();
    assert.throws(() => peers.get('k'), /closed/);
    assert.throws(() => [...peers.entries()], /closed/);
    await assert.rejects(peers.put('k', { addr: '', lastSeen: 0, tags: [] }), /closed/);
    await assert.rejects(peers.delete('k'), /closed/);
    assert.throws(() => s.bucket(peersSpec), /closed/);
  });

  test(`${name}: random operation sequences agree with a Map model, before and after a restart (property)`, async (t) => {
    const key = fc.constantFrom('a', 'a/1', 'a/2', 'b', 'b/1', 'ab', 'é', 'z');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), key, value: fc.integer() }),
      fc.record({ kind: fc.constant('del' as const), key }),
    );
    const prefix = fc.constantFrom('', 'a', 'a/', 'b', 'z', 'q');
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), prefix, async (ops, pre) => {
        const h = await harness();
        try {
          const s = await h.open();
          const bucket = s.bucket(jsonBucket<number>('model'));
          const model = new Map<string, number>();
          const writes: Promise<void>[] = [];
          for (const o of ops) {
            if (o.kind === 'put') {
              model.set(o.key, o.value);
              writes.push(bucket.put(o.key, o.value));
            } else {
              model.delete(o.key);
              writes.push(bucket.delete(o.key));
            }
          }
          const expected = [...model.entries()]
            .filter(([k]) => k.startsWith(pre))
            .sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0])));
          assert.deepEqual([...bucket.entries(pre)], expected);
          await Promise.all(writes);
          assert.deepEqual([...bucket.entries(pre)], expected);
          await s.close();
          const s2 = await h.open();
          assert.deepEqual([...s2.bucket(jsonBucket<number>('model')).entries(pre)], expected);
          for (const [k, v] of model) assert.equal(s2.bucket(jsonBucket<number>('model')).get(k), v);
          await s2.close();
        } finally {
          await h.cleanup();
        }
      }),
      { numRuns: 25 },
    );
    t.diagnostic('25 random sequences checked');
  });
}
