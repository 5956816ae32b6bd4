// Partyline hot paths: sanitising text from the network, fanning a remote line out to every local
// session, and lines per second through a real SSH session (ssh2 client ↔ our ssh2 server, loopback).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { SystemClock, VirtualClock } from '../src/base/clock.ts';
import { silentLogger } from '../src/base/log.ts';
import { identityFromSeed } from '../src/identity/identity.ts';
import { PartylineHub, type SessionOutput } from '../src/partyline/hub.ts';
import { cleanText } from '../src/partyline/sanitize.ts';
import { PartylineSshServer } from '../src/partyline/ssh-server.ts';
import { emit, opsPerSecond } from './lib/emit.ts';
import { sshUserKey } from '../test/helpers/ssh-keys.ts';

const BENCH = 'partyline';

// 1. Sanitising: a clean 200-character line (the common case) and one laced with escapes.
const clean = 'the quick brown fox jumps over the lazy dog, '.repeat(5).slice(0, 200);
const dirty = clean.replace(/ /g, ' \x1b[31m').slice(0, 200) + '\x1b]0;title\x07';
for (const [name, text] of [['clean', clean], ['escaped', dirty]] as const) {
  const perS = await opsPerSecond(() => {
    for (let i = 0; i < 100; i++) cleanText(text);
  });
  emit({
    bench: BENCH,
    figure: `sanitize_${name}_MB_per_s`,
    value: (perS * 100 * text.length) / 1e6,
    unit: 'MB/s',
    what: `cleanText on a ${text.length}-character ${name} chat line (terminal controls stripped, bounded)`,
  });
}

// 2. Hub fan-out: one remote line to 64 sessions whose terminals keep up.
{
  const hub = new PartylineHub({ nodeName: 'bench', clock: new VirtualClock(), logger: silentLogger(), idleTimeoutMs: 0 });
  const sink: SessionOutput = { writeLine: () => true, close: () => undefined };
  for (let i = 0; i < 64; i++) hub.join(`user${i}`, sink);
  const origin = { nodeId: 'ab'.repeat(32), name: 'node-b' };
  const perS = await opsPerSecond(() => {
    for (let i = 0; i < 100; i++) hub.deliverRemote('bob', clean, origin);
  });
  emit({
    bench: BENCH,
    figure: 'hub_remote_lines_per_s_64_sessions',
    value: perS * 100,
    unit: 'lines/s',
    what: 'deliverRemote of a 200-character line to 64 local sessions (sanitise once, queue per session)',
  });
}

// 3. Through SSH: remote lines reaching one ssh2 client with a pty, end to end on loopback.
{
  const dir = mkdtempSync(join(tmpdir(), 'hypha-bench-pl-'));
  const key = sshUserKey();
  writeFileSync(join(dir, 'authorized_keys'), key.public + '\n');
  const clock = new SystemClock();
  const logger = silentLogger();
  const hub = new PartylineHub({ nodeName: 'bench', clock, logger });
  const server = new PartylineSshServer({ hub, identity: identityFromSeed(new Uint8Array(32)), authorizedKeysPath: join(dir, 'authorized_keys'), clock, logger, listen: '127.0.0.1:0' });
  const { port } = await server.listen();
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => client.on('ready', () => resolve()).on('error', reject).connect({ host: '127.0.0.1', port, username: 'bench', privateKey: key.private }));
  const stream = await new Promise<ClientChannel>((resolve, reject) => client.shell({ term: 'xterm', cols: 250, rows: 40 }, (e, s) => (e ? reject(e) : resolve(s))));
  const marker = 'END-OF-BATCH';
  let got = 0;
  let tail = '';
  stream.on('data', (d: Buffer) => {
    const text = tail + d.toString('latin1');
    got += text.split(marker).length - 1;
    tail = text.slice(-(marker.length - 1));
  });
  const LINES = 20_000;
  const origin = { nodeId: 'ab'.repeat(32), name: 'node-b' };
  const start = performance.now();
  for (let i = 0; i < LINES; i++) {
    hub.deliverRemote('bob', `${clean} ${i}`, origin);
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  hub.deliverRemote('bob', marker, origin);
  while (got < 1) await new Promise((r) => setImmediate(r));
  const elapsedS = (performance.now() - start) / 1000;
  emit({
    bench: BENCH,
    figure: 'ssh_remote_lines_per_s',
    value: LINES / elapsedS,
    unit: 'lines/s',
    what: `${LINES} remote 200-character lines shown in one SSH session with a pty (ssh2 client, loopback), arrival 100 per tick`,
    extra: { dropped: hub.stats().outputLinesDropped },
  });
  client.end();
  await server.stop();
  hub.stop();
  rmSync(dir, { recursive: true, force: true });
}
