import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LmdbStore, LMDB_DIR_NAME } from '../../src/store/lmdb.ts';
import { jsonBucket, StoreError } from '../../src/store/store.ts';
import { storeSuite } from './suite.ts';

storeSuite('lmdb', async () => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-store-'));
  const dir = join(base, LMDB_DIR_NAME);
  return { open: () => new LmdbStore(dir), cleanup: () => rm(base, { recursive: true, force: true }) };
});

test('lmdb: the store is a directory with data.mdb, owner-only', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-store-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dir = join(base, LMDB_DIR_NAME);
  const store = new LmdbStore(dir);
  await store.bucket(jsonBucket<number>('state')).put('x', 1);
  await store.close();
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.ok((await stat(join(dir, 'data.mdb'))).isFile());
});

test('lmdb: a path that cannot hold a store is a StoreError naming it', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-store-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const file = join(base, 'not-a-dir');
  await writeFile(file, 'x');
  assert.throws(() => new LmdbStore(join(file, LMDB_DIR_NAME)), (e: unknown) => {
    assert.ok(e instanceof StoreError);
    assert.match(e.message, /cannot open the store at .*not-a-dir.*check that --data-dir is a writable directory/);
    return true;
  });
});

test('lmdb: a resolved write survives the process being killed at once', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-store-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dir = join(base, LMDB_DIR_NAME);
  const script = join(base, 'writer.ts');
  const storeModule = resolve('src/store/lmdb.ts');
  const storeApi = resolve('src/store/store.ts');
  await writeFile(script, [
    `import { LmdbStore } from ${JSON.stringify(storeModule)};`,
    `import { jsonBucket } from ${JSON.stringify(storeApi)};`,
    `const s = new LmdbStore(${JSON.stringify(dir)});`,
    `const b = s.bucket(jsonBucket('peers'));`,
    `for (let i = 0; i < 50; i++) await b.put('p' + i, { i });`,
    `process.stdout.write('written\\n');`,
    `setInterval(() => {}, 1000);`,
  ].join('\n'));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('written')) {
        child.kill('SIGKILL');
        done();
      }
    });
    child.on('exit', (code) => fail(new Error(`writer exited early with ${code}`)));
  });
  await new Promise((r) => child.once('close', r));
  const store = new LmdbStore(dir);
  t.after(() => store.close());
  const b = store.bucket(jsonBucket<{ i: number }>('peers'));
  assert.equal([...b.entries('p')].length, 50);
  assert.deepEqual(b.get('p49'), { i: 49 });
});
