// The simulator's randomness: reproducible from the seed, independent streams by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from '../../src/sim/random.ts';

test('same seed, same numbers; derived streams do not depend on how much the parent drew', () => {
  const a = new Rng('s');
  const b = new Rng('s');
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => new Rng('t').next()));
  const fresh = new Rng('s').derive('node/3').next();
  assert.equal(a.derive('node/3').next(), fresh, 'deriving after 100 draws gives the same stream');
  assert.notEqual(a.derive('node/4').next(), fresh);
  assert.notEqual(new Rng(1).next(), new Rng('1').next(), 'a number and its text are different seeds');
});

test('next() is in [0, 1), int(n) in [0, n), shuffle permutes', () => {
  fc.assert(
    fc.property(fc.string(), fc.integer({ min: 1, max: 1000 }), (seed, n) => {
      const r = new Rng(seed);
      for (let i = 0; i < 50; i++) {
        const x = r.next();
        assert.ok(x >= 0 && x < 1);
        const k = r.int(n);
        assert.ok(Number.isInteger(k) && k >= 0 && k < n);
      }
      const items = Array.from({ length: 20 }, (_, i) => i);
      assert.deepEqual([...r.shuffle([...items])].sort((x, y) => x - y), items);
    }),
  );
  // Roughly uniform.
  const r = new Rng('uniform');
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) buckets[r.int(10)]++;
  for (const b of buckets) assert.ok(b > 9_000 && b < 11_000, `bucket ${b}`);
});

test('nonces: 12 bytes each, reproducible, not repeating', () => {
  const make = () => {
    const src = new Rng('n').nonces();
    const out = new Uint8Array(12 * 1000);
    for (let i = 0; i < 1000; i++) src(out, 12 * i);
    return out;
  };
  const a = make();
  assert.deepEqual(a, make());
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(Buffer.from(a.subarray(12 * i, 12 * i + 12)).toString('hex'));
  assert.equal(seen.size, 1000);
});
