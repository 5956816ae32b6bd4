// `hypha peers|routes|stats` against a running `hypha run` (a real process), peered over Mycelium TCP with a
// second node in this process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeSubnetText } from '../../src/identity/address.ts';
import { parseIpv6 } from '../../src/wire/ipv6.ts';
import { QUIET_OVERLAY_ARGS } from '../helpers/node-flags.ts';
import { startOverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';
import { hyphaInProcess, spawnHypha, type Running } from './helpers.ts';

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts `hypha run` with the API on a free port; resolves once its API answers. */
async function runNode(t: { after(fn: () => unknown): void }, dir: string, extra: string[]): Promise<{ node: Running; apiAddr: string }> {
  const node = spawnHypha(['run', '--data-dir', dir, '--listen', '', '--ssh-listen', '', '--log-format', 'json', ...QUIET_OVERLAY_ARGS, '--api-addr', '127.0.0.1:0', ...extra]);
  t.after(async () => {
    if (node.child.exitCode === null && node.child.signalCode === null) {
      node.child.kill('SIGTERM');
      await node.exited;
    }
  });
  await node.waitFor('"msg":"node running"');
  const m = /"url":"http:\/\/([^/"]+)\/api\/v1"/.exec(node.stderr().split('\n').find((l) => l.includes('HTTP API listening')) ?? '');
  assert.ok(m?.[1], node.stderr());
  return { node, apiAddr: m[1] };
}

