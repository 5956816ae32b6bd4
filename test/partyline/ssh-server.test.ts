// The partyline over real SSH (ssh2's client against our ssh2 server on 127.0.0.1): what a user sees,
// who gets in, and what is refused.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { SystemClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { PartylineHub, type LocalChatLine, type PartylineHubOptions } from '../../src/partyline/hub.ts';
import { PartylineSshServer, parseListenAddress, type PartylineSshServerOptions } from '../../src/partyline/ssh-server.ts';
import { sshBlobFingerprint } from '../../src/identity/openssh.ts';
import { screenLines, waitFor } from './helpers.ts';
import { sshUserKey } from '../helpers/ssh-keys.ts';

const SEED_A = Uint8Array.from({ length: 32 }, (_, i) => i);
const FINGERPRINT_A = 'SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg';
const NODE_B = '24f6ed6acbfe1009c030d7ca567c33ca4830911498236b5561a6c82abec5de28';

const alice = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'alice' });
const bob = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'bob' });
const stranger = sshUserKey();

interface Setup {
  hub: PartylineHub;
  server: PartylineSshServer;
  port: number;
  dir: string;
  sent: LocalChatLine[];
  log: ReturnType<typeof captureLogger>;
}

async function start(
  t: TestContext,
  opts: { keys?: string[]; hub?: Partial<PartylineHubOptions>; server?: Partial<PartylineSshServerOptions> } = {},
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'hypha-pl-'));
  const keys = opts.keys ?? [alice.public, bob.public];
  if (keys.length > 0) writeFileSync(join(dir, 'authorized_keys'), keys.join('\n') + '\n');
  const clock = new SystemClock();
  const log = captureLogger();
  const sent: LocalChatLine[] = [];
  const hub = new PartylineHub({ nodeName: 'node-a', clock, logger: log.logger, outbound: (l) => sent.push(l), ...opts.hub });
  const server = new PartylineSshServer({
    hub,
    identity: identityFromSeed(SEED_A),
    authorizedKeysPath: join(dir, 'authorized_keys'),
    clock,
    logger: log.logger,
    listen: '127.0.0.1:0',
    authorizedKeysDebounceMs: 20,
    ...opts.server,
  });
  const { port } = await server.listen();
  t.after(async () => {
    await server.stop();
    hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { hub, server, port, dir, sent, log };
}

interface Conn {
  client: ssh2.Client;
  hostKey: Buffer;
}

function connect(t: TestContext, port: number, cfg: Partial<ConnectConfig>): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKey: Buffer = Buffer.alloc(0);
    t.after(() => client.end());
    client
      .on('ready', () => resolve({ client, hostKey }))
      .on('error', reject)
      .connect({
        host: '127.0.0.1',
        port,
        readyTimeout: 15_000,
        hostVerifier: (key: Buffer) => {
          hostKey = key;
          return true;
        },
        ...cfg,
      });
  });
}

interface Shell {
  stream: ClientChannel;
  raw: () => string;
  screen: () => string[];
  closed: () => boolean;
  type: (s: string) => void;
  /** Waits until `line` has appeared on screen. */
  see: (line: string, what?: string) => Promise<void>;
}

function shell(t: TestContext, client: ssh2.Client, pty = true): Promise<Shell> {
  return new Promise((resolve, reject) => {
    const cb = (e: Error | undefined, stream: ClientChannel) => {
      if (e) return reject(e);
      let raw = '';
      let closed = false;
      stream.on('data', (d: Buffer) => (raw += d.toString('utf8')));
      stream.on('close', () => (closed = true));
      t.after(() => stream.close());
      const screen = () => screenLines(raw);
      resolve({
        stream,
        raw: () => raw,
        screen,
        closed: () => closed,
        type: (s) => stream.write(s),
        see: (line, what) => waitFor(() => screen().includes(line), what ?? JSON.stringify(line)),
      });
    };
    if (pty) client.shell({ term: 'xterm', cols: 100, rows: 30 }, cb);
    else client.shell(false, cb);
  });
}

async function login(t: TestContext, port: number, username: string, key = alice.private): Promise<Shell & Conn> {
  const conn = await connect(t, port, { username, privateKey: key });
  const sh = await shell(t, conn.client);
  await sh.see(`[${username}]> `, `${username}'s first prompt`);
  return { ...conn, ...sh };
}

/** The screen rows after the last occurrence of `marker`. */
function after(screen: string[], marker: string): string[] {
  return screen.slice(screen.lastIndexOf(marker) + 1);
}

