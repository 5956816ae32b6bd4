// Five real `hypha run` processes on loopback, driven over the SSH partyline as a user would: a /set on one
// node is visible on all; a node killed with SIGKILL restarts with its state intact and re-verified; a
// controller's desired state for tag EU reaches exactly the EU nodes, whose observations show convergence.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnHypha, type Running } from '../cli/helpers.ts';
import { openShell, type PartylineShell } from '../helpers/ssh-shell.ts';
import { sshUserKey } from '../helpers/ssh-keys.ts';

const user = sshUserKey();

interface Proc {
  dir: string;
  args: string[];
  run: Running;
  nodeId: string;
  listen: string;
  ssh: number;
  shell: PartylineShell;
}

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

function lines(run: Running): LogLine[] {
  return run
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

async function launch(t: TestContext, dir: string, args: string[]): Promise<Proc> {
  const run = spawnHypha(['run', '--data-dir', dir, '--listen', '127.0.0.1:0', '--ssh-listen', '127.0.0.1:0', '--log-format', 'json', '--state-sync-interval', '1s', '--discovery-interval', '500ms', '--no-tun', '-t', '0', '--disable-peer-discovery', '--api-addr', '', '--jsonrpc-addr', '', ...args]);
  t.after(() => void run.child.kill('SIGKILL'));
  await run.waitFor('"msg":"node running"', 60_000);
  const running = lines(run).find((l) => l.msg === 'node running')!;
  const ssh = Number(String(running.ssh).split(':').pop());
  const shell = await openShell(ssh, user.private);
  return { dir, args, run, nodeId: String(running.nodeId), listen: String(running.listen), ssh, shell };
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('five processes: set on one is seen on all; kill -9 and restart keeps the state; desired state by tag', { timeout: 300_000 }, async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-5-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dirs: string[] = [];
  for (let i = 0; i < 5; i++) {
    const d = join(base, `n${i}`);
    dirs.push(d);
    await import('node:fs/promises').then((fs) => fs.mkdir(d, { recursive: true, mode: 0o700 }));
    await writeFile(join(d, 'authorized_keys'), `${user.public}\n`);
  }
  const procs: Proc[] = [];
  t.after(() => procs.forEach((p) => p.shell.close()));
  procs.push(await launch(t, dirs[0], ['--name', 'n0', '--tags', 'controller']));
  const ctrl = procs[0].nodeId;
  const tags = ['EU', 'EU', 'US', 'US'];
  for (let i = 1; i < 5; i++) {
    const boot = ['--bootstrap', procs[0].listen, ...(i > 1 ? ['--bootstrap', procs[i - 1].listen] : [])];
    procs.push(await launch(t, dirs[i], ['--name', `n${i}`, '--tags', tags[i - 1], '--state-controllers', ctrl, ...boot]));
  }

  // A value set on node 2 is visible on every node.
  const n2 = procs[2].nodeId;
  const set = await procs[2].shell.run('/set color blue', /^Set |^Error/);
  assert.match(set.find((l) => /^Set |^Error/.test(l))!, /^Set \w{12}\/color = blue \(ts=\d+\)$/);
  for (const p of procs) {
    await eventually(`node ${p.nodeId.slice(0, 6)} sees color`, async () => (await p.shell.run(`/get ${n2}/color`, /color/)).some((l) => / = blue {2}\(ts=/.test(l)));
  }

  // kill -9 node 2, restart it on the same data dir: its state is intact and was verified on load.
  await procs[2].shell.run('/set size xl', /^Set /);
  procs[2].shell.close();
  procs[2].run.child.kill('SIGKILL');
  await procs[2].run.exited;
  const again = await launch(t, dirs[2], procs[2].args);
  procs[2] = again;
  const loaded = lines(again.run).find((l) => l.msg === 'state loaded')!;
  assert.ok(Number(loaded.verified) >= 3, `verified ${loaded.verified}`);
  assert.equal(loaded.corrupt, 0);
  assert.ok((await again.shell.run('/get color', /color/)).some((l) => / = blue {2}\(ts=/.test(l)));
  assert.ok((await again.shell.run('/get size', /size/)).some((l) => / = xl {2}\(ts=/.test(l)));
  // It rejoins: a new write after the restart reaches the others.
  await again.shell.run('/set color green', /^Set /);
  await eventually('node 4 sees the write made after the restart', async () => (await procs[4].shell.run(`/get ${n2}/color`, /color/)).some((l) => / = green {2}\(ts=/.test(l)));

  // Desired state: the controller addresses tag EU; nodes 1 and 2 adopt it, 3 and 4 do not.
  await procs[0].shell.run('/set desired/EU/motd hello EU', /^Set /);
  for (const p of procs.slice(1, 3)) {
    await eventually(`EU node ${p.nodeId.slice(0, 6)} adopts motd`, async () => (await p.shell.run('/desired', /^Desired state/)).some((l) => /^ {2}motd +=\s+hello EU {2}\(from \w{12} selector EU, ts=\d+, observed\)$/.test(l)));
  }
  await eventually('the controller sees both EU nodes converged', async () => (await procs[0].shell.run('/desired', /^Desired state/)).some((l) => l.endsWith('/desired/EU/motd = hello EU  converged 2/2')));
  for (const p of procs.slice(3)) {
    const out = await p.shell.run('/desired', /^Desired state/);
    assert.ok(!out.some((l) => l.startsWith('  motd')), `US node ${p.nodeId.slice(0, 6)} wants nothing`);
  }
});