test('peers, routes and stats: tables for people, --json for programs', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-cli-admin-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const b = await startOverlayNode(t, base, 'b');
  const { node, apiAddr } = await runNode(t, join(base, 'a'), ['--peers', b.endpoint]);
  const api = ['--api-addr', apiAddr];
  const bSubnet = nodeSubnetText(b.node.identity.x25519Public);

  await waitFor(() => b.mycelium.peers().some((p) => p.type === 'inbound' && p.connectionState === 'alive'), 'A connected to B', 30_000);
  let selected = '';
  for (let i = 0; i < 200 && !selected.includes(bSubnet); i++) {
    selected = (await hyphaInProcess(['routes', 'selected', ...api])).stdout;
    if (!selected.includes(bSubnet)) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(selected, /^Subnet\s+Next Hop\s+Metric\s+Seq No\n-+/);
  assert.match(selected, new RegExp(`${bSubnet.replace(/[.:/]/g, '\\$&')}\\s+TCP \\S+ <-> 127\\.0\\.0\\.1:\\d+\\s+0\\s+\\d+\\n`));

  // `peers list`: both kinds in one table (this node has Mycelium peers only), with the router's link cost.
  const list = await hyphaInProcess(['peers', 'list', ...api]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^Kind\s+Peer\s+Address\s+Type\s+State\s+Version\s+Cost\s+Rx total\s+Tx total\n/);
  assert.match(list.stdout, new RegExp(`\\nmycelium\\s+-\\s+${b.endpoint.replace(/[./]/g, '\\$&')}\\s+static\\s+alive\\s+-\\s+\\d+\\s+[\\d.]+ (B|KiB)\\s+[\\d.]+ (B|KiB)\\n`));
  const json = await hyphaInProcess(['peers', 'list', '--json', ...api]);
  const peers = JSON.parse(json.stdout) as { overlayLinks: string; native: unknown[]; mycelium: Record<string, unknown>[] };
  assert.equal(peers.overlayLinks, 'both');
  assert.deepEqual(peers.native, []);
  assert.deepEqual(Object.keys(peers.mycelium[0]), ['endpoint', 'type', 'connectionState', 'linkCost', 'link', 'txBytes', 'rxBytes']);
  assert.equal(peers.mycelium[0].endpoint, b.endpoint);

  const routesJson = JSON.parse((await hyphaInProcess(['routes', 'selected', '--json', ...api])).stdout) as { subnet: string }[];
  assert.ok(routesJson.some((r) => r.subnet === bSubnet));
  assert.equal((await hyphaInProcess(['routes', 'fallback', ...api])).stdout, 'no fallback routes\n');
  assert.deepEqual(JSON.parse((await hyphaInProcess(['routes', 'fallback', '--json', ...api])).stdout), []);
  const queried = await hyphaInProcess(['routes', 'queried', ...api]);
  assert.equal(queried.code, 0);
  assert.match(queried.stdout, /^(no subnets are being queried\n|Subnet\s+Query expiration\n)/);

  // Traffic from B to A shows in A's packet statistics.
  const aIp = (JSON.parse((await hyphaInProcess(['inspect', '--json', '--data-dir', join(base, 'a')])).stdout) as { address: string }).address;
  b.overlay.dataplane.sendMessage(parseIpv6(aIp)!, new Uint8Array(64));
  let stats = { bySource: [] as { ip: string }[], byDestination: [] as { ip: string }[] };
  for (let i = 0; i < 200 && !stats.bySource.some((s) => s.ip === b.node.identity.addressText); i++) {
    stats = JSON.parse((await hyphaInProcess(['stats', 'packets', '--json', ...api])).stdout) as typeof stats;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(Object.keys(stats), ['bySource', 'byDestination']);
  assert.ok(stats.byDestination.some((s) => s.ip === aIp), JSON.stringify(stats));
  const statsText = await hyphaInProcess(['stats', 'packets', ...api]);
  assert.match(statsText.stdout, new RegExp(`^Statistics by source IP:\\nSource IP\\s+Packets\\s+Bytes\\n[- ]+\\n${b.node.identity.addressText}\\s+1\\s+\\d+\\n`));
  assert.match(statsText.stdout, /\nStatistics by destination IP:\nDestination IP\s+Packets\s+Bytes\n/);

  // Add and remove, several at once; failures are reported one by one and make the exit code 1.
  const add = await hyphaInProcess(['peers', 'add', 'tcp://[::1]:1', 'tcp://127.0.0.1:2', ...api]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, 'added tcp://[::1]:1\nadded tcp://127.0.0.1:2\n');
  const dup = await hyphaInProcess(['peers', 'add', 'tcp://[::1]:1', 'bogus', ...api]);
  assert.equal(dup.code, 1);
  assert.equal(dup.stderr, 'hypha peers add tcp://[::1]:1: peer tcp://[::1]:1 already exists\nhypha peers add bogus: "bogus" is not an endpoint (expected tcp://IP:PORT)\n');
  const rmJson = await hyphaInProcess(['peers', 'remove', '--json', 'tcp://[::1]:1', 'tcp://127.0.0.1:3', ...api]);
  assert.equal(rmJson.code, 1);
  assert.deepEqual(JSON.parse(rmJson.stdout), [
    { endpoint: 'tcp://[::1]:1', ok: true, status: 204 },
    { endpoint: 'tcp://127.0.0.1:3', ok: false, status: 404, message: 'no peer tcp://127.0.0.1:3' },
  ]);
  assert.equal((await hyphaInProcess(['peers', 'remove', 'tcp://127.0.0.1:2', ...api])).stdout, 'removed tcp://127.0.0.1:2\n');

  // The node stops cleanly (within run's 1.8 s deadline, else the exit code is 1) with its API and links up.
  node.child.kill('SIGTERM');
  assert.equal((await node.exited).code, 0, node.stderr());
});

test('the CLI finds the API address and token in the node\'s config; without the token it says so', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-cli-admin-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dir = join(base, 'node');
  const port = await freePort();
  const tokenFile = join(base, 'api.token');
  await writeFile(tokenFile, 'let-me-in\n');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.toml'), `api_addr = "127.0.0.1:${port}"\napi_token_file = "${tokenFile}"\n`);
  const node = spawnHypha(['run', '--data-dir', dir, '--listen', '', '--ssh-listen', '', '--log-format', 'json', '--no-tun', '-t', '0', '--disable-peer-discovery', '--jsonrpc-addr', '']);
  t.after(async () => {
    if (node.child.exitCode === null) {
      node.child.kill('SIGTERM');
      await node.exited;
    }
  });
  await node.waitFor('"msg":"node running"');

  // From the data dir's config: address and token.
  const viaConfig = await hyphaInProcess(['peers', 'list', '--data-dir', dir]);
  assert.equal(viaConfig.code, 0, viaConfig.stderr);
  assert.match(viaConfig.stdout, /^no peers \(/);
  // An explicit address without the token: 401 explained.
  const noToken = await hyphaInProcess(['peers', 'list', '--api-addr', `127.0.0.1:${port}`, '--data-dir', join(base, 'elsewhere')]);
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /^hypha peers list: this node requires an API token: send "Authorization: Bearer <token>" .* \(give the node's token file with --api-token-file\)\n$/);
  const withToken = await hyphaInProcess(['routes', 'selected', '--json', '--api-addr', `127.0.0.1:${port}`, '--api-token-file', tokenFile, '--data-dir', join(base, 'elsewhere')]);
  assert.equal(withToken.code, 0, withToken.stderr);
  assert.deepEqual(JSON.parse(withToken.stdout), []);
  const badToken = await hyphaInProcess(['stats', 'packets', '--api-addr', `127.0.0.1:${port}`, '--api-token-file', join(base, 'missing'), '--data-dir', join(base, 'elsewhere')]);
  assert.equal(badToken.code, 2);
  assert.match(badToken.stderr, /--api-token-file: .*missing: cannot read the API token file: does not exist/);
});

test('no node running: a clear message and exit 1', async () => {
  const port = await freePort();
  for (const args of [['peers', 'list'], ['routes', 'queried', '--json'], ['stats', 'packets'], ['peers', 'add', 'tcp://[::1]:1']]) {
    const r = await hyphaInProcess([...args, '--api-addr', `127.0.0.1:${port}`, '--data-dir', '/nonexistent/hypha']);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `hypha ${args.slice(0, 2).join(' ')}: cannot reach the Hypha API at http://127.0.0.1:${port}: connection refused — is the node running? start it with \`hypha run\` (or point --api-addr at it)\n`);
  }
  const off = await hyphaInProcess(['peers', 'list', '--api-addr', '', '--data-dir', '/nonexistent/hypha']);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /the node's HTTP API is turned off/);
  const usage = await hyphaInProcess(['peers', 'add']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing required argument 'endpoint'/);
});

test('peers list against a Mycelium node (no /hypha/peers): its Mycelium peers, without costs', async (t) => {
  const stats = [{ endpoint: { proto: 'tcp', addr: { socket: '[2001:db8::1]:9651' } }, type: 'static', connectionState: 'alive', txBytes: 2048, rxBytes: 100, discovered: 5, lastConnected: 4 }];
  const server = createHttpServer((req, res) => {
    if (req.url === '/api/v1/admin/peers') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const api = ['--api-addr', `127.0.0.1:${(server.address() as { port: number }).port}`];
  const list = await hyphaInProcess(['peers', 'list', ...api]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /\nmycelium\s+-\s+tcp:\/\/\[2001:db8::1\]:9651\s+static\s+alive\s+-\s+-\s+100 B\s+2\.00 KiB\n.*a Mycelium node\?/);
  const json = JSON.parse((await hyphaInProcess(['peers', 'list', '--json', ...api])).stdout) as { mycelium: { endpoint: string; linkCost: null }[] };
  assert.deepEqual(json.mycelium.map((p) => [p.endpoint, p.linkCost]), [['tcp://[2001:db8::1]:9651', null]]);
});