test('a session sees the banner, and /who, /nick, /help, /bogus, /quit print exactly Micelio\'s lines', async (t) => {
  const { port } = await start(t);
  const a = await login(t, port, 'alice');
  assert.equal(sshBlobFingerprint(a.hostKey), FINGERPRINT_A, 'host key = the node identity');
  assert.deepEqual(a.screen(), [
    '* alice joined the partyline',
    'Welcome to node-a partyline!',
    'Type /help for commands.',
    '',
    '[alice]> ',
  ]);

  a.type('/who\r');
  await a.see('Online (1): alice');
  a.type('/nick\r');
  await a.see('Usage: /nick <name>');
  a.type('/nick zed\r');
  await a.see('[zed]> ');
  a.type('/help\r');
  await a.see('  /peers         — list connected peers');
  a.type('/bogus\r');
  await a.see('Unknown command: /bogus (try /help)');
  a.type('/quit\r');
  await waitFor(a.closed, 'the session to close after /quit');
  assert.deepEqual(after(a.screen(), 'Type /help for commands.'), [
    '',
    '[alice]> /who',
    'Online (1): alice',
    '[alice]> /nick',
    'Usage: /nick <name>',
    '[alice]> /nick zed',
    '* alice is now known as zed',
    '[zed]> /help',
    'Commands:',
    '  /who           — list online users',
    '  /nick <name>   — change your nickname',
    '  /quit          — disconnect',
    '  /help          — show this help',
    '  /peers         — list connected peers',
    '[zed]> /bogus',
    'Unknown command: /bogus (try /help)',
    '[zed]> /quit',
    'Goodbye.',
    '',
  ]);
});

test('two sessions chat: lines go to the other, join/leave are announced, remote lines arrive sanitised with origin', async (t) => {
  const { port, hub, sent } = await start(t);
  const a = await login(t, port, 'alice');
  const b = await login(t, port, 'bob', bob.private);
  await a.see('* bob joined the partyline');

  a.type('hello bob\r');
  await b.see('[alice] hello bob');
  assert.ok(!a.screen().includes('[alice] hello bob'), 'the sender does not get its own line back');
  assert.deepEqual(sent.map((l) => [l.nick, l.text]), [['alice', 'hello bob']]);

  // Bob is half-way through typing when a line arrives: it appears above his prompt, his text survives.
  b.type('hi al');
  await waitFor(() => b.raw().endsWith('hi al'), 'bob\'s echo');
  hub.deliverRemote('\x1b[31mcarol\x1b[0m', '\x1b]0;owned\x07\x1b[2Jgreetings \x1b[5mfrom\x1b[0m afar', { nodeId: NODE_B, name: 'node-b' });
  await b.see('[carol@node-b] greetings from afar');
  await a.see('[carol@node-b] greetings from afar');
  assert.ok(!b.raw().includes('owned') && !b.raw().includes('\x1b[2J') && !b.raw().includes('\x1b[5m'), 'no escape from the network reaches the terminal');
  b.type('ice\r');
  await a.see('[bob] hi alice');

  a.type('/who\r');
  await a.see('Online (2): alice, bob');
  b.stream.close();
  await a.see('* bob left the partyline');
});

test('without a pty the session works line by line, with no echo or drawing', async (t) => {
  const { port } = await start(t);
  const conn = await connect(t, port, { username: 'script', privateKey: alice.private });
  const sh = await shell(t, conn.client, false);
  sh.type('/who\n');
  await sh.see('Online (1): script');
  assert.ok(!sh.raw().includes('\x1b'), 'no escape sequences without a pty');
  assert.ok(!sh.raw().includes('[script]> '), 'no prompt without a pty');
});

test('an unknown key, a password and keyboard-interactive are refused', async (t) => {
  const { port, log, server } = await start(t);
  await assert.rejects(connect(t, port, { username: 'eve', privateKey: stranger.private }), (e: Error & { level?: string }) => e.level === 'client-authentication');
  await assert.rejects(connect(t, port, { username: 'eve', password: 'hunter2' }), (e: Error & { level?: string }) => e.level === 'client-authentication');
  await assert.rejects(
    connect(t, port, { username: 'eve', tryKeyboard: true, authHandler: ['keyboard-interactive'] }),
    (e: Error & { level?: string }) => e.level === 'client-authentication',
  );
  assert.ok(log.has('info', 'ssh authentication refused'));
  assert.equal(server.stats().loginsAccepted, 0);
  assert.equal(server.hub.sessionCount, 0);
});

