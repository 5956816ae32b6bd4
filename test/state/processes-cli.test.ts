// Five real `hypha run` processes on loopback, driven with the `hypha state` CLI as a user would (each
// command its own process, talking to a node's HTTP API; the polls that wait for replication run the same
// CLI in this process, which shows the same and spawns no process per poll): a `state set` on one node is visible through
// `state get` on all; a node killed with SIGKILL restarts with its state intact and re-verified; a
// controller's desired state for tag EU is reported (observed) by exactly the EU nodes.
// (test/state/processes.test.ts drives the same mesh over the SSH partyline.)
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tempBase } from '../helpers/hypha-nodes.ts';
import { hypha, hyphaInProcess, spawnHypha, type Finished, type Running } from '../cli/helpers.ts';

interface Proc {
  dir: string;
  args: string[];
  run: Running;
  nodeId: string;
  listen: string;
  api: string;
}

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

function lines(run: Running): LogLine[] {
  return run.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
}

async function launch(t: TestContext, dir: string, args: string[]): Promise<Proc> {
  const run = spawnHypha(['run', '--data-dir', dir, '--listen', '127.0.0.1:0', '--ssh-listen', '', '--api-addr', '127.0.0.1:0', '--jsonrpc-addr', '', '--log-format', 'json',
    '--state-sync-interval', '1s', '--discovery-interval', '500ms', '--no-tun', '-t', '0', '--disable-peer-discovery', ...args]);
  t.after(() => void run.child.kill('SIGKILL'));
  await run.waitFor('"msg":"node running"', 60_000);
  const running = lines(run).find((l) => l.msg === 'node running')!;
  const api = /^http:\/\/([^/]+)\/api\/v1$/.exec(String(running.api))?.[1];
  assert.ok(api, `the API address in ${JSON.stringify(running)}`);
  return { dir, args, run, nodeId: String(running.nodeId), listen: String(running.listen), api };
}

/** `hypha state …` against one node, as its own process. */
function state(p: Proc, ...args: string[]): Promise<Finished> {
  return hypha(['state', ...args, '--api-addr', p.api], { timeoutMs: 30_000 });
}

/** The same command run in this process, for polls. */
function poll(p: Proc, ...args: string[]): Promise<Finished> {
  return hyphaInProcess(['state', ...args, '--api-addr', p.api]);
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('five processes through the CLI: set on one, get on all; kill -9 and restart keeps the state; desired state by tag', { timeout: 300_000 }, async (t) => {
  const base = await tempBase(t, 'hypha-5cli-');
  const dirs: string[] = [];
  for (let i = 0; i < 5; i++) {
    dirs.push(join(base, `n${i}`));
    await mkdir(dirs[i], { recursive: true, mode: 0o700 });
  }
  const procs: Proc[] = [await launch(t, dirs[0], ['--name', 'n0', '--tags', 'controller'])];
  const ctrl = procs[0].nodeId;
  const tags = ['EU', 'EU', 'US', 'US'];
  for (let i = 1; i < 5; i++) {
    const boot = ['--bootstrap', procs[0].listen, ...(i > 1 ? ['--bootstrap', procs[i - 1].listen] : [])];
    procs.push(await launch(t, dirs[i], ['--name', `n${i}`, '--tags', tags[i - 1], '--state-controllers', ctrl, ...boot]));
  }

  // `state set` on node 2 …
  const n2 = procs[2].nodeId;
  const set = await state(procs[2], 'set', 'color', 'blue');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, new RegExp(`^Set ${n2.slice(0, 12)}/color = blue \\(ts=\\d+\\)\\n$`));
  // … is visible through `state get` on every node.
  for (const p of procs) {
    await eventually(`node ${p.nodeId.slice(0, 6)} has color`, async () => (await poll(p, 'get', `${n2}/color`, '--value')).stdout === 'blue\n');
  }

  // kill -9 node 2 and start it again on the same data dir: its state is intact, and was verified on load.
  assert.equal((await state(procs[2], 'set', 'size', 'xl')).code, 0);
  procs[2].run.child.kill('SIGKILL');
  await procs[2].run.exited;
  const again = await launch(t, dirs[2], procs[2].args);
  procs[2] = again;
  const loaded = lines(again.run).find((l) => l.msg === 'state loaded')!;
  assert.ok(Number(loaded.verified) >= 3, `verified ${loaded.verified}`);
  assert.equal(loaded.corrupt, 0);
  assert.equal((await state(again, 'get', 'color', '--value')).stdout, 'blue\n');
  assert.equal((await state(again, 'get', 'size', '--value')).stdout, 'xl\n');
  const own = JSON.parse((await state(again, 'list', '--own', '--json')).stdout) as { subkey: string }[];
  assert.deepEqual(own.map((i) => i.subkey), ['_tags', 'color', 'size']);
  // It rejoins: a write after the restart reaches the others.
  assert.equal((await state(again, 'set', 'color', 'green')).code, 0);
  await eventually('node 4 sees the write made after the restart', async () => (await poll(procs[4], 'get', `${n2}/color`, '--value')).stdout === 'green\n');

  // Desired state: the controller addresses tag EU; nodes 1 and 2 report it as observed, 3 and 4 do not.
  const pub = await state(procs[0], 'set', 'desired/EU/motd', 'hello EU');
  assert.equal(pub.code, 0, pub.stderr);
  for (const p of procs.slice(1, 3)) {
    await eventually(`EU node ${p.nodeId.slice(0, 6)} observes motd`, async () => {
      const r = await poll(procs[0], 'get', `${p.nodeId}/observed/motd`, '--value');
      return r.code === 0 && (JSON.parse(r.stdout) as { value?: string }).value === 'hello EU';
    });
  }
  const observed = JSON.parse((await state(procs[0], 'list', 'observed/motd', '--json')).stdout) as { owner: string }[];
  assert.deepEqual(observed.map((i) => i.owner).sort(), [procs[1].nodeId, procs[2].nodeId].sort(), 'exactly the EU nodes report it');
  for (const p of procs.slice(3)) {
    const r = await state(p, 'get', `${p.nodeId}/observed/motd`);
    assert.equal(r.code, 1, `US node ${p.nodeId.slice(0, 6)} observes nothing: ${r.stdout}`);
  }
});
