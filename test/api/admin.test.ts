// The admin routes against real nodes in this process: B peers with A over Mycelium TCP, and B's API shows
// and changes it all in the JSON shapes of Mycelium's Rust code, checked against the OpenAPI document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/base/bytes.ts';
import { nodeSubnetText } from '../../src/identity/address.ts';
import { parseIpv6 } from '../../src/wire/ipv6.ts';
import { checkJson, collectRefs } from '../helpers/json-schema.ts';
import { startOverlayNode, type OverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

async function call(n: OverlayNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${n.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as unknown };
}

/** The response schema the document gives for `method path` and `status`. */
function responseSchema(doc: Doc, method: string, template: string, status: number): Record<string, unknown> {
  const op = doc.paths[`/api/v1${template}`]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${template} is in the document`);
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema;
  assert.ok(schema, `${method} ${template} documents a JSON ${status}`);
  return schema;
}

function assertShape(doc: Doc, value: unknown, method: string, template: string, status = 200): void {
  assert.deepEqual(checkJson(value, responseSchema(doc, method, template, status), doc.components.schemas), [], `${method} ${template}: ${JSON.stringify(value)}`);
}

test('admin routes: node info, peers, routes, queried subnets, packet statistics and public keys, in Mycelium\'s shapes', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-api-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await startOverlayNode(t, base, 'a');
  const b = await startOverlayNode(t, base, 'b', { peers: [a.endpoint] });
  const doc = (await call(b, 'GET', '/openapi.json')).json() as Doc;
  const aAddr = a.node.identity.address;

  // GET /admin
  const info = await call(b, 'GET', '/admin');
  assert.equal(info.status, 200);
  assert.match(info.type, /^application\/json/);
  const id = b.node.identity;
  const infoJson = info.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(infoJson), ['nodeSubnet', 'nodeIp', 'nodePubkey', 'nodeStartTime']);
  assert.equal(infoJson.nodeSubnet, nodeSubnetText(id.x25519Public));
  assert.equal(infoJson.nodeIp, id.addressText);
  assert.equal(infoJson.nodePubkey, toHex(id.x25519Public));
  assert.ok(Math.abs(Number(infoJson.nodeStartTime) - Date.now() / 1000) < 120);
  assertShape(doc, infoJson, 'GET', '/admin');

  // The link comes up and each learns the other's /64.
  await waitFor(() => b.overlay.router.lookup(aAddr).kind === 'selected' && a.overlay.router.lookup(id.address).kind === 'selected', 'routes both ways', 30_000);

  // GET /admin/peers: B has A as a static peer, A has B as an inbound one.
  const peers = (await call(b, 'GET', '/admin/peers')).json() as { endpoint: { proto: string; addr: { socket: string } }; type: string; connectionState: string; lastConnected: number | null }[];
  assertShape(doc, peers, 'GET', '/admin/peers');
  assert.equal(peers.length, 1);
  assert.deepEqual(Object.keys(peers[0]), ['endpoint', 'type', 'connectionState', 'txBytes', 'rxBytes', 'discovered', 'lastConnected']);
  assert.deepEqual(peers[0].endpoint, { proto: 'tcp', addr: { socket: a.endpoint.slice('tcp://'.length) } });
  assert.equal(peers[0].type, 'static');
  assert.equal(peers[0].connectionState, 'alive');
  assert.equal(typeof peers[0].lastConnected, 'number');
  const aPeers = (await call(a, 'GET', '/admin/peers')).json() as { type: string }[];
  assert.deepEqual(aPeers.map((p) => p.type), ['inbound']);

  // GET /admin/routes/selected: A's subnet through the link, metric and seqno as numbers.
  const selected = (await call(b, 'GET', '/admin/routes/selected')).json() as { subnet: string; nextHop: string; metric: unknown; seqno: number }[];
  assertShape(doc, selected, 'GET', '/admin/routes/selected');
  const toA = selected.find((r) => r.subnet === nodeSubnetText(a.node.identity.x25519Public));
  assert.ok(toA, JSON.stringify(selected));
  assert.deepEqual(Object.keys(toA), ['subnet', 'nextHop', 'metric', 'seqno']);
  assert.match(toA.nextHop, /^TCP \S+ <-> 127\.0\.0\.1:\d+$/);
  assert.equal(toA.metric, 0);
  assertShape(doc, (await call(b, 'GET', '/admin/routes/fallback')).json(), 'GET', '/admin/routes/fallback');

  // GET /admin/routes/queried: a message to an address nobody owns sends out a route request.
  const nobody = parseIpv6('4ff:1234:5678:9abc::1')!;
  b.overlay.dataplane.sendMessage(nobody, new Uint8Array([1, 2, 3]));
  const queried = (await call(b, 'GET', '/admin/routes/queried')).json() as { subnet: string; expiration: string }[];
  assertShape(doc, queried, 'GET', '/admin/routes/queried');
  assert.deepEqual(queried.map((q) => q.subnet), ['4ff:1234:5678:9abc::/64']);
  assert.match(queried[0].expiration, /^\d+$/, 'seconds, as a string');
  assert.ok(Number(queried[0].expiration) <= 15);

  // GET /admin/stats/packets: traffic B → A is counted by source and destination.
  b.overlay.dataplane.sendMessage(aAddr, new Uint8Array(100));
  const stats = (await call(b, 'GET', '/admin/stats/packets')).json() as { bySource: { ip: string; packetCount: number; byteCount: number }[]; byDestination: { ip: string }[] };
  assertShape(doc, stats, 'GET', '/admin/stats/packets');
  assert.ok(stats.bySource.some((s) => s.ip === id.addressText && s.packetCount >= 1 && s.byteCount > 0));
  assert.ok(stats.byDestination.some((s) => s.ip === a.node.identity.addressText));

  // GET /pubkey/{ip}
  const pk = await call(b, 'GET', `/pubkey/${a.node.identity.addressText}`);
  assert.equal(pk.status, 200);
  assert.deepEqual(pk.json(), { publicKey: toHex(a.node.identity.x25519Public) });
  assertShape(doc, pk.json(), 'GET', '/pubkey/{ip}');
  assert.deepEqual((await call(b, 'GET', `/pubkey/${id.addressText}`)).json(), { publicKey: toHex(id.x25519Public) }, 'our own');
  const unknown = await call(b, 'GET', '/pubkey/4ff:1::1');
  assert.equal(unknown.status, 404);
  assert.match(unknown.text, /no public key known for 4ff:1::1/);
  assert.equal((await call(b, 'GET', '/pubkey/192.0.2.1')).status, 404, 'IPv4 is an address, just not an overlay one (as Mycelium)');
  const junk = await call(b, 'GET', '/pubkey/not-an-ip');
  assert.equal(junk.status, 400);
  assert.match(junk.type, /^text\/plain/);
  assert.equal(junk.text, '"not-an-ip" is not an IP address\n');
});

test('POST and DELETE /admin/peers: 204, 400, 404 and 409 as Mycelium, with messages', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-api-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await startOverlayNode(t, base, 'a');
  const b = await startOverlayNode(t, base, 'b');

  const added = await call(b, 'POST', '/admin/peers', { endpoint: a.endpoint });
  assert.equal(added.status, 204);
  assert.equal(added.text, '');
  await waitFor(() => b.mycelium.peers().some((p) => p.connectionState === 'alive'), 'B connected to A');
  const again = await call(b, 'POST', '/admin/peers', { endpoint: a.endpoint, ignoredField: true });
  assert.equal(again.status, 409);
  assert.equal(again.text, `peer ${a.endpoint} already exists\n`);

  const bad: [unknown, number, RegExp][] = [
    [{ endpoint: 'nonsense' }, 400, /^"nonsense" is not an endpoint \(expected tcp:\/\/IP:PORT\)/],
    [{ endpoint: 'quic://192.0.2.1:9651' }, 400, /QUIC peers are not supported/],
    [{ endpoint: 'tls://192.0.2.1:9651' }, 400, /tls:\/\/ peers need a private network/],
    [{ endpoint: 5 }, 400, /^invalid request: body\/endpoint must be string/],
    [{ endpoint: ['tcp://192.0.2.1:9651'] }, 400, /body\/endpoint must be string/],
    [{}, 400, /body must have required property 'endpoint'/],
    [[], 400, /body must be object/],
    ['{"endpoint":', 400, /the body is not valid JSON/],
    [{ endpoint: `tcp://${'1'.repeat(300)}` }, 400, /must NOT have more than 256 characters/],
  ];
  for (const [body, status, message] of bad) {
    const r = await call(b, 'POST', '/admin/peers', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(r.type, /^text\/plain/);
    assert.match(r.text, message, JSON.stringify(body));
  }
  const form = await call(b, 'POST', '/admin/peers', 'endpoint=x', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  assert.match(form.text, /send JSON with "Content-Type: application\/json"/);

  const enc = encodeURIComponent(a.endpoint);
  assert.equal((await call(b, 'DELETE', `/admin/peers/${enc}`)).status, 204);
  assert.equal(b.mycelium.peers().length, 0);
  const gone = await call(b, 'DELETE', `/admin/peers/${enc}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.text, `no peer ${a.endpoint}\n`);
  const badDelete = await call(b, 'DELETE', `/admin/peers/${encodeURIComponent('tcp://nowhere')}`);
  assert.equal(badDelete.status, 400);
  assert.match(badDelete.text, /"tcp:\/\/nowhere" has no port/);
  // IPv6 endpoints survive the URL encoding too.
  assert.equal((await call(b, 'POST', '/admin/peers', { endpoint: 'tcp://[::1]:1' })).status, 204);
  assert.equal((await call(b, 'DELETE', `/admin/peers/${encodeURIComponent('tcp://[::1]:1')}`)).status, 204);
  // An unknown route says where the list is.
  const none = await call(b, 'GET', '/admin/nothing');
  assert.equal(none.status, 404);
  assert.match(none.text, /no route GET \/api\/v1\/admin\/nothing \(the routes are listed at \/api\/v1\/openapi\.json\)/);
});

test('with --api-token-file every request needs the bearer token (401 otherwise)', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-api-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await writeFile(join(base, 'api.token'), 'correct-horse\n');
  const n = await startOverlayNode(t, base, 'n', { api_token_file: join(base, 'api.token') });
  for (const path of ['/admin', '/admin/peers', '/openapi.json', '/no/such/route']) {
    const r = await call(n, 'GET', path);
    assert.equal(r.status, 401, path);
    assert.match(r.text, /this node requires an API token: send "Authorization: Bearer <token>"/);
  }
  const wrong = await call(n, 'GET', '/admin', undefined, { authorization: 'Bearer correct-horsE' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.text, 'wrong API token\n');
  const post = await call(n, 'POST', '/admin/peers', { endpoint: 'tcp://[::1]:1' });
  assert.equal(post.status, 401, 'refused before anything is done');
  assert.equal(n.mycelium.peers().length, 0);
  const ok = await call(n, 'GET', '/admin', undefined, { authorization: 'Bearer correct-horse' });
  assert.equal(ok.status, 200);
  assert.equal((ok.json() as { nodeIp: string }).nodeIp, n.node.identity.addressText);
});

test('openapi.json: OpenAPI 3.1 listing every route fastify serves, every $ref resolved', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-api-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const n = await startOverlayNode(t, base, 'n');
  const r = await call(n, 'GET', '/openapi.json');
  assert.equal(r.status, 200);
  const doc = r.json() as Doc & { info: { title: string; version: string }; components: { securitySchemes: Record<string, unknown> } };
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(typeof doc.info.title, 'string');
  assert.equal(typeof doc.info.version, 'string');
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
  assert.deepEqual([...documented].sort(), [...n.api!.served].sort(), 'the document and the server agree');
  for (const want of ['GET /api/v1/admin', 'GET /api/v1/admin/peers', 'POST /api/v1/admin/peers', 'DELETE /api/v1/admin/peers/:endpoint',
    'GET /api/v1/admin/routes/selected', 'GET /api/v1/admin/routes/fallback', 'GET /api/v1/admin/routes/queried',
    'GET /api/v1/admin/stats/packets', 'GET /api/v1/pubkey/:ip', 'GET /api/v1/openapi.json']) {
    assert.ok(documented.includes(want), want);
  }
  const ids = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    assert.ok(path.startsWith('/api/v1/'), path);
    for (const [method, op] of Object.entries(ops)) {
      assert.ok(['get', 'post', 'put', 'delete'].includes(method));
      assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
      ids.add(op.operationId);
      assert.ok(Object.keys(op.responses).length > 0);
      for (const code of Object.keys(op.responses)) assert.match(code, /^[1-5]\d\d$/);
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const p of params) assert.ok(op.parameters?.some((x) => x.name === p && x.in === 'path'), `${path}: parameter ${p} documented`);
    }
  }
  for (const ref of collectRefs(doc)) {
    assert.match(ref, /^#\/components\/schemas\/\w+$/);
    assert.ok(doc.components.schemas[ref.split('/').pop()!], `${ref} resolves`);
  }
  assert.deepEqual(Object.keys(doc.components.securitySchemes), ['bearer']);
});
