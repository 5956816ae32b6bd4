// The overlay parts of a node, in this process: private networks from the config, skipped quic:// peers, and
// start failures that say what to change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger } from '../../src/base/log.ts';
import { buildConfig, type FlagValue } from '../../src/config/load.ts';
import { HyphaNode } from '../../src/node/node.ts';
import { QUIET_OVERLAY } from '../helpers/node-flags.ts';
import { startOverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';

async function tempDir(t: { after(fn: () => unknown): void }): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'hypha-overlay-parts-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  return base;
}

async function createNode(base: string, name: string, flags: Record<string, FlagValue>) {
  const config = buildConfig({
    context: { homeDir: base, hostname: name },
    flags: { 'node.data_dir': join(base, name), 'network.listen': '', 'ssh.listen': '', ...QUIET_OVERLAY, ...flags },
  });
  const log = captureLogger('info');
  return { node: await HyphaNode.create(config, { logger: log.logger }), log };
}

test('a private network from network_name + network_key_file: same key connects over TLS, another key is refused', async (t) => {
  const base = await tempDir(t);
  await writeFile(join(base, 'lab.key'), Buffer.alloc(32, 1));
  await writeFile(join(base, 'other.key'), Buffer.alloc(32, 2));
  const net = (key: string) => ({ network_name: 'lab', network_key_file: join(base, key), api_addr: '' });
  const a = await startOverlayNode(t, base, 'a', net('lab.key'));
  // tcp:// is dialled over TLS in a private network, as mycelium-private does.
  const b = await startOverlayNode(t, base, 'b', { ...net('lab.key'), peers: [a.endpoint] });
  await waitFor(() => b.overlay.router.lookup(a.node.identity.address).kind === 'selected', 'B routes to A over TLS', 30_000);
  assert.equal(b.mycelium.peers()[0].connectionState, 'alive');
  const c = await startOverlayNode(t, base, 'c', { ...net('other.key'), peers: [a.endpoint] });
  await waitFor(() => a.mycelium.refused >= 1, 'A refused the node with another key', 30_000);
  assert.notEqual(c.mycelium.peers()[0].connectionState, 'alive');
  assert.equal(c.overlay.router.lookup(a.node.identity.address).kind, 'unknown');
});

test('quic:// peers from a Mycelium config are skipped with one warning; the others are dialled', async (t) => {
  const base = await tempDir(t);
  const a = await startOverlayNode(t, base, 'a');
  const { node, log } = await createNode(base, 'b', { peers: ['quic://192.0.2.1:9651', a.endpoint, 'quic://[2001:db8::1]:9651'] });
  t.after(() => node.stop());
  await node.start();
  assert.ok(log.has('warn', 'skipping 2 quic:// peers: Hypha has no QUIC'), JSON.stringify(log.records.filter((r) => r.level >= 40)));
  assert.equal(log.count('error'), 0);
  await waitFor(() => a.mycelium.peers().some((p) => p.connectionState === 'alive'), 'B connected to A');
});

test('start failures name what to change: key file, Mycelium port, API address', async (t) => {
  const base = await tempDir(t);
  await writeFile(join(base, 'short.key'), 'too short');
  const keyed = await createNode(base, 'k', { network_name: 'lab', network_key_file: join(base, 'short.key') });
  await assert.rejects(keyed.node.start(), /mycelium-peers failed to start: network_key_file: .*short\.key: is 9 bytes; a network key file holds exactly 32 raw bytes/);
  assert.equal(keyed.node.state, 'stopped');

  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen({ port: 0, host: '::', ipv6Only: false }, r));
  t.after(() => new Promise((r) => blocker.close(r)));
  const port = (blocker.address() as { port: number }).port;
  const busy = await createNode(base, 'p', { tcp_listen_port: String(port) });
  await assert.rejects(busy.node.start(), new RegExp(`cannot listen for Mycelium peers on TCP port ${port}: the port is in use \\(another hypha or mycelium node running\\?\\); choose another --tcp-listen-port`));

  const apiBusy = await createNode(base, 'q', { api_addr: `[::]:${port}` });
  await assert.rejects(apiBusy.node.start(), new RegExp(`api failed to start: cannot listen for the HTTP API on \\[::\\]:${port}: the address is in use .*choose another --api-addr, or "" to turn the API off`));
  assert.equal(apiBusy.node.state, 'stopped', 'the parts before it were stopped again');
});
