import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { toHex } from '../../src/base/bytes.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { PeerInfoSchema, type PeerInfo } from '../../src/wire/gen/micelio_pb.ts';
import { MemoryPeerStore, PeerTable, decodePeerRecordJson, discoveryBackoffMs, encodePeerRecordJson, type PeerRecord } from '../../src/peers/index.ts';

const DAY_MS = 24 * 3600_000;

function setup(opts: { max?: number; connected?: Set<string> } = {}) {
  const clock = new VirtualClock();
  const log = captureLogger();
  const store = new MemoryPeerStore();
  const self = identityFromSeed(randomBytes(32));
  const table = new PeerTable({
    selfId: self.nodeId,
    clock,
    logger: log.logger,
    store,
    maxEntries: opts.max ?? 100,
    ttlMs: 7 * DAY_MS,
    isConnected: (id) => opts.connected?.has(id) ?? false,
    track: () => {},
  });
  return { clock, log, store, self, table, nowS: () => Math.floor(clock.now() / 1000) };
}

const ident = (): NodeIdentity => identityFromSeed(randomBytes(32));

function info(id: NodeIdentity, o: Partial<{ addr: string; reachable: boolean; lastSeen: number; key: Uint8Array; nodeId: string }> = {}): PeerInfo {
  return create(PeerInfoSchema, {
    nodeId: o.nodeId ?? id.nodeId,
    addr: o.addr ?? '10.1.2.3:4000',
    reachable: o.reachable ?? true,
    ed25519Pubkey: o.key ?? id.ed25519Public,
    lastSeen: BigInt(o.lastSeen ?? 1_700_000_000),
  });
}

test('merge skips self, unreachable, empty or wildcard addresses, bad keys and mismatched ids', () => {
  const { table, self, log } = setup();
  const x = ident();
  const res = table.merge(
    [
      info(self),
      info(x, { reachable: false }),
      info(x, { addr: '' }),
      info(x, { addr: '0.0.0.0:4000' }),
      info(x, { addr: '[::]:4000' }),
      info(x, { addr: 'nohost' }),
      info(x, { key: x.ed25519Public.subarray(0, 31) }),
      info(x, { nodeId: 'ab'.repeat(32) }),
    ],
    100,
  );
  assert.deepEqual({ added: res.added, ignored: res.ignored }, { added: 0, ignored: 8 });
  assert.ok(log.has('warn', 'ignoring peer: mismatched node_id'));
  assert.equal(table.size, 0);
});

test('merge inserts new peers, updates known ones only when newer, clamps future times, drops expired', () => {
  const { table, store, nowS } = setup();
  const x = ident();
  const y = ident();
  const z = ident();
  let r = table.merge([info(x, { lastSeen: nowS() - 100 })], 100);
  assert.equal(r.added, 1);
  assert.equal(r.learned[0].nodeId, x.nodeId);
  r = table.merge([info(x, { addr: '10.9.9.9:1', lastSeen: nowS() - 200 })], 100);
  assert.equal(r.updated, 0);
  assert.equal(table.get(x.nodeId)?.addr, '10.1.2.3:4000');
  r = table.merge([info(x, { addr: '10.9.9.9:1', lastSeen: nowS() - 10 })], 100);
  assert.equal(r.updated, 1);
  assert.equal(table.get(x.nodeId)?.addr, '10.9.9.9:1');
  assert.equal(store.records.get(x.nodeId)?.addr, '10.9.9.9:1', 'written through');
  table.merge([info(y, { lastSeen: nowS() + 1_000_000 })], 100);
  assert.equal(table.get(y.nodeId)?.lastSeen, nowS(), 'a future last_seen is clamped to now');
  r = table.merge([info(z, { lastSeen: nowS() - 8 * 24 * 3600 })], 100);
  assert.equal(r.added, 0, 'an entry already past the TTL is not inserted');
  // only the first maxEntries entries of a message are read
  const many = Array.from({ length: 5 }, () => info(ident(), { lastSeen: nowS() }));
  r = table.merge(many, 2);
  assert.equal(r.added, 2);
  assert.equal(r.ignored, 3);
});

test('the exchange list: self first, then reachable dialable records, not the recipient, newest first, capped', () => {
  const { table, self, nowS } = setup();
  const peers = Array.from({ length: 4 }, () => ident());
  peers.forEach((p, i) => table.merge([info(p, { addr: `10.0.0.${i}:4000`, lastSeen: nowS() - 100 * i })], 100));
  table.upsertConnected(ident().nodeId, '', false, ident().ed25519Public); // unreachable: never listed
  const me = info(self, { addr: '192.0.2.1:4000', lastSeen: nowS() });
  const list = table.exchangeList(peers[0].nodeId, me, 3);
  assert.deepEqual(list.map((p) => p.nodeId), [self.nodeId, peers[1].nodeId, peers[2].nodeId]);
  assert.equal(table.exchangeList(peers[0].nodeId, undefined, 100).length, 3);
});

