import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';

test('virtual clock fires timers in deadline order, equal deadlines in scheduling order', async () => {
  const clock = new VirtualClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 20);
  clock.setTimeout(() => fired.push('a'), 10);
  clock.setTimeout(() => fired.push('c'), 20);
  await clock.advance(15);
  assert.deepEqual(fired, ['a']);
  assert.equal(clock.now(), 15);
  await clock.advance(5);
  assert.deepEqual(fired, ['a', 'b', 'c']);
});

test('virtual intervals repeat; cancel and reset work', async () => {
  const clock = new VirtualClock(0);
  let n = 0;
  const t = clock.setInterval(() => n++, 10);
  await clock.advance(35);
  assert.equal(n, 3);
  t.cancel();
  await clock.advance(100);
  assert.equal(n, 3);

  let fired = 0;
  const once = clock.setTimeout(() => fired++, 10);
  await clock.advance(8);
  once.reset(); // pushes the deadline to now + 10
  await clock.advance(8);
  assert.equal(fired, 0);
  await clock.advance(2);
  assert.equal(fired, 1);
});

test('promise chains started by a timer settle before the next timer', async () => {
  const clock = new VirtualClock(0);
  const seen: string[] = [];
  clock.setTimeout(() => {
    void Promise.resolve().then(() => seen.push('micro'));
  }, 5);
  clock.setTimeout(() => seen.push('second'), 5);
  await clock.advance(5);
  assert.deepEqual(seen, ['micro', 'second']);
});

test('runUntil reports the virtual time a condition took, or -1', async () => {
  const clock = new VirtualClock(0);
  let done = false;
  clock.setTimeout(() => (done = true), 250);
  assert.equal(await clock.runUntil(() => done, 1000, 50), 250);
  assert.equal(await clock.runUntil(() => false, 300, 100), -1);
});
