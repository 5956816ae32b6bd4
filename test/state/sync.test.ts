// Anti-entropy between a few nodes whose every message the test controls: gaps below the highest timestamp
// are found and filled, big transfers are paged under the payload limit, an in-sync check is cheap,
// peers are rate-limited, bad requests cost nothing, deleted keys do not come back, and clones converge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { MsgType } from '../../src/wire/micelio/envelope.ts';
import { StateSyncRequestSchema } from '../../src/wire/gen/micelio_pb.ts';
import { decodeStateUpdate, decodeSyncResponse, encodeSyncRequest, MAX_SYNC_PAYLOAD_BYTES } from '../../src/state/sync-codec.ts';
import type { SessionReport } from '../../src/state/sync.ts';
import { FakeMesh, type FakeNode } from '../helpers/fake-mesh.ts';

const SYNC = [MsgType.StateSyncRequest, MsgType.StateSyncResponse] as number[];
const FAST = { syncIntervalMs: 10_000, sync: { requestSpacingMs: 20 } };

function sessionsOf(n: FakeNode): SessionReport[] {
  const out: SessionReport[] = [];
  n.state.onSyncSession((r) => out.push(r));
  return out;
}

test('an entry lost below the highest timestamp held is found by the range phase, at a cost near its size', async () => {
  const mesh = new FakeMesh();
  const slow = { ...FAST, syncIntervalMs: 3_600_000 };
  const a = await mesh.add(slow);
  const b = await mesh.add(slow);
  mesh.connect(a, b);
  await mesh.settle([a, b]);
  // Gossip loses k05 on its way to b; everything after it arrives.
  mesh.drop = (s) => s.msgType === MsgType.StateUpdate && decodeStateUpdate(s.payload).ok && (decodeStateUpdate(s.payload) as { value: { key: string } }).value.key.endsWith('/k05');
  for (let i = 0; i < 200; i++) await a.state.put(`k${String(i).padStart(2, '0')}`, `value ${i}`);
  await mesh.clock.advance(60_000); // gossip pacing: 4/s
  mesh.drop = undefined;
  assert.equal(b.state.get(`${a.nodeId}/k05`), undefined, 'lost');
  assert.ok(b.state.get(`${a.nodeId}/k199`), 'a later one arrived: a max-timestamp digest would see nothing missing');
  const reports = sessionsOf(b);
  const before = mesh.bytes((s) => SYNC.includes(s.msgType));
  b.state.syncWith(a.nodeId);
  await mesh.settle([a, b]);
  assert.equal(new TextDecoder().decode(b.state.get(`${a.nodeId}/k05`)!.value), 'value 5');
  const r = reports.find((x) => x.entriesNew > 0)!;
  assert.equal(r.outcome, 'done');
  assert.equal(r.entriesNew, 1);
  const spent = mesh.bytes((s) => SYNC.includes(s.msgType)) - before;
  // One entry is ~250 bytes; root + known + a few range rounds over 200 entries stay within a few KB.
  assert.ok(spent < 3_000, `sync spent ${spent} bytes for one missing entry`);
  await mesh.stop();
});

test('a new node receives thousands of entries in pages that never exceed the payload limit', async () => {
  const mesh = new FakeMesh();
  // Default pacing (5 requests/s, under the 10/s a responder allows): one uninterrupted session.
  const a = await mesh.add();
  for (let i = 0; i < 3000; i++) await a.state.put(`item/${i}`, 'x'.repeat(300));
  const b = await mesh.add();
  mesh.connect(a, b);
  await mesh.settle([a, b], 600_000);
  assert.equal(b.state.list({ prefix: `${a.nodeId}/item/` }).length, 3000);
  const pages = mesh.sent.filter((s) => s.msgType === MsgType.StateSyncResponse && s.to === b.nodeId);
  const big = pages.filter((p) => (decodeSyncResponse(p.payload) as { value: { entries: unknown[] } }).value.entries.length > 0);
  assert.ok(big.length >= 10, `${big.length} pages`);
  for (const p of mesh.sent.filter((s) => SYNC.includes(s.msgType))) assert.ok(p.payload.length <= MAX_SYNC_PAYLOAD_BYTES, `payload ${p.payload.length}`);
  // Bandwidth: what b pulled against what it lacked (the encoded entries of a).
  const entryBytes = a.state.stats().bytes;
  const spent = mesh.bytes((s) => SYNC.includes(s.msgType));
  assert.ok(spent < 1.2 * entryBytes, `${spent} bytes for ~${entryBytes}`);
  await mesh.stop();
});

