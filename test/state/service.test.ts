// The node-level API the HTTP API and the CLI will call: list / get / put / delete / watch, with their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateError, type WatchEvent } from '../../src/state/service.ts';
import { FakeMesh } from '../helpers/fake-mesh.ts';

const text = (v: Uint8Array | undefined) => (v ? new TextDecoder().decode(v) : undefined);

test('put / get / list / delete, short keys, and errors that name what to change', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add({ tags: ['EU'], limits: { maxValueBytes: 10 } });
  const b = await mesh.add();
  mesh.connect(a, b);
  const item = await a.state.put('app/version', '1.2.3');
  assert.equal(item.key, `${a.nodeId}/app/version`);
  assert.equal(item.subkey, 'app/version');
  assert.equal(item.owner, a.nodeId);
  assert.ok(item.size > 100);
  assert.equal(Math.abs(item.writtenAtMs - mesh.clock.now()) < 5, true);
  assert.equal(text(a.state.get('app/version')?.value), '1.2.3');
  assert.equal(text(a.state.get(`/app/version`)?.value), '1.2.3');
  assert.equal(text(a.state.get(`${a.nodeId}/app/version`)?.value), '1.2.3');
  await mesh.settle([a, b]);
  assert.equal(text(b.state.get(`${a.nodeId.slice(0, 12)}/app/version`)?.value), '1.2.3', 'a short owner id resolves');

  const errs: [() => Promise<unknown>, string, RegExp][] = [
    [() => a.state.put('k', '01234567890'), 'value-too-long', /value is 11 bytes; \[state\] max_value_bytes is 10/],
    [() => a.state.put(`${b.nodeId}/k`, 'v'), 'namespace', /belongs to node/],
    [() => a.state.put('_tags', 'x'), 'reserved', /written by the node itself/],
    [() => a.state.put('a b', 'x'), 'key', /whitespace/],
    [() => a.state.put('', 'x'), 'key', /empty/],
  ];
  for (const [f, code, msg] of errs) {
    await assert.rejects(f(), (e: unknown) => e instanceof StateError && e.code === code && msg.test(e.message));
  }

  await a.state.put('app/name', 'x');
  await a.state.put('other', 'y');
  assert.deepEqual(a.state.list({ prefix: `${a.nodeId}/app/` }).map((i) => i.subkey), ['app/name', 'app/version']);
  assert.deepEqual(a.state.list({ prefix: `${a.nodeId}/`, limit: 2 }).map((i) => i.subkey), ['_tags', 'app/name']);
  assert.deepEqual(a.state.list({ prefix: `${a.nodeId}/`, after: `${a.nodeId}/app/name` }).map((i) => i.subkey), ['app/version', 'other']);
  const del = await a.state.delete('other');
  assert.equal(del?.deleted, true);
  assert.equal(await a.state.delete('other'), undefined);
  assert.equal(a.state.get('other'), undefined);
  assert.equal(a.state.getEntry('other')?.deleted, true);
  assert.deepEqual(a.state.list({ prefix: `${a.nodeId}/o` }), []);
  assert.equal(a.state.list({ prefix: `${a.nodeId}/o`, includeDeleted: true }).length, 1);
  await mesh.stop();
});

test('watch: changes from this node and from peers, by prefix; a slow consumer is told how many it missed; abort ends it', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add();
  const b = await mesh.add();
  mesh.connect(a, b);
  await mesh.settle([a, b]);
  const ac = new AbortController();
  const w = a.state.watch({ prefix: `${b.nodeId}/cfg/`, signal: ac.signal, maxBuffered: 3 });
  const seen: WatchEvent[] = [];
  const done = (async () => {
    for await (const ev of w) seen.push(ev);
  })();
  await b.state.put('cfg/a', '1');
  await b.state.put('other', 'x');
  await mesh.settle([a, b]);
  await new Promise((r) => setImmediate(r));
  assert.equal(seen.length, 1);
  assert.equal(seen[0].item.key, `${b.nodeId}/cfg/a`);
  assert.equal(seen[0].source, 'peer');
  assert.equal(seen[0].fromPeer, b.nodeId);
  assert.equal(seen[0].missed, 0);

  // Five changes while nobody reads: the buffer keeps the last three and reports two missed.
  const slow = a.state.watch({ prefix: `${b.nodeId}/cfg/`, maxBuffered: 3 });
  for (let i = 0; i < 5; i++) await b.state.put(`cfg/n${i}`, String(i));
  await mesh.clock.advance(5_000);
  await mesh.settle([a, b]);
  const first = await slow.next();
  assert.equal(first.done, false);
  assert.equal(!first.done && first.value.missed, 2);
  assert.equal(!first.done && first.value.item.subkey, 'cfg/n2');
  await slow.return!();
  assert.equal((await slow.next()).done, true);

  ac.abort();
  await done;
  const local: WatchEvent[] = [];
  const w2 = a.state.watch();
  void (async () => {
    for await (const ev of w2) local.push(ev);
  })();
  await a.state.put('mine', 'v');
  await new Promise((r) => setImmediate(r));
  assert.equal(local[0].source, 'local');
  assert.equal(local[0].previous, undefined);
  await w2.return!();
  await mesh.stop();
});
