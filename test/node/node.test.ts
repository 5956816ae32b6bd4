import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { fromHex } from '../../src/base/bytes.ts';
import { buildConfig } from '../../src/config/load.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { HyphaNode } from '../../src/node/node.ts';
import { DataDirLockedError, LOCK_FILE_NAME } from '../../src/node/data-dir-lock.ts';
import type { NodeContext, NodePart } from '../../src/node/part.ts';
import { MemoryBacking, MemoryStore } from '../../src/store/memory.ts';
import { jsonBucket } from '../../src/store/store.ts';
import vectors from '../fixtures/micelio-identities.json' with { type: 'json' };
import { QUIET_OVERLAY } from '../helpers/node-flags.ts';

// No listeners: these tests are about the composition root, and many nodes share one process.
const OFFLINE = { 'network.listen': '', 'ssh.listen': '', ...QUIET_OVERLAY };
const config = buildConfig({ context: { homeDir: '/nonexistent', hostname: 'test' }, flags: OFFLINE });
const identity = identityFromSeed(fromHex(vectors[0].seed)!);

function recorder(log: string[], name: string, opts: { failStart?: boolean; failStop?: boolean; facts?: Record<string, unknown> } = {}): NodePart {
  return {
    name,
    start: async () => {
      log.push(`start ${name}`);
      if (opts.failStart) throw new Error(`${name} cannot bind`);
    },
    stop: async () => {
      log.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} is stuck`);
    },
    describe: () => opts.facts ?? {},
  };
}

test('parts start in registration order and stop in reverse; the store closes last', async () => {
  const log: string[] = [];
  const cap = captureLogger('info');
  const store = new MemoryStore();
  let seen: NodeContext | undefined;
  const node = await HyphaNode.create(config, {
    clock: new VirtualClock(),
    logger: cap.logger,
    identity,
    store,
    parts: (ctx) => {
      seen = ctx;
      return [recorder(log, 'a'), recorder(log, 'b', { facts: { listen: '127.0.0.1:40000' } }), recorder(log, 'c')];
    },
  });
  assert.equal(seen?.identity.nodeId, vectors[0].nodeId);
  assert.equal(seen?.store, store);
  assert.equal(node.state, 'created');
  assert.equal(node.part('b')?.name, 'b');
  await node.start();
  assert.equal(node.state, 'running');
  assert.deepEqual(log, ['start a', 'start b', 'start c']);
  const running = cap.records.find((r) => r.msg === 'node running');
  assert.ok(running, 'a "node running" line');
  assert.equal(running.nodeId, vectors[0].nodeId);
  assert.equal(running.address, identity.addressText);
  assert.equal(running.sshFingerprint, vectors[0].sshFingerprint);
  assert.equal(running.listen, '127.0.0.1:40000', 'facts from parts (the bound address) override the configured one');
  assert.deepEqual(running.parts, ['a', 'b', 'c']);
  await Promise.all([node.stop(), node.stop()]);
  assert.deepEqual(log, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  assert.equal(node.state, 'stopped');
  assert.throws(() => store.bucket(jsonBucket('x')), /closed/);
  assert.ok(cap.has('info', 'node stopped'));
  await assert.rejects(node.start(), /cannot start: it is stopped/);
});

test('a part that fails to start stops the ones before it and nothing after it runs', async () => {
  const log: string[] = [];
  const cap = captureLogger('info');
  const store = new MemoryStore();
  const node = await HyphaNode.create(config, {
    logger: cap.logger,
    identity,
    store,
    parts: () => [recorder(log, 'a'), recorder(log, 'b', { failStart: true }), recorder(log, 'c')],
  });
  await assert.rejects(node.start(), /b failed to start: b cannot bind/);
  assert.deepEqual(log, ['start a', 'start b', 'stop a']);
  assert.equal(node.state, 'stopped');
  assert.ok(cap.has('error', 'part b failed to start'));
  assert.throws(() => store.bucket(jsonBucket('x')), /closed/);
  await node.stop(); // harmless
});

test('a part that fails to stop is logged and the others still stop', async () => {
  const log: string[] = [];
  const cap = captureLogger('info');
  const node = await HyphaNode.create(config, {
    logger: cap.logger,
    identity,
    store: new MemoryStore(),
    parts: () => [recorder(log, 'a'), recorder(log, 'b', { failStop: true }), recorder(log, 'c')],
  });
  await node.start();
  await node.stop();
  assert.deepEqual(log.slice(3), ['stop c', 'stop b', 'stop a']);
  assert.ok(cap.has('error', 'part b failed to stop cleanly'));
});

test('a stop during start waits for the start, then stops everything', async () => {
  const log: string[] = [];
  let release!: () => void;
  const slow: NodePart = {
    name: 'slow',
    start: () => new Promise<void>((r) => {
      log.push('start slow');
      release = r;
    }),
    stop: () => {
      log.push('stop slow');
    },
  };
  const node = await HyphaNode.create(config, { logger: captureLogger().logger, identity, store: new MemoryStore(), parts: () => [slow] });
  const started = node.start();
  const stopped = node.stop();
  await new Promise((r) => setImmediate(r));
  release();
  await started;
  await stopped;
  assert.deepEqual(log, ['start slow', 'stop slow']);
  assert.equal(node.state, 'stopped');
});

test('two parts with one name are refused', async () => {
  const store = new MemoryStore();
  await assert.rejects(
    HyphaNode.create(config, { logger: captureLogger().logger, identity, store, parts: () => [recorder([], 'x'), recorder([], 'x')] }),
    /two node parts are named "x"/,
  );
  assert.throws(() => store.bucket(jsonBucket('y')), /closed/);
});

test('from a data dir: identity and store are created there, and a restart finds both', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-node-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dataDir = join(base, 'data');
  const cfg = buildConfig({ context: { homeDir: base, hostname: 'n1' }, flags: { ...OFFLINE, 'node.data_dir': dataDir } });
  const cap = captureLogger('info');
  const first = await HyphaNode.create(cfg, { logger: cap.logger });
  assert.ok(cap.has('info', 'created a new node identity'));
  await first.start();
  await first.store.bucket(jsonBucket<{ n: number }>('scratch')).put('k', { n: 1 });
  await first.stop();
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  assert.ok((await stat(join(dataDir, 'identity', 'node.key'))).isFile());
  assert.ok((await stat(join(dataDir, 'hypha.lmdb', 'data.mdb'))).isFile());

  const second = await HyphaNode.create(cfg, { logger: captureLogger().logger });
  assert.equal(second.identity.nodeId, first.identity.nodeId);
  assert.deepEqual(second.store.bucket(jsonBucket<{ n: number }>('scratch')).get('k'), { n: 1 });
  await second.stop();
});

test('many nodes share one process on a virtual clock with memory stores', async () => {
  const clock = new VirtualClock();
  const nodes: HyphaNode[] = [];
  for (let i = 0; i < 200; i++) {
    const seed = new Uint8Array(32);
    seed[0] = i;
    seed[1] = i >> 8;
    nodes.push(await HyphaNode.create(config, { clock, logger: captureLogger('warn').logger, identity: identityFromSeed(seed), store: new MemoryStore(new MemoryBacking()) }));
  }
  await Promise.all(nodes.map((n) => n.start()));
  assert.equal(new Set(nodes.map((n) => n.identity.nodeId)).size, 200);
  await Promise.all(nodes.map((n) => n.stop()));
  assert.ok(nodes.every((n) => n.state === 'stopped'));
});

test('one node per data dir: a second is refused while the first runs, and a stale lock is taken over', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-node-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const cfg = buildConfig({ context: { homeDir: base, hostname: 'n1' }, flags: { ...OFFLINE, 'node.data_dir': base } });
  const first = await HyphaNode.create(cfg, { logger: captureLogger().logger });
  await assert.rejects(HyphaNode.create(cfg, { logger: captureLogger().logger }), (e: unknown) => {
    assert.ok(e instanceof DataDirLockedError);
    assert.match(e.message, new RegExp(`another hypha process \\(pid ${process.pid}\\) is using the data dir .*give this node its own --data-dir`));
    return true;
  });
  assert.equal(await readFile(join(base, LOCK_FILE_NAME), 'utf8'), `${process.pid}\n`);
  await first.stop();
  await assert.rejects(stat(join(base, LOCK_FILE_NAME)), 'the lock is removed on stop');
  // A pid file left by a process that is gone does not block a start.
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  await writeFile(join(base, LOCK_FILE_NAME), `${gone.stdout}\n`);
  const second = await HyphaNode.create(cfg, { logger: captureLogger().logger });
  assert.equal(await readFile(join(base, LOCK_FILE_NAME), 'utf8'), `${process.pid}\n`);
  await second.stop();
});
