// Random and invalid input, shaped like what the message and topic routes and the JSON-RPC methods take
// (ids, base64 topics, subnets, destinations, payloads, socket paths, waits), fed to a real node: never a
// 5xx, never -32603, never a crash, and every error is a message that says something. Waits are kept at 0
// so the runs stay fast (long waits are tested in messages.test.ts and jsonrpc.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startOverlayNode } from '../helpers/overlay-nodes.ts';

const hexText = (len: number) => fc.uint8Array({ minLength: len / 2, maxLength: len / 2 }).map((b) => Buffer.from(b).toString('hex'));
const b64Bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const junk = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('', '=', '==', 'a', 'ab=', '%', '%2', '%zz', '..', '/', '+', ' '));
const topicText = fc.oneof(b64Bytes(8), b64Bytes(260), junk, fc.constant('A'.repeat(400)));
const idText = fc.oneof(hexText(16), fc.constant('0123456789abcdef'), fc.constant('0123456789ABCDEF'), junk);
const subnetText = fc.oneof(fc.constantFrom('400::/7', '400::1', '10.0.0.0/8', '::/0', '400::/129', '1.2.3.4/33', '[::1]', 'fe80::1%eth0', '0.0.0.0'), fc.ipV6(), fc.ipV4(), junk);
const ipText = fc.oneof(fc.constantFrom('400::1', '5ff:1:2:3:4:5:6:7', '::1', '1.2.3.4', '2001:db8::1'), fc.ipV6(), junk);
const dst = fc.oneof(
  fc.record({ ip: ipText }),
  fc.record({ pk: fc.oneof(hexText(64), junk) }),
  fc.record({ ip: ipText, pk: junk }),
  fc.jsonValue({ maxDepth: 2 }),
);
const sendInfo = fc.record({
  dst,
  topic: fc.oneof(topicText, fc.constant(null), fc.jsonValue({ maxDepth: 1 })),
  payload: fc.oneof(b64Bytes(64), junk, fc.jsonValue({ maxDepth: 1 })),
}, { requiredKeys: [] });
const body = fc.oneof(
  sendInfo,
  fc.array(fc.integer({ min: -2, max: 300 }), { maxLength: 20 }),
  fc.record({ accept: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }),
  fc.record({ subnet: fc.oneof(subnetText, fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }),
  fc.record({ socketPath: fc.oneof(junk, fc.constant('/tmp/x.sock'), fc.constant(`/tmp/${'x'.repeat(200)}`), fc.jsonValue({ maxDepth: 1 })), socket_path: junk }, { requiredKeys: [] }),
  topicText,
  fc.jsonValue({ maxDepth: 3 }),
).map((v) => JSON.stringify(v));
/** Query values; waits are 0 or not numbers at all, so nothing waits. */
const query = fc.record({
  peek: fc.constantFrom('true', 'false', '1', 'yes', ''),
  timeout: fc.constantFrom('0', '-1', '1.5', 'abc', '', '1e3', '00'),
  topic: topicText,
  reply_timeout: fc.constantFrom('0', '-1', 'x', ''),
  deadline: fc.constantFrom('0', '0.001', '1', '86400', '86401', '-5', 'x', '1e400', 'NaN'),
}, { requiredKeys: [] }).map((q) => Object.entries(q).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));