test('the exchange delta: changed records since a cursor; last_seen counts only after an hour; capped, the rest next time', async () => {
  const { table, clock, nowS } = setup();
  const peers = Array.from({ length: 5 }, () => ident());
  peers.forEach((p, i) => table.merge([info(p, { addr: `10.0.0.${i + 1}:4000`, lastSeen: nowS() })], 100));
  const all = table.exchangeDelta(peers[0].nodeId, 0, 100);
  assert.equal(all.entries.length, 4, 'everything is new, except the recipient itself');
  assert.equal(all.upTo, table.changeCursor);
  assert.deepEqual(table.exchangeDelta('x', all.upTo, 100).entries, [], 'nothing changed since');
  await clock.advance(30_000);
  table.touch(peers[1].nodeId);
  table.merge([info(peers[2], { addr: '10.0.0.3:4000', lastSeen: nowS() })], 100);
  assert.deepEqual(table.exchangeDelta('x', all.upTo, 100).entries, [], 'last_seen moved by 30 s: not a change');
  table.merge([info(peers[3], { addr: '10.0.9.9:4000', lastSeen: nowS() })], 100);
  const moved = table.exchangeDelta('x', all.upTo, 100);
  assert.deepEqual(moved.entries.map((e) => [e.nodeId, e.addr]), [[peers[3].nodeId, '10.0.9.9:4000']], 'a new address is');
  await clock.advance(3600_000);
  table.touch(peers[1].nodeId);
  assert.deepEqual(table.exchangeDelta('x', moved.upTo, 100).entries.map((e) => e.nodeId), [peers[1].nodeId], 'an hour of last_seen is');
  // Capped: the oldest changes first, and the cursor stops at the last one sent.
  const first = table.exchangeDelta('x', 0, 2);
  assert.equal(first.entries.length, 2);
  const rest = table.exchangeDelta('x', first.upTo, 100);
  assert.equal(rest.entries.length, 3);
  assert.deepEqual(new Set([...first.entries, ...rest.entries].map((e) => e.nodeId)), new Set(peers.map((p) => p.nodeId)));
});

test('the table is bounded: the peer seen longest ago (not connected) makes room', () => {
  const connected = new Set<string>();
  const { table, store, nowS } = setup({ max: 3, connected });
  const [a, b, c, d, e] = Array.from({ length: 5 }, () => ident());
  table.merge([info(a, { lastSeen: nowS() - 300 })], 10);
  table.merge([info(b, { lastSeen: nowS() - 200 })], 10);
  table.merge([info(c, { lastSeen: nowS() - 100 })], 10);
  connected.add(a.nodeId);
  table.merge([info(d, { lastSeen: nowS() - 50 })], 10);
  assert.equal(table.size, 3);
  assert.ok(table.get(a.nodeId), 'connected peer kept');
  assert.equal(table.get(b.nodeId), undefined, 'oldest unconnected evicted');
  assert.equal(store.records.has(b.nodeId), false);
  // An entry older than everything evictable is not let in.
  table.merge([info(e, { lastSeen: nowS() - 1000 })], 10);
  assert.equal(table.get(e.nodeId), undefined);
  assert.equal(table.evictedFull, 1);
});

test('peers unseen for the TTL are evicted (and deleted from the store); connected ones are kept', async () => {
  const connected = new Set<string>();
  const { table, store, clock, nowS } = setup({ connected });
  const [a, b] = [ident(), ident()];
  table.merge([info(a, { lastSeen: nowS() })], 10);
  table.merge([info(b, { lastSeen: nowS() })], 10);
  connected.add(b.nodeId);
  await clock.advance(6 * DAY_MS);
  assert.equal(table.evictExpired(), 0);
  await clock.advance(2 * DAY_MS);
  assert.equal(table.evictExpired(), 1);
  assert.equal(table.get(a.nodeId), undefined);
  assert.equal(store.records.has(a.nodeId), false);
  assert.ok(table.get(b.nodeId));
});

test('load keeps valid records, drops invalid, expired and self', () => {
  const { table, self, log, nowS, store } = setup({ max: 2 });
  const [a, b, c] = [ident(), ident(), ident()];
  const rec = (id: NodeIdentity, o: Partial<PeerRecord> = {}): PeerRecord => ({ nodeId: id.nodeId, addr: '10.0.0.1:4000', reachable: true, publicKey: toHex(id.ed25519Public), lastSeen: nowS(), failCount: 0, lastFail: 0, ...o });
  const kept = table.load([
    rec(a),
    rec(b, { publicKey: toHex(a.ed25519Public) }), // key of someone else
    rec(c, { lastSeen: nowS() - 30 * 24 * 3600 }), // expired
    rec(self as NodeIdentity),
    rec(ident(), { addr: '0.0.0.0:4000' }),
  ]);
  assert.equal(kept, 1);
  assert.ok(table.get(a.nodeId));
  assert.equal(log.count('warn'), 2);
  void store;
});

test('discovery backoff: 0, 1, 2, 4 … seconds, capped', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 100].map((n) => discoveryBackoffMs(n, 30_000)), [0, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});

test('peer records in Micelio\'s JSON shape round-trip; bad JSON is a Result', () => {
  const a = ident();
  const rec: PeerRecord = { nodeId: a.nodeId, addr: '203.0.113.10:4000', reachable: true, publicKey: toHex(a.ed25519Public), lastSeen: 1_700_000_000, failCount: 2, lastFail: 1_700_000_100 };
  const json = encodePeerRecordJson(rec);
  assert.deepEqual(Object.keys(JSON.parse(json)), ['node_id', 'addr', 'reachable', 'public_key', 'last_seen', 'fail_count', 'last_fail']);
  const back = decodePeerRecordJson(json);
  assert.ok(back.ok);
  assert.deepEqual(back.value, rec);
  for (const bad of ['', '{', 'null', '[]', '{"node_id":"x"}', JSON.stringify({ ...JSON.parse(json), public_key: '00' })]) {
    assert.equal(decodePeerRecordJson(bad).ok, false, bad);
  }
  fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (s) => {
    decodePeerRecordJson(s);
  }));
});
