// End to end with the real OpenSSH client (Debian's openssh-client): two nodes, each with a hub and
// an SSH server, joined by a stand-in for the mesh (each hub's outbound port feeds the other's
// deliverRemote, as gossip will). Alice uses `ssh` inside a pseudo-terminal made by `script`, Bob
// uses `ssh -tt`; they chat across the two nodes. The host key that OpenSSH records is checked
// against the node's identity/node.pub.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { PartylineHub } from '../../src/partyline/hub.ts';
import { PartylineSshServer } from '../../src/partyline/ssh-server.ts';
import { formatOpenSshPublicKey } from '../../src/identity/openssh.ts';
import { screenLines, waitFor } from './helpers.ts';

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

interface Node {
  id: NodeIdentity;
  hub: PartylineHub;
  server: PartylineSshServer;
  port: number;
  dataDir: string;
}

async function startNode(t: TestContext, name: string, seedByte: number, authorizedKeys: string): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), `hypha-${name}-`));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  writeFileSync(join(dataDir, 'authorized_keys'), authorizedKeys);
  const id = identityFromSeed(Uint8Array.from({ length: 32 }, (_, i) => seedByte + i));
  // identity/node.pub as the node writes it: the OpenSSH line users compare fingerprints with.
  writeFileSync(join(dataDir, 'node.pub'), formatOpenSshPublicKey(id.ed25519Public));
  const clock = new SystemClock();
  const logger = silentLogger();
  const hub = new PartylineHub({ nodeName: name, clock, logger });
  const server = new PartylineSshServer({ hub, identity: id, authorizedKeysPath: join(dataDir, 'authorized_keys'), clock, logger, listen: '127.0.0.1:0' });
  const { port } = await server.listen();
  t.after(async () => {
    await server.stop();
    hub.stop();
  });
  return { id, hub, server, port, dataDir };
}

interface Terminal {
  proc: ChildProcessWithoutNullStreams;
  screen: () => string[];
  type: (s: string) => void;
  see: (line: string) => Promise<void>;
  exited: () => number | null;
}

function terminal(t: TestContext, argv: string[]): Terminal {
  const proc = spawn(argv[0], argv.slice(1), { stdio: 'pipe', env: { ...process.env, TERM: 'xterm' } });
  let raw = '';
  let code: number | null = null;
  proc.stdout.on('data', (d: Buffer) => (raw += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (raw += d.toString('utf8')));
  proc.on('exit', (c) => (code = c ?? -1));
  t.after(() => {
    if (code === null) proc.kill();
  });
  const screen = () => screenLines(raw);
  return {
    proc,
    screen,
    type: (s) => proc.stdin.write(s),
    see: (line) => waitFor(() => screen().some((row) => row === line), `${JSON.stringify(line)} in:\n${screen().join('\n')}`, 30_000),
    exited: () => code,
  };
}

function fingerprintOf(path: string): string {
  const out = execFileSync('ssh-keygen', ['-lf', path], { encoding: 'utf8' });
  return out.split(' ')[1];
}

test('real OpenSSH clients chat across two nodes; the host key OpenSSH records is node.pub', async (t) => {
  if (!have('ssh') || !have('ssh-keygen') || !have('ssh-keyscan')) {
    t.skip('needs the OpenSSH client (ssh, ssh-keygen, ssh-keyscan from openssh-client)');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'hypha-e2e-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const aliceKey = join(work, 'alice_ed25519');
  const bobKey = join(work, 'bob_rsa');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@e2e', '-f', aliceKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'bob@e2e', '-f', bobKey]);
  const keys = readFileSync(aliceKey + '.pub', 'utf8') + `no-pty,from="127.0.0.1" ` + readFileSync(bobKey + '.pub', 'utf8');

  const a = await startNode(t, 'node-a', 0x00, keys);
  const b = await startNode(t, 'node-b', 0x20, keys);
  // The mesh stand-in: what gossip will do with ChatMessage envelopes (msg_type 3).
  a.hub.setOutbound((l) => b.hub.deliverRemote(l.nick, l.text, { nodeId: a.id.nodeId, name: 'node-a' }));
  b.hub.setOutbound((l) => a.hub.deliverRemote(l.nick, l.text, { nodeId: b.id.nodeId, name: 'node-b' }));

  const knownHosts = join(work, 'known_hosts');
  const sshArgs = (port: number, key: string, user: string, extra: string[]) => [
    'ssh', ...extra, '-F', '/dev/null', '-p', String(port), '-i', key,
    '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
    '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${knownHosts}`,
    `${user}@127.0.0.1`,
  ];
  const aliceCmd = sshArgs(a.port, aliceKey, 'alice', []);
  const alice = have('script')
    ? terminal(t, ['script', '-qfec', aliceCmd.map((x) => `'${x}'`).join(' '), '/dev/null'])
    : terminal(t, [aliceCmd[0], '-tt', ...aliceCmd.slice(1)]);
  await alice.see('Welcome to node-a partyline!');
  await alice.see('[alice]> ');

  const bobCmd = sshArgs(b.port, bobKey, 'bob', []);
  const bob = terminal(t, [bobCmd[0], '-tt', ...bobCmd.slice(1)]);
  await bob.see('Welcome to node-b partyline!');
  await bob.see('[bob]> ');

  alice.type('hello from a real terminal\r');
  await bob.see('[alice@node-a] hello from a real terminal');
  bob.type('hi alice, bob here\r');
  await alice.see('[bob@node-b] hi alice, bob here');

  // Typing with corrections, as a person would.
  alice.type('/whi\x7fo\r');
  await alice.see('Online (1): alice');
  alice.type('/quit\r');
  await alice.see('Goodbye.');
  await waitFor(() => alice.exited() !== null, 'alice\'s ssh to exit');
  assert.equal(alice.exited(), 0);
  bob.type('\x04'); // Ctrl-D on an empty line
  await waitFor(() => bob.exited() !== null, 'bob\'s ssh to exit');

  // The host keys OpenSSH recorded, and what ssh-keyscan sees, are the nodes' identity keys.
  const want = fingerprintOf(join(a.dataDir, 'node.pub'));
  assert.equal(want, 'SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg');
  assert.equal(want, a.server.hostKeyFingerprint);
  const recorded = readFileSync(knownHosts, 'utf8').trim().split('\n');
  assert.equal(recorded.length, 2);
  const fps = execFileSync('ssh-keygen', ['-lf', knownHosts], { encoding: 'utf8' });
  assert.ok(fps.includes(want), fps);
  assert.ok(fps.includes(fingerprintOf(join(b.dataDir, 'node.pub'))), fps);
  // Asynchronously: the server answering it runs in this very process.
  const { stdout: scanned } = await promisify(execFile)('ssh-keyscan', ['-t', 'ed25519', '-p', String(a.port), '127.0.0.1'], { encoding: 'utf8' });
  writeFileSync(join(work, 'scanned'), scanned);
  assert.equal(fingerprintOf(join(work, 'scanned')), want);
});