test('message and topic routes: random and invalid input never gets a 5xx, and every error says what is wrong (property)', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-msg-fuzz-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const n = await startOverlayNode(t, base, 'fuzz');
  const api = n.api!;
  const doc = api.document as { paths: Record<string, Record<string, unknown>> };
  const routes = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/v1/messages')).flatMap(([p, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), p] as const));
  assert.equal(routes.length, 15);
  for (const [method, template] of routes) {
    const arb = fc.record({
      params: fc.record({ id: idText, topic: topicText, subnet: subnetText }),
      encode: fc.boolean(),
      query,
      body: fc.option(body, { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', undefined),
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const path = template.replace(/\{(\w+)\}/g, (_, k: 'id' | 'topic' | 'subnet') => (c.encode ? encodeURIComponent(c.params[k]) : c.params[k].replace(/[/?#]/g, '')));
      const url = c.query === '' ? path : `${path}?${c.query}`;
      const r = await api.app.inject({
        method: method as 'GET',
        url,
        payload: method === 'GET' ? undefined : c.body,
        headers: c.contentType === undefined ? {} : { 'content-type': c.contentType },
      });
      const what = `${method} ${url} ${c.body ?? ''} → ${r.statusCode} ${r.body}`;
      assert.ok(r.statusCode < 500, what);
      if (r.statusCode >= 400) {
        assert.match(String(r.headers['content-type']), /^text\/plain/, what);
        assert.ok(r.body.trim().length > 10, what);
      }
    }), { numRuns: 120 });
  }
});

test('JSON-RPC: random params to every method, random requests and batches: never -32603 or a 5xx, every error says what is wrong (property)', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-rpc-fuzz-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const n = await startOverlayNode(t, base, 'fuzz', { jsonrpc_addr: '127.0.0.1:0' });
  const discover = await (await fetch(n.rpcUrl, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}' })).json() as { result: { methods: { name: string }[] } };
  const names = discover.result.methods.map((m) => m.name);
  assert.equal(names.length, 30);

  const value = fc.oneof(topicText, idText, subnetText, sendInfo, fc.boolean(), fc.integer({ min: -5, max: 5 }), fc.double(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
  const params = fc.oneof(
    fc.array(value, { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('peek', 'timeout', 'topic', 'message', 'reply_timeout', 'replyTimeout', 'deadline', 'id', 'accept', 'subnet', 'socket_path', 'socketPath', 'ip', 'mycelium_ip', 'endpoint', 'remote', 'x', '__proto__'), value, { maxKeys: 4 }),
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 1 }),
  );
  /** No call may wait: a positive wait becomes 0; no call may dial the world: endpoints are loopback or junk. */
  const tame = (method: string, p: unknown): unknown => {
    if (Array.isArray(p)) {
      if ((method === 'popMessage' || method === 'pushMessage') && typeof p[1] === 'number' && p[1] > 0) p[1] = 0;
      if ((method === 'addPeer' || method === 'connectProxy') && typeof p[0] === 'string') p[0] = `tcp://127.0.0.1:${p[0].length}`;
    } else if (p !== null && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      for (const k of ['timeout', 'reply_timeout', 'replyTimeout']) if (typeof o[k] === 'number' && (o[k] as number) > 0) o[k] = 0;
      if (typeof o.endpoint === 'string') o.endpoint = 'tcp://127.0.0.1:2';
    }
    return p;
  };
  const request = fc.record({ method: fc.oneof(fc.constantFrom(...names), junk), params, id: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null)) })
    .map((r) => ({ jsonrpc: '2.0', id: r.id, method: r.method, ...(r.params === undefined ? {} : { params: tame(r.method, r.params) }) }));
  const text = fc.oneof(
    { weight: 6, arbitrary: request.map((r) => JSON.stringify(r)) },
    { weight: 2, arbitrary: fc.array(fc.oneof(request, fc.jsonValue({ maxDepth: 1 })), { maxLength: 5 }).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: request.map((r) => JSON.stringify(r).slice(0, 20)) },
  );
  const check = (x: unknown, what: string): void => {
    assert.ok(x !== null && typeof x === 'object' && (x as { jsonrpc?: string }).jsonrpc === '2.0', what);
    const e = (x as { error?: { code: number; message: string } }).error;
    if (e !== undefined) {
      assert.ok(Number.isInteger(e.code) && e.code !== -32603, what);
      assert.ok(typeof e.message === 'string' && e.message.length > 10, what);
    } else assert.ok(Object.hasOwn(x, 'result'), what);
  };
  await fc.assert(fc.asyncProperty(text, async (body) => {
    const r = await fetch(n.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const out = await r.text();
    const what = `${body} → ${r.status} ${out.slice(0, 300)}`;
    assert.ok(r.status === 200 || r.status === 204, what);
    if (r.status === 204) return;
    const parsed = JSON.parse(out) as unknown;
    if (Array.isArray(parsed)) for (const x of parsed) check(x, what);
    else check(parsed, what);
  }), { numRuns: 1500 });
  // Every method, with shaped arguments in the right positions too.
  for (const method of names) {
    await fc.assert(fc.asyncProperty(fc.array(value, { maxLength: 3 }), async (p) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: tame(method, p) });
      const r = await fetch(n.rpcUrl, { method: 'POST', body });
      const out = await r.text();
      check(JSON.parse(out), `${body} → ${out.slice(0, 300)}`);
    }), { numRuns: 40 });
  }
});
