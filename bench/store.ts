// Store throughput, LMDB against memory: one JSON line per figure (wall clock: LMDB's fsyncs are the point).
//   node_modules/.bin/node bench/store.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LmdbStore } from '../src/store/lmdb.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { jsonBucket, type Store } from '../src/store/store.ts';
import { emit as emitFigure } from './lib/emit.ts';

interface PeerRecord {
  node_id: string;
  addr: string;
  reachable: boolean;
  public_key: string;
  last_seen: number;
  fail_count: number;
  last_fail: number;
}

const N = 10_000;
const SEQUENTIAL = 200;

function record(i: number): PeerRecord {
  const id = i.toString(16).padStart(64, '0');
  return { node_id: id, addr: `10.0.${i >> 8 & 255}.${i & 255}:4000`, reachable: true, public_key: id, last_seen: 1_700_000_000 + i, fail_count: 0, last_fail: 0 };
}

const WHAT: Record<string, string> = {
  put_one_at_a_time: 'durable put of one peer record (JSON), awaited before the next',
  put_batch: `durable puts of ${N} peer records issued together, then awaited`,
  get: 'get + JSON decode of one peer record',
  iterate: 'iteration over every entry of a bucket (JSON decode each)',
};

function emit(store: string, figure: keyof typeof WHAT, value: number, unit: string): void {
  emitFigure({ bench: 'store', figure: `${store}_${figure}`, value, unit, what: `${WHAT[figure]} (${store === 'lmdb' ? 'LmdbStore on this disk' : 'MemoryStore'})` });
}

async function run(name: string, store: Store): Promise<void> {
  const peers = store.bucket(jsonBucket<PeerRecord>('peers'));
  let t = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) await peers.put(`seq/${i}`, record(i));
  emit(name, 'put_one_at_a_time', SEQUENTIAL / ((performance.now() - t) / 1000), 'puts/s');

  t = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < N; i++) writes.push(peers.put(record(i).node_id, record(i)));
  await Promise.all(writes);
  emit(name, 'put_batch', N / ((performance.now() - t) / 1000), 'puts/s');

  t = performance.now();
  let found = 0;
  for (let i = 0; i < N; i++) if (peers.get(record(i).node_id)) found++;
  emit(name, 'get', found / ((performance.now() - t) / 1000), 'gets/s');

  t = performance.now();
  let n = 0;
  for (const _ of peers.entries()) n++;
  emit(name, 'iterate', n / ((performance.now() - t) / 1000), 'entries/s');
  await store.close();
}

const dir = await mkdtemp(join(tmpdir(), 'hypha-bench-'));
try {
  await run('lmdb', new LmdbStore(join(dir, 'hypha.lmdb')));
  await run('memory', new MemoryStore());
} finally {
  await rm(dir, { recursive: true, force: true });
}