test('peers already in sync compare at the root only: a few hundred bytes per periodic check', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add(FAST);
  const b = await mesh.add(FAST);
  for (let i = 0; i < 500; i++) await a.state.put(`k${i}`, 'v');
  mesh.connect(a, b);
  await mesh.settle([a, b], 300_000);
  const before = mesh.bytes((s) => SYNC.includes(s.msgType));
  const reports = sessionsOf(a);
  await mesh.clock.advance(100_000);
  const spent = mesh.bytes((s) => SYNC.includes(s.msgType)) - before;
  assert.ok(reports.length >= 9, `${reports.length} periodic sessions`);
  assert.ok(spent / (reports.length * 2) < 300, `${spent} bytes for ${reports.length * 2} checks`);
  assert.ok(reports.every((r) => r.outcome === 'done' && r.rounds === 1));
  await mesh.stop();
});

test('a peer flooding requests is answered up to its burst, then told to retry (at most once a second)', async () => {
  const mesh = new FakeMesh();
  const slow = { ...FAST, syncIntervalMs: 3_600_000 };
  const a = await mesh.add(slow);
  const rogue = await mesh.add(slow);
  mesh.connect(a, rogue);
  await mesh.settle([a, rogue]);
  await mesh.clock.advance(3_000); // the rogue's token bucket at a refills
  const port = rogue.gossipPort();
  const req = encodeSyncRequest(create(StateSyncRequestSchema, { version: 1, session: 99n, round: 1, wantKnown: true }));
  const sentBefore = mesh.sent.length;
  for (let i = 0; i < 100; i++) port.sendDirect(a.nodeId, MsgType.StateSyncRequest, req);
  await mesh.clock.advance(100);
  const answers = mesh.sent.slice(sentBefore).filter((s) => s.from === a.nodeId && s.msgType === MsgType.StateSyncResponse).map((s) => decodeSyncResponse(s.payload));
  const refusals = answers.filter((r) => r.ok && r.value.retryAfterMs > 0);
  assert.equal(answers.length - refusals.length, 20, 'the burst');
  assert.equal(refusals.length, 1, 'one refusal, not 80');
  assert.ok(a.state.stats().sync.requestsRateLimited >= 80);
  await mesh.stop();
});

test('a requester pacing faster than the peer allows slows down on "retry after" and still finishes', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add({ ...FAST, syncIntervalMs: 3_600_000 });
  for (let i = 0; i < 4000; i++) await a.state.put(`item/${i}`, 'x'.repeat(300));
  const b = await mesh.add({ syncIntervalMs: 3_600_000, sync: { requestSpacingMs: 10 } });
  const reports = sessionsOf(b);
  mesh.connect(a, b);
  await mesh.settle([a, b], 300_000);
  assert.equal(b.state.list({ prefix: `${a.nodeId}/item/` }).length, 4000);
  assert.ok(a.state.stats().sync.requestsRateLimited > 0, 'it did go too fast at first');
  assert.equal(reports.find((r) => r.entriesNew > 0)?.outcome, 'done');
  await mesh.stop();
});

