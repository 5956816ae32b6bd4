// GET /api/v1/hypha/peers against real nodes in this process: node H has a Hypha peer N on a native link
// (an overlay neighbour), a Micelio-only peer G on a native link (no overlay), a Mycelium peer M over tcp://
// and a static Mycelium peer that cannot be reached. Each is listed with its kind and the router's link cost,
// in the shape the OpenAPI document gives; `hypha peers list` prints the same as a table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { HyphaPeers } from '../../src/api/services.ts';
import { join } from 'node:path';
import { captureLogger } from '../../src/base/log.ts';
import { buildConfig } from '../../src/config/load.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { HyphaNode } from '../../src/node/node.ts';
import type { ApiPart, PeersPart } from '../../src/node/parts.ts';
import { STATIC_LINK_COST } from '../../src/router/neighbour.ts';
import { decodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { isOverlayMsgType } from '../../src/wire/micelio/overlay.ts';
import { hyphaInProcess } from '../cli/helpers.ts';
import { helloClient } from '../helpers/hello-client.ts';
import { tempBase } from '../helpers/hypha-nodes.ts';
import { checkJson } from '../helpers/json-schema.ts';
import { QUIET_OVERLAY } from '../helpers/node-flags.ts';
import { startOverlayNode, type OverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/netns.ts';

type Doc = {
  paths: Record<string, Record<string, { operationId: string; tags: string[]; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
  tags: { name: string; description: string }[];
};

async function getJson<T>(n: OverlayNode, path: string): Promise<T> {
  const res = await fetch(`${n.url}${path}`);
  assert.equal(res.status, 200, path);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as T;
}

function nativeListen(n: OverlayNode): string {
  return n.node.part<PeersPart>('peers')!.manager.listenAddress!;
}

test('GET /hypha/peers: native and Mycelium peers, each with the router\'s link cost; `hypha peers list` prints them', async (t) => {
  const base = await tempBase(t, 'hypha-api-peers-');
  const h = await startOverlayNode(t, base, 'h', { 'network.listen': '127.0.0.1:0' });
  const n = await startOverlayNode(t, base, 'n', { 'network.bootstrap': [nativeListen(h)], api_addr: '' });
  await startOverlayNode(t, base, 'm', { peers: [h.endpoint], 'overlay.links': 'mycelium', api_addr: '' });
  const g = identityFromSeed(randomBytes(32));
  const micelio = await helloClient(nativeListen(h), g, { version: '0.1.0' }, true);
  t.after(() => micelio.socket.destroy());
  const unreachable = 'tcp://127.0.0.1:1';
  assert.equal((await fetch(`${h.url}/admin/peers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: unreachable }) })).status, 204);

  const nId = n.node.identity.nodeId;
  const ready = (p: HyphaPeers) =>
    p.native.some((x) => x.nodeId === nId && x.linkCost !== null) && p.native.some((x) => x.nodeId === g.nodeId) &&
    p.mycelium.some((x) => x.type === 'inbound' && x.linkCost !== null);
  const peers = await waitFor('N a native neighbour, G connected, M a Mycelium neighbour', async () => {
    const p = await getJson<HyphaPeers>(h, '/hypha/peers');
    return ready(p) ? p : undefined;
  }, 30_000, 100);
  assert.ok(ready(peers), JSON.stringify(peers));

  // The shape the OpenAPI document gives, strictly (no property it does not list).
  const doc = await getJson<Doc>(h, '/openapi.json');
  const op = doc.paths['/api/v1/hypha/peers']?.get;
  assert.ok(op, 'GET /api/v1/hypha/peers is in the document');
  assert.equal(op.operationId, 'getHyphaPeers');
  assert.deepEqual(op.tags, ['hypha-peers']);
  assert.ok(doc.tags.some((x) => x.name === 'hypha-peers'));
  const schema = op.responses['200']?.content?.['application/json']?.schema;
  assert.ok(schema);
  assert.deepEqual(checkJson(peers, schema, doc.components.schemas), [], JSON.stringify(peers));
  assert.equal(peers.overlayLinks, 'both');

  // N: a Hypha peer on a native link, an overlay neighbour whose cost is the router's.
  const pn = peers.native.find((x) => x.nodeId === nId)!;
  assert.deepEqual(Object.keys(pn), ['nodeId', 'address', 'listenAddr', 'direction', 'version', 'hypha', 'linkCost', 'link', 'connected', 'txBytes', 'rxBytes']);
  assert.equal(pn.direction, 'inbound');
  assert.equal(pn.hypha, true);
  assert.match(pn.version, /^hypha\//);
  assert.ok(pn.linkCost! >= STATIC_LINK_COST.tcpIpv4, `cost ${pn.linkCost} includes TCP over IPv4's static cost`);
  assert.match(pn.link!, new RegExp(`^NATIVE 127\\.0\\.0\\.1:\\d+ ${nId.slice(0, 12)}$`));
  const routerView = h.overlay.router.neighbourInfo().find((x) => x.kind === 'native' && x.remoteId === nId);
  assert.equal(routerView?.label, pn.link, 'the link is named as the router (and the next hops of routes) name it');
  assert.ok(pn.rxBytes > 0 && pn.txBytes > 0);

  // G: a Micelio-only peer: connected, never an overlay neighbour, so no cost.
  const pg = peers.native.find((x) => x.nodeId === g.nodeId)!;
  assert.deepEqual({ hypha: pg.hypha, version: pg.version, linkCost: pg.linkCost, link: pg.link, direction: pg.direction },
    { hypha: false, version: '0.1.0', linkCost: null, link: null, direction: 'inbound' });
  // Over its real Noise socket it got the hello ack and whatever else H sent, never an overlay envelope,
  // while H's overlay ran on its native link to N.
  const types = micelio.received.map((f) => {
    const e = decodeEnvelope(f);
    assert.ok(e.ok, 'every frame G received is an envelope');
    return e.value.msgType;
  });
  assert.ok(types.length >= 1);
  assert.ok(!types.some(isOverlayMsgType), `G received msg_types ${types.join(',')}`);

  // M over tcp:// with its cost; the static peer that cannot be reached has none.
  const pm = peers.mycelium.find((x) => x.type === 'inbound')!;
  assert.deepEqual(Object.keys(pm), ['endpoint', 'type', 'connectionState', 'linkCost', 'link', 'txBytes', 'rxBytes']);
  assert.equal(pm.connectionState, 'alive');
  assert.match(pm.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(pm.linkCost! >= STATIC_LINK_COST.tcpIpv4);
  assert.match(pm.link!, new RegExp(`^TCP 127\\.0\\.0\\.1:\\d+ <-> ${pm.endpoint.slice(6).replace(/\./g, '\\.')}$`));
  const pu = peers.mycelium.find((x) => x.endpoint === unreachable)!;
  assert.equal(pu.type, 'static');
  assert.notEqual(pu.connectionState, 'alive');
  assert.equal(pu.linkCost, null);
  assert.equal(pu.link, null);
  // Mycelium's own route keeps Mycelium's shape.
  const admin = await getJson<Record<string, unknown>[]>(h, '/admin/peers');
  assert.deepEqual(Object.keys(admin[0]), ['endpoint', 'type', 'connectionState', 'txBytes', 'rxBytes', 'discovered', 'lastConnected']);

  // The CLI: one table, a row per peer with its kind and cost; --json is the route's JSON.
  const table = await hyphaInProcess(['peers', 'list', '--api-addr', h.apiAddr]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.split('\n');
  assert.match(lines[0], /^Kind\s+Peer\s+Address\s+Type\s+State\s+Version\s+Cost\s+Rx total\s+Tx total$/);
  assert.match(lines[1], /^-+( +-+){8}$/);
  assert.ok(lines.some((l) => new RegExp(`^native\\s+${nId.slice(0, 16)}\\s+127\\.0\\.0\\.1:\\d+\\s+inbound\\s+alive\\s+hypha/\\S+\\s+\\d+\\s+[\\d.]+ (B|KiB)\\s+[\\d.]+ (B|KiB)$`).test(l)), table.stdout);
  assert.ok(lines.some((l) => new RegExp(`^native\\s+${g.nodeId.slice(0, 16)}\\s+127\\.0\\.0\\.1:\\d+\\s+inbound\\s+alive\\s+0\\.1\\.0\\s+-\\s`).test(l)), table.stdout);
  assert.ok(lines.some((l) => /^mycelium\s+-\s+tcp:\/\/127\.0\.0\.1:\d+\s+inbound\s+alive\s+-\s+\d+\s/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^mycelium\s+-\s+tcp:\/\/127\.0\.0\.1:1\s+static\s+(connecting|dead)\s+-\s+-\s/.test(l)), table.stdout);
  // Native rows first, then Mycelium rows.
  const kinds = lines.slice(2).filter((l) => l !== '').map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(kinds, ['native', 'native', 'mycelium', 'mycelium']);
  const json = await hyphaInProcess(['peers', 'list', '--json', '--api-addr', h.apiAddr]);
  const parsed = JSON.parse(json.stdout) as HyphaPeers;
  assert.deepEqual(Object.keys(parsed), ['overlayLinks', 'native', 'mycelium']);
  assert.deepEqual(parsed.native.map((x) => x.nodeId).sort(), [nId, g.nodeId].sort());
});

test('GET /hypha/peers on a node that runs the overlay on native links only: no Mycelium peers, and it says so', async (t) => {
  const base = await tempBase(t, 'hypha-api-peers-native-');
  const node = await HyphaNode.create(buildConfig({
    context: { homeDir: base, hostname: 'h' },
    flags: { 'node.data_dir': join(base, 'h'), 'network.listen': '', 'ssh.listen': '', ...QUIET_OVERLAY, api_addr: '127.0.0.1:0', 'overlay.links': 'native' },
  }), { logger: captureLogger('warn').logger });
  t.after(() => node.stop());
  await node.start();
  const api = node.part<ApiPart>('api')!.server!;
  const res = await fetch(`${api.url!}/hypha/peers`);
  assert.deepEqual(await res.json(), { overlayLinks: 'native', native: [], mycelium: [] });
  const table = await hyphaInProcess(['peers', 'list', '--api-addr', api.address!]);
  assert.equal(table.stdout, 'no peers (give native peers with --bootstrap)\n');
});
