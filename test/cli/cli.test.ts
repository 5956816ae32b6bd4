import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listOptions } from '../../src/config/schema.ts';
import { hypha, hyphaInProcess, spawnHypha, type Running } from './helpers.ts';
import { QUIET_OVERLAY_ARGS } from '../helpers/node-flags.ts';

const flagged = listOptions().filter((o) => o.spec.flag);

function assertListsEveryOption(help: string): void {
  for (const { path, spec } of flagged) {
    const line = new RegExp(`--${spec.flag}\\b[^]*?\\(default: [^]*?config ${path.replace('.', '\\.')}\\)`);
    assert.match(help, line, `--${spec.flag} with its default`);
  }
  assert.match(help, /--config <path>/);
}

test('hypha --help and hypha run --help list every option with its default', async () => {
  const top = await hyphaInProcess(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Commands:[^]*run[^]*inspect/);
  assertListsEveryOption(top.stdout.replace(/\s+/g, ' '));
  const run = await hyphaInProcess(['run', '--help']);
  assert.equal(run.code, 0);
  assertListsEveryOption(run.stdout.replace(/\s+/g, ' '));
  assert.match(run.stdout.replace(/\s+/g, ' '), /--listen <host:port> .*\(default: 0\.0\.0\.0:4000; config network\.listen\)/);
  assert.match(run.stdout.replace(/\s+/g, ' '), /--log-level <debug\|info\|warn\|error> log level \(default: info, env HYPHA_LOG_LEVEL/);
  const version = await hyphaInProcess(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^hypha \d+\.\d+\.\d+\n$/);
});

test('unknown commands, unknown flags and bad values exit 2 with a clear message', async () => {
  const cases: [string[], RegExp][] = [
    [['bogus'], /unknown command 'bogus'/],
    [['run', '--lisen', 'x:1'], /unknown option '--lisen'[^]*Did you mean --listen\?/],
    [['--lisen', 'x:1'], /unknown option '--lisen'/],
    [['run', '--listen'], /option '--listen <host:port>' argument missing/],
    [['run', 'extra'], /too many arguments/],
    [['inspect', 'a', 'b'], /too many arguments/],
    [['run', '--max-peers', 'lots', '--bootstrap', 'a:1,0.0.0.0:4000', '--log-level', 'loud'], /invalid configuration: 3 problems\n {2}network\.bootstrap\[1\] \(--bootstrap\): wildcard host not allowed[^]*network\.max_peers \(--max-peers\): expected a whole number, got "lots"\n {2}logging\.level \(--log-level\): must be one of/],
    [['run', '--config', '/nonexistent/hypha.toml'], /\/nonexistent\/hypha\.toml \(--config\): cannot read the config file: does not exist/],
  ];
  for (const [args, want] of cases) {
    const r = await hyphaInProcess(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, want, args.join(' '));
  }
  const env = await hyphaInProcess(['run'], { HYPHA_LOG_LEVEL: 'chatty' });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /logging\.level \(HYPHA_LOG_LEVEL\): must be one of/);
});

