import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger } from '../../src/base/log.ts';
import { buildConfig } from '../../src/config/load.ts';
import { HyphaNode } from '../../src/node/node.ts';
import type { MessagesPart, OverlayPart, PeersPart } from '../../src/node/parts.ts';
import { nodeSubnetText } from '../../src/identity/address.ts';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function node(t: { after: (fn: () => Promise<void>) => void }, base: string, name: string, flags: Record<string, unknown>) {
  const n = await HyphaNode.create(
    buildConfig({
      context: { homeDir: base, hostname: name },
      flags: {
        'node.data_dir': join(base, name),
        'network.listen': '127.0.0.1:0',
        'ssh.listen': '',
        api_addr: '',
        jsonrpc_addr: '',
        no_tun: true,
        tcp_listen_port: '0',
        disable_peer_discovery: true,
        ...flags,
      },
    }),
    { logger: captureLogger('warn').logger },
  );
  await n.start();
  t.after(() => n.stop());
  return { n, peers: n.part<PeersPart>('peers')!.manager, overlay: () => n.part<OverlayPart>('overlay')!.overlay };
}

test('with overlay.links = "native", two nodes route overlay messages over their Noise link alone', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-native-overlay-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const b = await node(t, base, 'b', { 'overlay.links': 'native' });
  const a = await node(t, base, 'a', { 'overlay.links': 'native', 'network.bootstrap': [b.peers.listenAddress!] });
  assert.equal(a.n.part('mycelium-peers'), undefined, 'no Mycelium links in native-only mode');
  const bSubnet = nodeSubnetText(b.n.identity.x25519Public);
  await waitFor('A has a selected route to B over the native link', () =>
    a.overlay().router.selectedRoutes().some((r) => r.subnet === bSubnet));
  assert.ok(a.overlay().router.neighbourInfo().some((n) => n.kind === 'native'), 'the neighbour is a native one');
  const sent = await a.n.part<MessagesPart>('messages')!.bus.push({ dst: { ip: b.n.identity.addressText }, payload: Buffer.from('over noise') });
  assert.ok(sent.ok, sent.ok ? '' : sent.error.message);
  const got = await b.n.part<MessagesPart>('messages')!.bus.pop({ timeoutMs: 20_000 });
  assert.ok(got.ok && got.value, 'B received the message');
  assert.equal(got.value.srcIp, a.n.identity.addressText);
  assert.equal(Buffer.from(got.value.payload).toString(), 'over noise');
});

test('with overlay.links = "mycelium", native peers carry chat and gossip but no overlay', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-myc-overlay-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const b = await node(t, base, 'b', { 'overlay.links': 'mycelium' });
  const a = await node(t, base, 'a', { 'overlay.links': 'mycelium', 'network.bootstrap': [b.peers.listenAddress!] });
  await waitFor('A and B connected natively', () => a.peers.peer(b.n.identity.nodeId) !== undefined);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(a.overlay().router.neighbourInfo().length, 0, 'no router neighbour rides the native link');
  assert.equal(a.n.part('native-overlay'), undefined);
});