test('malformed, oversized and phase-5 requests get no answer and cost no work', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add(FAST);
  const b = await mesh.add(FAST);
  mesh.connect(a, b);
  await mesh.settle([a, b]);
  const port = b.gossipPort();
  const sentBefore = mesh.sent.length;
  const known: Record<string, bigint> = {};
  for (let i = 0; i < 2000; i++) known[i.toString(16).padStart(64, '0')] = 1n;
  port.sendDirect(a.nodeId, MsgType.StateSyncRequest, encodeSyncRequest(create(StateSyncRequestSchema, { version: 1, known, wantKnown: true })));
  port.sendDirect(a.nodeId, MsgType.StateSyncRequest, Uint8Array.of(0x0a, 0xff, 0xff));
  port.sendDirect(a.nodeId, MsgType.StateSyncRequest, encodeSyncRequest(create(StateSyncRequestSchema, { known: { [b.nodeId]: 1n } })));
  port.sendDirect(a.nodeId, MsgType.StateSyncRequest, encodeSyncRequest(create(StateSyncRequestSchema, { version: 1, ranges: [{ prefix: 'xyz', count: 1, fingerprint: new Uint8Array(16) }] })));
  await mesh.clock.advance(100);
  assert.equal(mesh.sent.slice(sentBefore).filter((s) => s.from === a.nodeId).length, 0);
  const st = a.state.stats().sync;
  assert.equal(st.requestsMalformed, 3);
  assert.equal(st.phase5Ignored, 1);
  assert.ok(a.log.has('warn', 'malformed state sync request'));
  await mesh.stop();
});

test('a key deleted long ago does not come back from a node that was away past the tombstone TTL', async () => {
  const ttl = 60_000;
  const opts = { ...FAST, tombstoneTtlMs: ttl, gcIntervalMs: 5_000 };
  const mesh = new FakeMesh();
  const a = await mesh.add(opts);
  const b = await mesh.add(opts);
  const c = await mesh.add(opts);
  mesh.connect(a, b);
  mesh.connect(b, c);
  await a.state.put('k', 'old');
  await mesh.settle([a, b, c]);
  mesh.disconnect(b, c); // c goes away holding k = old
  await a.state.delete('k');
  await mesh.settle([a, b]);
  await mesh.clock.advance(3 * ttl);
  assert.equal(a.state.getEntry('k'), undefined, 'the tombstone expired and was collected');
  assert.equal(b.state.getEntry(`${a.nodeId}/k`), undefined);
  mesh.connect(b, c);
  mesh.connect(a, c);
  await mesh.settle([a, b, c]);
  for (const n of [a, b, c]) assert.equal(n.state.get(`${a.nodeId}/k`), undefined, 'deleted everywhere');
  assert.equal(a.state.stats().redeleted, 1);
  await mesh.stop();
});

test('two nodes with one identity (a cloned data dir) writing one key at one instant converge to one value', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add(FAST);
  const clone = await mesh.add({ ...FAST, identity: a.id });
  const b = await mesh.add(FAST);
  const c = await mesh.add(FAST);
  const [x, y] = await Promise.all([a.state.put('k', 'from-a'), clone.state.put('k', 'from-clone')]);
  assert.equal(x.ts, y.ts, 'same timestamp, different content');
  // a — b — c — clone (one node id has one link per neighbour, as the peer manager enforces)
  mesh.connect(a, b);
  mesh.connect(b, c);
  mesh.connect(c, clone);
  await mesh.settle([a, clone, b, c]);
  const winner = 'from-clone'; // the greater value bytes
  for (const n of [a, clone, b, c]) assert.equal(new TextDecoder().decode(n.state.get(`${a.nodeId}/k`)!.value), winner);
  await mesh.stop();
});

test('only Hypha peers are asked; a limit that refuses entries ends the session instead of looping', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add(FAST);
  for (let i = 0; i < 40; i++) await a.state.put(`k${i}`, 'v');
  const micelio = await mesh.add(FAST);
  micelio.isHypha = false;
  mesh.connect(a, micelio);
  await mesh.clock.advance(30_000);
  assert.equal(mesh.sent.filter((s) => s.from === a.nodeId && s.msgType === MsgType.StateSyncRequest).length, 0);
  const small = await mesh.add({ ...FAST, limits: { maxEntriesPerOwner: 10 } });
  const reports = sessionsOf(small);
  mesh.connect(a, small);
  await mesh.clock.advance(5_000);
  assert.ok(reports.length >= 1);
  assert.ok(reports.every((r) => r.rounds < 40), `rounds ${reports.map((r) => r.rounds)}`);
  assert.equal(small.state.list({ prefix: `${a.nodeId}/` }).length, 10);
  assert.ok((small.state.stats().refused['owner-full'] ?? 0) > 0);
  await mesh.stop();
});
