// The numbered, bounded journal behind the API's cursors (chat lines, state changes): a reader following
// `next` sees every event exactly once, or is told how many it missed; waits end on an event, the timeout or
// the signal; an epoch from another run starts over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VirtualClock } from '../../src/base/clock.ts';
import { Journal, JournalFullError } from '../../src/base/journal.ts';

test('a reader following the cursor sees each event once, in order, or counts what it missed (property)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 20 }),
    fc.array(fc.oneof(fc.record({ append: fc.integer({ min: 1, max: 15 }) }), fc.record({ read: fc.integer({ min: 1, max: 10 }) })), { maxLength: 40 }),
    fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    (capacity, steps, mod) => {
      const j = new Journal<number>({ clock: new VirtualClock(), capacity, epoch: 'e' });
      const filter = mod === undefined ? undefined : (v: number) => v % 4 !== mod;
      let appended = 0;
      let cursor = 0;
      const seen: number[] = [];
      let missed = 0;
      for (const s of steps) {
        if ('append' in s) for (let i = 0; i < s.append; i++) j.append(++appended);
        else {
          const r = j.read({ after: cursor, epoch: 'e', limit: s.read, filter });
          assert.ok(r.entries.length <= s.read);
          assert.equal(r.reset, false);
          for (const e of r.entries) {
            assert.equal(e.value, e.seq, 'values are appended in seq order here');
            seen.push(e.value);
          }
          missed += r.missed;
          assert.ok(r.next >= cursor && r.next <= j.last);
          cursor = r.next;
        }
      }
      // Drain the rest.
      for (let r = j.read({ after: cursor, epoch: 'e', limit: 1000, filter }); ; r = j.read({ after: cursor, epoch: 'e', limit: 1000, filter })) {
        for (const e of r.entries) seen.push(e.value);
        missed += r.missed;
        cursor = r.next;
        if (r.entries.length === 0) break;
      }
      assert.equal(cursor, appended);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], 'in order, no duplicates');
      const passes = (v: number) => filter === undefined || filter(v);
      // Every event that passes was either seen or is among the missed ones.
      const unseen = [];
      for (let v = 1; v <= appended; v++) if (passes(v) && !seen.includes(v)) unseen.push(v);
      assert.ok(unseen.length <= missed, `unseen ${unseen} > missed ${missed}`);
      if (missed === 0) assert.deepEqual(unseen, []);
    },
  ));
});

test('tail reads, cursors from the future, and an epoch from another run', () => {
  const j = new Journal<string>({ clock: new VirtualClock(), capacity: 3, epoch: 'now' });
  assert.deepEqual(j.read({ limit: 5, tail: true }), { entries: [], next: 0, missed: 0, reset: false, epoch: 'now' });
  for (const v of ['a', 'b', 'c', 'd', 'e']) j.append(v);
  assert.deepEqual(j.read({ limit: 2, tail: true }).entries.map((e) => e.value), ['d', 'e']);
  assert.deepEqual(j.read({ limit: 2, tail: true, filter: (v) => v !== 'e' }).entries.map((e) => e.value), ['c', 'd']);
  assert.deepEqual(j.read({ limit: 5 }).entries, [], 'no cursor, no tail: only what comes next');
  const old = j.read({ after: 0, epoch: 'now', limit: 10 });
  assert.deepEqual([old.entries.map((e) => e.value), old.missed], [['c', 'd', 'e'], 2]);
  assert.deepEqual(j.read({ after: 99, epoch: 'now', limit: 10 }).entries, []);
  const other = j.read({ after: 4, epoch: 'before', limit: 10 });
  assert.deepEqual([other.entries.map((e) => e.value), other.reset, other.missed, other.epoch], [['c', 'd', 'e'], true, 0, 'now']);
  assert.equal(j.evicted, 2);
  assert.throws(() => new Journal({ clock: new VirtualClock(), capacity: 0 }), RangeError);
});

test('wait returns at the next event, at the timeout, or when aborted; too many waiters are refused', async () => {
  const clock = new VirtualClock();
  const j = new Journal<number>({ clock, capacity: 8, maxWaiters: 2 });
  // An event that does not pass the filter does not end the wait.
  const w = j.wait({ after: 0, epoch: j.epoch, limit: 10, filter: (v) => v > 1 }, 10_000);
  j.append(1);
  await Promise.resolve();
  j.append(2);
  const r = await w;
  assert.deepEqual(r.entries.map((e) => e.value), [2]);
  // Timeout: nothing new, same cursor.
  const quiet = j.wait({ after: 2, epoch: j.epoch, limit: 10 }, 5_000);
  await clock.advance(5_000);
  assert.deepEqual(await quiet, { entries: [], next: 2, missed: 0, reset: false, epoch: j.epoch });
  assert.equal(j.waiting, 0);
  // Abort.
  const ac = new AbortController();
  const aborted = j.wait({ limit: 10 }, 60_000, ac.signal);
  const other = j.wait({ limit: 10 }, 60_000);
  await assert.rejects(j.wait({ limit: 10 }, 60_000), JournalFullError);
  ac.abort();
  assert.deepEqual((await aborted).entries, []);
  j.append(3);
  assert.deepEqual((await other).entries.map((e) => e.value), [3], 'a cursor-less wait gets what comes after it started');
  assert.equal(j.waiting, 0);
  await clock.advance(120_000);
  assert.equal(clock.pending, 0, 'no timer left behind');
});