test('exec, subsystems and env are refused as Micelio refuses them; no port forwarding', async (t) => {
  const { port } = await start(t);
  const { client } = await connect(t, port, { username: 'alice', privateKey: alice.private });
  await assert.rejects(new Promise((res, rej) => client.exec('uname -a', (e, s) => (e ? rej(e) : res(s)))));
  await assert.rejects(new Promise((res, rej) => client.sftp((e, s) => (e ? rej(e) : res(s)))));
  await assert.rejects(new Promise((res, rej) => client.forwardOut('127.0.0.1', 1, '127.0.0.1', 22, (e, s) => (e ? rej(e) : res(s)))));
  await assert.rejects(new Promise((res, rej) => client.forwardIn('127.0.0.1', 0, (e, p) => (e ? rej(e) : res(p)))));
  // The connection is still usable for the partyline itself.
  const sh = await shell(t, client);
  await sh.see('[alice]> ');
});

test('a key added to authorized_keys while running can log in without a restart', async (t) => {
  const { port, dir, server } = await start(t, { keys: [] });
  await assert.rejects(connect(t, port, { username: 'alice', privateKey: alice.private }));
  writeFileSync(join(dir, 'authorized_keys'), `# added later\n${alice.public}\n`);
  await waitFor(() => server.authorizedKeys.size === 1, 'authorized_keys to be reloaded');
  await login(t, port, 'alice');
});

test('the session limit is enforced with a message; an idle session is closed', async (t) => {
  const { port } = await start(t, { hub: { maxSessions: 1, idleTimeoutMs: 2_000 } });
  const a = await login(t, port, 'alice');
  const conn = await connect(t, port, { username: 'bob', privateKey: bob.private });
  const b = await shell(t, conn.client);
  await b.see('Sorry, the partyline is full (1 session). Try again later.');
  await waitFor(b.closed, 'the refused session to close');
  await a.see('Idle for 2s: disconnecting.');
  await waitFor(a.closed, 'the idle session to close');
});

test('a connection that does not log in within the grace time is dropped', async (t) => {
  const { port, server } = await start(t, { server: { loginGraceMs: 300 } });
  const sock = tcpConnect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.resume(); // read what the server says, so its hang-up is seen
  let closed = false;
  sock.on('close', () => (closed = true));
  await waitFor(() => closed, 'the silent connection to be dropped');
  assert.equal(server.stats().loginTimeouts, 1);
});

test('stop closes every session with a notice', async (t) => {
  const { port, server } = await start(t);
  const a = await login(t, port, 'alice');
  await server.stop();
  await waitFor(a.closed, 'the session to close on stop');
  assert.ok(a.screen().includes('* The partyline is shutting down.'));
});

test('a port already in use is a clear error', async (t) => {
  const { port, hub } = await start(t);
  const dir = mkdtempSync(join(tmpdir(), 'hypha-pl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clash = new PartylineSshServer({
    hub,
    identity: identityFromSeed(SEED_A),
    authorizedKeysPath: join(dir, 'authorized_keys'),
    clock: new SystemClock(),
    logger: captureLogger().logger,
    listen: `127.0.0.1:${port}`,
  });
  await assert.rejects(clash.listen(), /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
});

test('listen addresses', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:2222'), { host: '127.0.0.1', port: 2222 });
  assert.deepEqual(parseListenAddress('[::1]:22'), { host: '::1', port: 22 });
  assert.throws(() => parseListenAddress(':2222'));
  assert.throws(() => parseListenAddress('localhost'));
  assert.throws(() => parseListenAddress('h:99999'));
});

test('a terminal that stops reading loses its own lines but never holds up another session', async (t) => {
  const { port, hub } = await start(t);
  const slow = await login(t, port, 'slow');
  const fast = await login(t, port, 'fast', bob.private);
  const marker = '[peer@node-b] line ';
  let fastCount = 0;
  let tail = '';
  fast.stream.on('data', (d: Buffer) => {
    // Count markers, including one cut across two chunks (the tail is too short to hold a whole one).
    const text = tail + d.toString('latin1');
    fastCount += text.split(marker).length - 1;
    tail = text.slice(-(marker.length - 1));
  });
  // Stops reading. ssh2 buffers 2 MiB on each side and the SSH window is 2 MiB, so about 6 MiB pass
  // before the server's writes report "full" and the hub starts queueing, then dropping.
  slow.stream.pause();

  const LINES = 9_000;
  const filler = 'x'.repeat(1000);
  for (let i = 0; i < LINES; i++) {
    hub.deliverRemote('peer', `line ${i} ${filler}`, { nodeId: NODE_B, name: 'node-b' });
    // Lines arrive from the mesh a few at a time, not all in one tick.
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await waitFor(() => fastCount === LINES, `the reading session to get all ${LINES} lines (has ${fastCount})`, 60_000);
  assert.ok(hub.stats().outputLinesDropped > 0, 'the stalled session dropped lines');

  slow.stream.resume();
  await waitFor(() => /\* \d+ lines were dropped: your terminal was not keeping up\.\r\n/.test(slow.raw().slice(-500)), 'the catch-up notice', 60_000);
});
