// End to end with the real OpenSSH client: alice runs `ssh` in a pseudo-terminal (made by `script`)
// into node A, bob is logged into node B, and A and B are real nodes linked over the mesh. They chat.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { screenLines, waitFor } from '../partyline/helpers.ts';
import { startHyphaNode, tempBase, waitLinked } from '../helpers/hypha-nodes.ts';
import { sshLogin } from '../helpers/ssh-shell.ts';
import { sshUserKey } from '../helpers/ssh-keys.ts';

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function openSshTerminal(t: TestContext, argv: string[]) {
  // `script` gives ssh a real pty, as a person's terminal would; without it, ssh -tt forces one.
  const cmd = have('script') ? ['script', '-qfec', argv.map((x) => `'${x}'`).join(' '), '/dev/null'] : [argv[0], '-tt', ...argv.slice(1)];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: 'pipe', env: { ...process.env, TERM: 'xterm' } });
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
    screen,
    type: (s: string) => proc.stdin.write(s),
    see: (line: string) => waitFor(() => screen().includes(line), `${JSON.stringify(line)} in:\n${screen().join('\n')}`, 30_000),
    exited: () => code,
  };
}

test('a real OpenSSH user on node A chats with a user on node B over the mesh', async (t) => {
  if (!have('ssh') || !have('ssh-keygen')) {
    t.skip('needs the OpenSSH client (ssh and ssh-keygen from openssh-client)');
    return;
  }
  const base = await tempBase(t, 'hypha-openssh-mesh-');
  const aliceKey = join(base, 'alice_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@mesh', '-f', aliceKey]);
  const bobKey = sshUserKey();
  const keys = readFileSync(aliceKey + '.pub', 'utf8') + bobKey.public + '\n';

  const a = await startHyphaNode(t, base, 'node-a', { authorizedKeys: keys });
  const b = await startHyphaNode(t, base, 'node-b', { authorizedKeys: keys, flags: { 'network.bootstrap': [a.addr] } });
  await waitLinked([[a, b]]);

  const alice = openSshTerminal(t, [
    'ssh', '-F', '/dev/null', '-p', String(a.sshPort), '-i', aliceKey,
    '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
    '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${join(base, 'known_hosts')}`,
    'alice@127.0.0.1',
  ]);
  await alice.see('Welcome to node-a partyline!');
  await alice.see('[alice]> ');
  const bob = await sshLogin(t, b.sshPort, 'bob', bobKey.private);
  await bob.see('[bob]> ');

  alice.type('hello bob, this crossed the mesh\r');
  await bob.see('[alice@node-a] hello bob, this crossed the mesh');
  bob.type('hi alice \x1b[1mloud\x1b[0m\r'); // what bob's terminal sends is cleaned on his own node
  await alice.see('[bob@node-b] hi alice loud');
  alice.type('/quit\r');
  await alice.see('Goodbye.');
  await waitFor(() => alice.exited() !== null, 'alice\'s ssh to exit');
  assert.equal(alice.exited(), 0);
  // One chat line each way (msg_type 3; the replicated state gossips on the same engine).
  assert.equal(a.gossip.stats().byType['3']?.received, 1);
  assert.equal(b.gossip.stats().byType['3']?.received, 1);
});