test('a config file problem exits 2 naming the file and the key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'config.toml'), '[network]\nlisten = "0.0.0.0:4000"\nmax_peer = 3\n');
  const r = await hyphaInProcess(['run', '--data-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid configuration \(.*config\.toml\): 1 problem\n {2}network\.max_peer: unknown key \(did you mean network\.max_peers\?\)/);
});

async function startNode(t: { after: (fn: () => Promise<void>) => void }, extra: string[] = []): Promise<{ node: Running; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const node = spawnHypha(['run', '--data-dir', dir, '--listen', '127.0.0.1:0', '--ssh-listen', '127.0.0.1:0', '--log-format', 'json', ...QUIET_OVERLAY_ARGS, ...extra]);
  t.after(async () => {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  });
  return { node, dir };
}

/** Sends `signal` and waits for the exit; a process still alive after the hard deadline is killed and fails. */
async function stopWith(node: Running, signal: NodeJS.Signals): Promise<number | null> {
  const HARD_DEADLINE_MS = 20_000;
  node.child.kill(signal);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    node.child.kill('SIGKILL');
  }, HARD_DEADLINE_MS);
  const done = await node.exited;
  clearTimeout(timer);
  assert.ok(!killed, `hypha did not exit within ${HARD_DEADLINE_MS} ms of ${signal}:\n${node.stderr()}`);
  return done.code;
}

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`hypha run logs its identity and where it listens, and stops cleanly on ${signal}`, async (t) => {
    const { node, dir } = await startNode(t);
    await node.waitFor('"msg":"node running"');
    const code = await stopWith(node, signal);
    assert.equal(code, 0, node.stderr());
    const lines = logLines(node.stderr());
    const running = lines.find((l) => l.msg === 'node running');
    assert.ok(running);
    assert.match(String(running.nodeId), /^[0-9a-f]{64}$/);
    assert.match(String(running.address), /^[45][0-9a-f]{0,2}:/);
    assert.match(String(running.listen), /^127\.0\.0\.1:[1-9]\d*$/, 'the port actually bound');
    assert.ok(lines.some((l) => l.msg === 'shutting down' && l.signal === signal));
    assert.ok(lines.some((l) => l.msg === 'node stopped'));
    assert.ok(!lines.some((l) => Number(l.level) >= 50), 'no error logs');
    // The identity it created is kept and reused.
    const key = await readFile(join(dir, 'identity', 'node.key'), 'utf8');
    const again = spawnHypha(['run', '--data-dir', dir, '--listen', '127.0.0.1:0', '--ssh-listen', '127.0.0.1:0', '--log-format', 'json', ...QUIET_OVERLAY_ARGS]);
    t.after(async () => {
      if (again.child.exitCode === null) again.child.kill('SIGKILL');
    });
    await again.waitFor('"msg":"node running"');
    assert.equal(await stopWith(again, 'SIGTERM'), 0);
    const second = logLines(again.stderr()).find((l) => l.msg === 'node running');
    assert.equal(second?.nodeId, running.nodeId);
    assert.equal(await readFile(join(dir, 'identity', 'node.key'), 'utf8'), key);
  });
}

test('hypha run with a broken node.key exits 1 and says what to do', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'identity'));
  await writeFile(join(dir, 'identity', 'node.key'), 'not a key\n');
  const r = await hypha(['run', '--data-dir', dir, '--listen', '127.0.0.1:0', ...QUIET_OVERLAY_ARGS]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot start the node: invalid node key .*node\.key: no PEM block found/);
  assert.equal(await readFile(join(dir, 'identity', 'node.key'), 'utf8'), 'not a key\n');
});

test('logs are human-readable text by default, and --log-level filters them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const node = spawnHypha(['--data-dir', dir, '--listen', '127.0.0.1:0', '--ssh-listen', '127.0.0.1:0', '--log-level', 'debug', ...QUIET_OVERLAY_ARGS]);
  t.after(async () => {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
  });
  await node.waitFor('node running');
  assert.equal(await stopWith(node, 'SIGTERM'), 0);
  assert.match(node.stderr(), /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: node running \{"nodeName":/m);
  assert.doesNotMatch(node.stderr(), /^\{/m);

  const quietDir = join(dir, 'quiet');
  const quiet = spawnHypha(['--data-dir', quietDir, '--listen', '127.0.0.1:0', '--ssh-listen', '', '--log-level', 'warn', '--log-format', 'json', ...QUIET_OVERLAY_ARGS]);
  t.after(async () => {
    if (quiet.child.exitCode === null) quiet.child.kill('SIGKILL');
  });
  // Nothing is logged at warn while all is well. The identity files appear after the signal handlers are
  // installed, so from then on SIGTERM means a clean stop even if the node is still starting.
  const deadline = Date.now() + 60_000;
  while (!(await stat(join(quietDir, 'identity', 'node.pub')).then(() => true, () => false))) {
    assert.ok(Date.now() < deadline, `no identity created:\n${quiet.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await stopWith(quiet, 'SIGTERM'), 0);
  assert.equal(quiet.stderr(), '');
});

test('a second hypha on the same data dir exits 1 naming the first', async (t) => {
  const { node, dir } = await startNode(t);
  await node.waitFor('"msg":"node running"');
  const second = await hypha(['run', '--data-dir', dir, '--listen', '127.0.0.1:0', ...QUIET_OVERLAY_ARGS]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`another hypha process \\(pid ${node.child.pid}\\) is using the data dir`));
  assert.equal(await stopWith(node, 'SIGTERM'), 0);
});

test('a malformed topic file stops hypha run with exit 2, naming the file and the line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-topics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const topics = join(dir, 'topics.toml');
  await writeFile(topics, 'default = "Accept"\n\n["example.topic"]\nsubnets = ["400::/300"]\n');
  const r = await hyphaInProcess(['run', '--data-dir', dir, '--topic-config', topics]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /topic_config.*topics\.toml:4/);
});
