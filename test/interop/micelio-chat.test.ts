// Interop with the real Go Micelio node (set MICELIO_BIN to its binary): a Hypha node dials it over
// Noise, and partyline chat crosses both ways — a line typed in a Hypha SSH session shows up in a Go
// partyline session, and a line typed on Go shows up on Hypha with the Go node's short id as origin.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { FakeOutput, waitFor } from '../partyline/helpers.ts';
import { startHyphaNode, tempBase } from '../helpers/hypha-nodes.ts';
import { sshLogin } from '../helpers/ssh-shell.ts';
import { sshUserKey } from '../helpers/ssh-keys.ts';

const MICELIO_BIN = process.env.MICELIO_BIN;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface GoNode {
  addr: string;
  sshPort: number;
  log: () => string;
}

async function startMicelio(
  t: TestContext,
  bin: string,
  base: string,
  authorizedKeys: string,
  opts: { name?: string; bootstrap?: string[]; maxPeers?: number } = {},
): Promise<GoNode> {
  const name = opts.name ?? 'go-node';
  const dataDir = join(base, name);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(join(dataDir, 'authorized_keys'), authorizedKeys);
  const netPort = await freePort();
  const sshPort = await freePort();
  const configPath = join(base, `${name}.toml`);
  await writeFile(
    configPath,
    [
      '[node]',
      `name = "${name}"`,
      `data_dir = "${dataDir}"`,
      '[ssh]',
      `listen = "127.0.0.1:${sshPort}"`,
      '[network]',
      `listen = "127.0.0.1:${netPort}"`,
      'exchange_interval = "1s"',
      'discovery_interval = "1s"',
      ...(opts.bootstrap ? [`bootstrap = [${opts.bootstrap.map((a) => `"${a}"`).join(', ')}]`] : []),
      ...(opts.maxPeers !== undefined ? [`max_peers = ${opts.maxPeers}`] : []),
      '[logging]',
      'level = "debug"',
      '',
    ].join('\n'),
  );
  const proc = spawn(bin, ['-config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited: number | null = null;
  proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.on('exit', (c) => (exited = c ?? -1));
  t.after(async () => {
    if (exited !== null) return;
    proc.kill('SIGTERM');
    await waitFor(() => exited !== null, 'micelio to exit', 10_000).catch(() => proc.kill('SIGKILL'));
  });
  await waitFor(() => exited !== null || /listening|started/i.test(out), `${name} to start`, 20_000);
  assert.equal(exited, null, `micelio exited at start:\n${out}`);
  return { addr: `127.0.0.1:${netPort}`, sshPort, log: () => out };
}

test('chat crosses between Hypha and the Go Micelio node, both ways', async (t) => {
  if (!MICELIO_BIN) {
    t.skip('set MICELIO_BIN to a Micelio binary (e.g. MICELIO_BIN=/work/ref/bin/micelio) to run the interop test');
    return;
  }
  const base = await tempBase(t, 'hypha-interop-');
  const gopherKey = sshUserKey();
  const hyphanKey = sshUserKey();
  const go = await startMicelio(t, MICELIO_BIN, base, gopherKey.public + '\n');
  const hy = await startHyphaNode(t, base, 'hypha-node', { authorizedKeys: hyphanKey.public + '\n', flags: { 'network.bootstrap': [go.addr] } });

  await waitFor(() => hy.peers.peers().some((p) => p.version === '0.1.0'), `the Go node as a peer; micelio said:\n${go.log()}`, 30_000);
  const goPeer = hy.peers.peers().find((p) => p.version === '0.1.0')!;
  await waitFor(() => /peer connected/.test(go.log()), 'micelio to log "peer connected"', 20_000);

  const gopher = await sshLogin(t, go.sshPort, 'gopher', gopherKey.private);
  await waitFor(() => gopher.screen().some((r) => r.includes('Welcome to go-node partyline!')), `the Go banner:\n${gopher.raw()}`);
  const hyphan = await sshLogin(t, hy.sshPort, 'hyphan', hyphanKey.private);
  await hyphan.see('[hyphan]> ');

  // Hypha → Go: Go shows remote lines as `[nick] text`, and ignores the origin-name field.
  hyphan.type('hello from hypha\r');
  await waitFor(() => gopher.screen().some((r) => r.includes('[hyphan] hello from hypha')), `the Hypha line on Go:\n${gopher.screen().join('\n')}\nmicelio:\n${go.log()}`);

  // Go → Hypha: no node name on the wire from Go, so the origin is its short node id.
  gopher.type('hello from go\r');
  await hyphan.see(`[gopher@${goPeer.nodeId.slice(0, 12)}] hello from go`);
  assert.equal(hy.gossip.stats().received, 1);
  assert.equal(hy.gossip.stats().dropped['bad-signature'], 0);
  assert.ok(!/invalid signature|unknown sender/i.test(go.log()), go.log());
});

test('through a line of Go and Hypha relays (G2 – H1 – G1 – H2), chat crosses end to end, origin names intact', async (t) => {
  if (!MICELIO_BIN) {
    t.skip('set MICELIO_BIN to a Micelio binary (e.g. MICELIO_BIN=/work/ref/bin/micelio) to run the interop test');
    return;
  }
  const base = await tempBase(t, 'hypha-interop-line-');
  const gopherKey = sshUserKey();
  const hyphanKey = sshUserKey();
  // G1 and H1 in the middle; G2 and H2 at the ends, kept to one peer so nothing bypasses the relays.
  const g1 = await startMicelio(t, MICELIO_BIN, base, '', { name: 'go-1' });
  const h1 = await startHyphaNode(t, base, 'hypha-1', { flags: { 'network.bootstrap': [g1.addr], 'ssh.listen': '' } });
  const g2 = await startMicelio(t, MICELIO_BIN, base, gopherKey.public + '\n', { name: 'go-2', bootstrap: [h1.addr], maxPeers: 1 });
  const h2 = await startHyphaNode(t, base, 'hypha-2', {
    authorizedKeys: hyphanKey.public + '\n',
    flags: { 'network.bootstrap': [g1.addr], 'network.max_peers': '1' },
  });
  await waitFor(() => h1.peers.peers().filter((p) => p.version === '0.1.0').length === 2, `H1 linked to G1 and G2; go-2 said:\n${g2.log()}`, 30_000);
  await waitFor(() => h2.peers.connectedCount === 1, 'H2 linked to G1', 30_000);
  const g2Id = h1.peers.peers().find((p) => p.listenAddr !== g1.addr && p.version === '0.1.0')!.nodeId;

  const middle = new FakeOutput();
  assert.ok(h1.hub.join('watcher', middle).ok);
  const gopher = await sshLogin(t, g2.sshPort, 'gopher', gopherKey.private);
  await waitFor(() => gopher.screen().some((r) => r.includes('Welcome to go-2 partyline!')), 'the Go banner');
  const hyphan = await sshLogin(t, h2.sshPort, 'hyphan', hyphanKey.private);
  await hyphan.see('[hyphan]> ');

  hyphan.type('from the hypha end\r');
  await waitFor(() => gopher.screen().some((r) => r.includes('[hyphan] from the hypha end')), `H2's line at G2 (via G1, H1):\n${gopher.screen().join('\n')}`);
  // G1 relayed the payload verbatim: the origin name Hypha put in it is still there at H1.
  await waitFor(() => middle.lines.includes('[hyphan@hypha-2] from the hypha end'), `H2's line at H1:\n${middle.lines.join('\n')}`);

  gopher.type('from the go end\r');
  await hyphan.see(`[gopher@${g2Id.slice(0, 12)}] from the go end`);
  assert.ok(h1.gossip.stats().forwarded >= 2, 'H1 relayed both ways');
});
