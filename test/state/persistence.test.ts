// The clock never goes backwards (not when the wall clock steps back, not across crashes and restarts),
// entries survive restarts in LMDB and are verified again when loaded, and a corrupted record is reported
// by key, skipped and never served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { encodeEntry, entryToWire, signEntry } from '../../src/state/entry.ts';
import { HybridClock, hlcFromMs } from '../../src/state/hlc.ts';
import { StateService } from '../../src/state/service.ts';
import { LmdbStore } from '../../src/store/lmdb.ts';
import { MemoryBacking, MemoryStore } from '../../src/store/memory.ts';
import { bytesBucket, type Store } from '../../src/store/store.ts';
import { StateEntrySchema } from '../../src/wire/gen/micelio_pb.ts';
import { toBinary } from '@bufbuild/protobuf';
import { FakeMesh } from '../helpers/fake-mesh.ts';

const noGossip = {
  gossip: { handle: () => () => undefined, broadcast: () => ({ messageId: '', sent: 0, total: 0 }), sendDirect: () => false },
  peers: { on: () => () => undefined, peers: () => [], peer: () => undefined },
};

function service(store: Store, clock: VirtualClock, id = identityFromSeed(Uint8Array.from({ length: 32 }, (_, i) => i + 1)), log = captureLogger('debug')) {
  return { svc: new StateService({ identity: id, store, clock, logger: log.logger, ...noGossip } as ConstructorParameters<typeof StateService>[0]), log, id };
}

