import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger } from '../../src/base/log.ts';
import { buildConfig } from '../../src/config/load.ts';
import { HyphaNode } from '../../src/node/node.ts';
import type { PeersPart } from '../../src/node/parts.ts';
import { QUIET_OVERLAY } from '../helpers/node-flags.ts';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function nodeConfig(base: string, name: string, flags: Record<string, unknown> = {}) {
  return buildConfig({
    context: { homeDir: base, hostname: name },
    flags: { 'node.data_dir': join(base, name), 'network.listen': '127.0.0.1:0', 'ssh.listen': '', ...QUIET_OVERLAY, ...flags },
  });
}

test('a node persists its peer table in LMDB and redials from it after a restart', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-peertable-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await HyphaNode.create(nodeConfig(base, 'a'), { logger: captureLogger('warn').logger });
  await a.start();
  t.after(() => a.stop());
  const aPeers = a.part<PeersPart>('peers')!.manager;
  const aAddr = aPeers.listenAddress!;

  // B learns A from its bootstrap list, then forgets the list: only the stored table can bring A back.
  const b1 = await HyphaNode.create(nodeConfig(base, 'b', { 'network.bootstrap': [aAddr] }), { logger: captureLogger('warn').logger });
  await b1.start();
  await waitFor('B connected to A', () => b1.part<PeersPart>('peers')!.manager.peer(a.identity.nodeId) !== undefined);
  await b1.stop();
  await waitFor('A noticed B left', () => aPeers.peer(b1.identity.nodeId) === undefined);

  const b2 = await HyphaNode.create(nodeConfig(base, 'b', { 'network.discovery_interval': '200ms' }), { logger: captureLogger('warn').logger });
  t.after(() => b2.stop());
  await b2.start();
  assert.ok(b2.part<PeersPart>('peers')!.manager.knownPeers().some((r) => r.nodeId === a.identity.nodeId && r.addr === aAddr));
  await waitFor('B reconnected to A from its stored peer table', () => b2.part<PeersPart>('peers')!.manager.peer(a.identity.nodeId) !== undefined);
});