test('property: the hybrid clock issues strictly increasing timestamps through wall-clock jumps and crashes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(
        fc.record({ op: fc.constant('tick' as const) }),
        fc.record({ op: fc.constant('jump' as const), ms: fc.integer({ min: -86_400_000, max: 86_400_000 }) }),
        fc.record({ op: fc.constant('crash' as const) }),
        fc.record({ op: fc.constant('witness' as const), ms: fc.integer({ min: -100_000, max: 10_000_000 }) }),
      ), { maxLength: 60 }),
      async (ops) => {
        let wall = 1_700_000_000_000;
        const clock = { now: () => wall, setTimeout: () => ({ cancel() {}, reset() {} }), setInterval: () => ({ cancel() {}, reset() {} }) };
        let disk = 0n; // what survives a crash
        const mk = () => new HybridClock({ clock, floor: disk, persistFloor: async (f) => void (disk = f) });
        let hlc = mk();
        let last = 0n;
        for (const o of ops) {
          if (o.op === 'tick') {
            const ts = await hlc.next();
            assert.ok(ts > last, `${ts} after ${last}`);
            assert.ok(disk >= ts, 'a durable floor covers every issued timestamp');
            last = ts;
          } else if (o.op === 'jump') wall += o.ms;
          else if (o.op === 'crash') hlc = mk();
          else hlc.witness(hlcFromMs(wall + o.ms));
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('witnessing a timestamp from far in the future moves the clock only up to the skew bound', async () => {
  const wall = 1_700_000_000_000;
  const clock = { now: () => wall, setTimeout: () => ({ cancel() {}, reset() {} }), setInterval: () => ({ cancel() {}, reset() {} }) };
  const hlc = new HybridClock({ clock, floor: 0n, persistFloor: async () => undefined });
  hlc.witness(hlcFromMs(wall + 365 * 86_400_000));
  const ts = await hlc.next();
  assert.ok(ts <= hlcFromMs(wall + 60_001), 'bounded by MAX_WITNESS_SKEW_MS');
  hlc.witness(hlcFromMs(wall + 365 * 86_400_000), true);
  assert.ok((await hlc.next()) > hlcFromMs(wall + 365 * 86_400_000), 'own entries are followed without bound');
});

test('restart with the wall clock an hour behind: timestamps keep increasing, entries are intact (LMDB)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const clock1 = new VirtualClock(1_700_000_000_000);
  const store1 = new LmdbStore(join(dir, 'hypha.lmdb'));
  const s1 = service(store1, clock1);
  await s1.svc.start();
  const a = await s1.svc.put('color', 'blue');
  const b = await s1.svc.put('size', 'xl');
  await s1.svc.delete('size');
  await s1.svc.stop();
  await store1.close();

  const clock2 = new VirtualClock(1_700_000_000_000 - 3600_000);
  const store2 = new LmdbStore(join(dir, 'hypha.lmdb'));
  const s2 = service(store2, clock2, s1.id);
  await s2.svc.start();
  assert.equal(s2.svc.get('color')?.ts, a.ts);
  assert.equal(new TextDecoder().decode(s2.svc.get('color')!.value), 'blue');
  assert.equal(s2.svc.get('size'), undefined);
  assert.equal(s2.svc.getEntry('size')?.deleted, true);
  const c = await s2.svc.put('color', 'red');
  assert.ok(c.ts > b.ts && c.ts > a.ts, `${c.ts} > ${b.ts}`);
  const loaded = s2.log.records.find((r) => r.msg === 'state loaded');
  assert.equal(loaded?.verified, 3, 'two entries of ours and the tags entry, all verified again');
  assert.equal(loaded?.corrupt, 0);
  await s2.svc.stop();
  await store2.close();
});

test('corrupted records are reported by key, skipped and never served; a good copy from a peer replaces them', async () => {
  const backing = new MemoryBacking();
  const clock = new VirtualClock();
  const writer = identityFromSeed(randomBytes(32));
  const goodA = signEntry({ key: `${writer.nodeId}/a`, value: new TextEncoder().encode('fine'), ts: hlcFromMs(clock.now()), deleted: false }, writer);
  const goodB = signEntry({ key: `${writer.nodeId}/b`, value: new TextEncoder().encode('original'), ts: hlcFromMs(clock.now()), deleted: false }, writer);
  const goodC = signEntry({ key: `${writer.nodeId}/c`, value: new TextEncoder().encode('c'), ts: hlcFromMs(clock.now()), deleted: false }, writer);
  const bucket = new MemoryStore(backing).bucket(bytesBucket('state'));
  await bucket.put(goodA.key, encodeEntry(goodA));
  // b: valid protobuf, value changed on disk (bit rot, or someone editing the file)
  await bucket.put(goodB.key, toBinary(StateEntrySchema, create(StateEntrySchema, { ...entryToWire(goodB), value: new TextEncoder().encode('tampered') })));
  // c: stored under another key; d: not protobuf at all
  await bucket.put(`${writer.nodeId}/elsewhere`, encodeEntry(goodC));
  await bucket.put(`${writer.nodeId}/d`, Uint8Array.of(0xff, 0xff, 0xff, 0x07));

  const mesh = new FakeMesh();
  const n = await mesh.add({ backing });
  const warnings = n.log.records.filter((r) => r.levelName === 'warn' && r.msg.startsWith('corrupt state entry'));
  assert.deepEqual(warnings.map((w) => w.key).sort(), [`${writer.nodeId}/b`, `${writer.nodeId}/d`, `${writer.nodeId}/elsewhere`].sort());
  assert.match(String(warnings.find((w) => w.key === `${writer.nodeId}/b`)?.reason), /signature does not verify/);
  assert.equal(n.state.get(goodA.key)?.key, goodA.key);
  assert.equal(n.state.get(goodB.key), undefined, 'never served');
  assert.equal(n.state.list().filter((i) => i.owner === writer.nodeId).length, 1);
  assert.equal(n.state.stats().corruptOnLoad, 3);

  // The writer's node comes along with the good copy; sync replaces the bad record.
  const w = await mesh.add({ identity: writer });
  await (w.state as unknown as { ingest(e: unknown, f: string): boolean }).ingest(entryToWire(goodB), 'test');
  mesh.connect(n, w);
  await mesh.settle([n, w]);
  assert.equal(new TextDecoder().decode(n.state.get(goodB.key)!.value), 'original');
  assert.deepEqual(backing.buckets.get('state')!.get(goodB.key)!.value, encodeEntry(goodB));
  await mesh.stop();
});

test('a node that lost its data gets its own entries back from peers, and its clock continues above them', async () => {
  const mesh = new FakeMesh();
  const a = await mesh.add();
  const b = await mesh.add();
  mesh.connect(a, b);
  const old = await a.state.put('k', 'v1');
  await mesh.settle([a, b]);
  // a's disk is gone: same identity, empty store.
  mesh.disconnect(a, b);
  await a.state.stop();
  const mesh2 = mesh; // same network
  const a2 = await mesh2.add({ identity: a.id, backing: new MemoryBacking() });
  mesh2.nodes.splice(mesh2.nodes.indexOf(a), 1);
  mesh2.connect(a2, b);
  await mesh2.settle([a2, b]);
  assert.equal(a2.state.get('k')?.ts, old.ts, 'recovered from a peer');
  const next = await a2.state.put('k', 'v2');
  assert.ok(next.ts > old.ts);
  await mesh2.settle([a2, b]);
  assert.equal(new TextDecoder().decode(b.state.get(`${a.nodeId}/k`)!.value), 'v2');
  await mesh.stop();
});
