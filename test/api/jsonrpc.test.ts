// The JSON-RPC server of two real nodes in this process (Mycelium TCP link on 127.0.0.1): Mycelium's methods,
// positional parameters, results and error codes; pushMessage/popMessage interoperating with the HTTP routes;
// a waiting popMessage holding up nothing, over HTTP or on its own WebSocket; rpc.discover; the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcServer } from '../../src/api/jsonrpc/server.ts';
import type { NodeServices } from '../../src/api/services.ts';
import { silentLogger } from '../../src/base/log.ts';
import { startOverlayNode, type OverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
let nextId = 1;

interface RpcAnswer {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

async function rpc(n: OverlayNode, method: string, params?: unknown, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const r = await fetch(n.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, ...(params === undefined ? {} : { params }) }),
  });
  assert.equal(r.status, 200);
  return (await r.json()) as RpcAnswer;
}

async function pair(t: { after(fn: () => unknown): void }, prefix: string, flags: Record<string, string> = {}): Promise<{ a: OverlayNode; b: OverlayNode; base: string }> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(base, { recursive: true, force: true }));
  const on = { jsonrpc_addr: '127.0.0.1:0', ...flags };
  const a = await startOverlayNode(t as never, base, 'a', on);
  const b = await startOverlayNode(t as never, base, 'b', { ...on, peers: [a.endpoint] });
  await waitFor(() => b.overlay.router.lookup(a.node.identity.address).kind === 'selected'
    && a.overlay.router.lookup(b.node.identity.address).kind === 'selected', 'A and B route to each other', 30_000);
  return { a, b, base };
}

test('pushMessage and popMessage interoperate with the HTTP routes, both ways; replies and statuses', async (t) => {
  const { a, b } = await pair(t, 'hypha-rpc-msg-');
  const aIp = a.node.identity.addressText;
  // RPC push (Mycelium's documented example shape) → HTTP pop.
  const pushed = await rpc(b, 'pushMessage', [{ dst: { pk: hex(a.node.identity.x25519Public) }, payload: 'xuV+' }]);
  const id = (pushed.result as { id: string }).id;
  assert.match(id, /^[0-9a-f]{16}$/);
  const viaHttp = await fetch(`${a.url}/messages?timeout=20`);
  const m = (await viaHttp.json()) as Record<string, string>;
  assert.equal(m.id, id);
  assert.equal(m.payload, 'xuV+');
  // HTTP push → RPC pop (positional: peek, timeout, topic).
  const h = await fetch(`${b.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dst: { ip: aIp }, topic: b64('t'), payload: b64('over http') }) });
  const hid = ((await h.json()) as { id: string }).id;
  const peeked = await rpc(a, 'popMessage', [true, 20, b64('t')]);
  assert.equal((peeked.result as { id: string }).id, hid);
  const popped = await rpc(a, 'popMessage', { topic: b64('t') });
  assert.deepEqual(Object.keys(popped.result as object), ['id', 'srcIp', 'srcPk', 'dstIp', 'dstPk', 'topic', 'payload']);
  assert.equal(Buffer.from((popped.result as { payload: string }).payload, 'base64').toString(), 'over http');
  assert.deepEqual(await rpc(a, 'popMessage', []), { jsonrpc: '2.0', id: nextId - 1, result: null });

  // getMessageInfo: Mycelium's MessageInfo; READ reached B.
  await waitFor(() => {
    const s = b.bus.status(hid);
    return s.ok && s.value.state === 'read';
  }, 'READ reached B');
  const info = (await rpc(b, 'getMessageInfo', [hid])).result as { state: string; msgLen: number };
  assert.deepEqual([info.state, info.msgLen], ['read', 9]);
  assert.equal((await rpc(b, 'getMessageInfo', ['0123456789abcdef'])).error?.code, -32019);
  assert.equal((await rpc(b, 'getMessageInfo', ['xyz'])).error?.code, -32020);

  // pushMessage waiting for the reply; pushMessageReply answers true.
  const asking = rpc(b, 'pushMessage', [{ dst: { ip: aIp }, payload: b64('ping') }, 30]);
  const q = (await rpc(a, 'popMessage', [false, 20])).result as { id: string; srcIp: string };
  assert.deepEqual((await rpc(a, 'pushMessageReply', [q.id, { dst: { ip: q.srcIp }, payload: b64('pong') }])).result, true);
  const reply = (await asking).result as { id: string; payload: string };
  assert.equal(reply.id, q.id);
  assert.equal(Buffer.from(reply.payload, 'base64').toString(), 'pong');
  // No reply in time: {"id"}, as Mycelium.
  assert.match(((await rpc(b, 'pushMessage', { message: { dst: { ip: aIp }, payload: b64('?') }, reply_timeout: 1 })).result as { id: string }).id, /^[0-9a-f]{16}$/);
  assert.equal((await rpc(a, 'pushMessageReply', ['nothex', { dst: { ip: q.srcIp }, payload: b64('x') }])).error?.code, -32018);

  // The deadline extension (third parameter).
  const doomed = (await rpc(b, 'pushMessage', [{ dst: { ip: '5ff::1' }, payload: b64('x') }, null, 2])).result as { id: string };
  const di = (await rpc(b, 'getMessageInfo', [doomed.id])).result as { created: number; deadline: number };
  assert.equal(di.deadline - di.created, 2);

  // Bad input: Mycelium's codes where it has one, -32602 for the shape, and always a message.
  const bad: [string, unknown, number, RegExp][] = [
    ['pushMessage', [{ dst: { ip: '1.2.3.4' }, payload: 'eA==' }], -32015, /not an IPv6 address/],
    ['pushMessage', [{ dst: { ip: aIp }, topic: b64(new Uint8Array(256)), payload: 'eA==' }], -32602, /topic/],
    ['pushMessage', [{ dst: { ip: aIp }, payload: '***' }], -32602, /payload is not base64/],
    ['pushMessage', [{ payload: 'eA==' }], -32602, /has no "dst"/],
    ['pushMessage', [], -32602, /missing parameter "message"/],
    ['pushMessage', [{ dst: { ip: aIp }, payload: 'eA==' }, -5], -32602, /reply_timeout.*whole number of seconds/],
    ['popMessage', [false, 0, '!!'], -32013, /is not base64/],
    ['popMessage', ['yes'], -32602, /peek.*true or false/],
    ['popMessage', [false, 1.5], -32602, /timeout.*whole number/],
  ];
  for (const [method, params, code, message] of bad) {
    const r = await rpc(b, method, params);
    assert.equal(r.error?.code, code, `${method} ${JSON.stringify(params)}: ${JSON.stringify(r)}`);
    assert.match(r.error!.message, message);
  }
});

test('topic methods: results and Mycelium\'s error codes', async (t) => {
  const { a, base } = await pair(t, 'hypha-rpc-topics-');
  const topic = b64('sensors');
  assert.equal((await rpc(a, 'getDefaultTopicAction')).result, true);
  assert.equal((await rpc(a, 'setDefaultTopicAction', [false])).result, true);
  assert.equal((await rpc(a, 'getDefaultTopicAction', [])).result, false);
  assert.equal((await rpc(a, 'addTopic', [topic])).result, true);
  assert.deepEqual((await rpc(a, 'getTopics')).result, [topic]);
  assert.deepEqual((await rpc(a, 'getTopicSources', [topic])).result, []);
  assert.equal((await rpc(a, 'addTopicSource', [topic, '400::/7'])).result, true);
  assert.deepEqual((await rpc(a, 'getTopicSources', { topic })).result, ['400::/7']);
  assert.equal((await rpc(a, 'addTopicSource', [topic, 'nope'])).error?.code, -32023);
  assert.equal((await rpc(a, 'removeTopicSource', [topic, '400::/7'])).result, true);
  assert.equal((await rpc(a, 'getTopicForwardSocket', [topic])).result, null);
  const sock = join(base, 'x.sock');
  assert.equal((await rpc(a, 'setTopicForwardSocket', [topic, sock])).result, true);
  assert.equal((await rpc(a, 'getTopicForwardSocket', [topic])).result, sock);
  assert.equal((await rpc(a, 'setTopicForwardSocket', { topic, socketPath: sock })).result, true);
  assert.equal((await rpc(a, 'removeTopicForwardSocket', [topic])).result, true);
  assert.equal((await rpc(a, 'setTopicForwardSocket', [b64('unknown'), sock])).error?.code, -32030);
  assert.equal((await rpc(a, 'getTopicSources', [b64('unknown')])).error?.code, -32030);
  for (const m of ['addTopic', 'removeTopic', 'getTopicSources', 'getTopicForwardSocket', 'removeTopicForwardSocket']) {
    const r = await rpc(a, m, ['***']);
    assert.equal(r.error?.code, -32021, m);
    assert.match(r.error!.message, /is not base64/);
  }
  assert.equal((await rpc(a, 'removeTopic', [topic])).result, true);
  assert.equal((await rpc(a, 'removeTopic', [topic])).result, true, 'removing what is not there succeeds, as in Mycelium');
  assert.deepEqual((await rpc(a, 'getTopics')).result, []);
});

test('admin methods and rpc.discover: every method of Mycelium\'s API, documented with its parameters', async (t) => {
  const { a, b } = await pair(t, 'hypha-rpc-admin-');
  const info = (await rpc(a, 'getInfo')).result as Record<string, unknown>;
  assert.deepEqual(Object.keys(info), ['nodeSubnet', 'nodeIp', 'nodePubkey', 'nodeStartTime']);
  assert.equal((await rpc(b, 'getPublicKeyFromIp', [a.node.identity.addressText])).result, hex(a.node.identity.x25519Public));
  assert.equal((await rpc(b, 'getPublicKeyFromIp', { mycelium_ip: a.node.identity.addressText })).result, hex(a.node.identity.x25519Public));
  assert.equal((await rpc(b, 'getPublicKeyFromIp', ['not an ip'])).error?.code, -32007);
  assert.equal((await rpc(b, 'getPublicKeyFromIp', ['5ff::1'])).error?.code, -32008);
  assert.equal(((await rpc(b, 'getPeers')).result as unknown[]).length, 1);
  assert.equal((await rpc(b, 'addPeer', ['tcp://127.0.0.1:1'])).result, true);
  assert.equal((await rpc(b, 'addPeer', ['tcp://127.0.0.1:1'])).error?.code, -32010);
  assert.equal((await rpc(b, 'addPeer', ['carrier pigeon'])).error?.code, -32009);
  assert.equal((await rpc(b, 'deletePeer', ['tcp://127.0.0.1:1'])).result, true);
  assert.equal((await rpc(b, 'deletePeer', ['tcp://127.0.0.1:1'])).error?.code, -32011);
  assert.ok(Array.isArray((await rpc(b, 'getSelectedRoutes')).result));
  assert.ok(Array.isArray((await rpc(b, 'getFallbackRoutes')).result));
  assert.ok(Array.isArray((await rpc(b, 'getQueriedSubnets')).result));
  assert.deepEqual(Object.keys((await rpc(b, 'getPacketStatistics')).result as object), ['bySource', 'byDestination']);
  assert.deepEqual((await rpc(b, 'getProxies')).result, []);
  assert.equal((await rpc(b, 'connectProxy', [])).error?.code, -32032);
  assert.equal((await rpc(b, 'disconnectProxy')).result, true);

  const doc = (await rpc(a, 'rpc.discover')).result as { openrpc: string; methods: { name: string; params: { name: string; required: boolean }[] }[]; components: { schemas: Record<string, unknown> } };
  assert.equal(doc.openrpc, '1.2.6');
  const mycelium = ['getInfo', 'getPublicKeyFromIp', 'getPeers', 'addPeer', 'deletePeer', 'getSelectedRoutes', 'getFallbackRoutes', 'getQueriedSubnets',
    'getProxies', 'connectProxy', 'disconnectProxy', 'startProxyProbe', 'stopProxyProbe', 'getPacketStatistics', 'rpc.discover', 'popMessage', 'pushMessage',
    'pushMessageReply', 'getMessageInfo', 'getDefaultTopicAction', 'setDefaultTopicAction', 'getTopics', 'addTopic', 'removeTopic', 'getTopicSources',
    'addTopicSource', 'removeTopicSource', 'getTopicForwardSocket', 'setTopicForwardSocket', 'removeTopicForwardSocket'];
  assert.deepEqual(doc.methods.map((m) => m.name).sort(), [...mycelium].sort());
  const params = (name: string) => doc.methods.find((m) => m.name === name)!.params.map((p) => `${p.name}${p.required ? '' : '?'}`);
  assert.deepEqual(params('popMessage'), ['peek?', 'timeout?', 'topic?']);
  assert.deepEqual(params('pushMessage'), ['message', 'reply_timeout?', 'deadline?']);
  assert.deepEqual(params('setTopicForwardSocket'), ['topic', 'socket_path']);
  // Every $ref of the document resolves.
  const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]);
  for (const r of refs) assert.ok(doc.components.schemas[r], `schema ${r}`);
});

test('a waiting popMessage holds up nothing: over HTTP, and on its own WebSocket', async (t) => {
  const { a, b } = await pair(t, 'hypha-rpc-wait-');
  const started = Date.now();
  const waiting = rpc(a, 'popMessage', [false, 60, b64('late')]);
  for (let i = 0; i < 3; i++) assert.ok((await rpc(a, 'getInfo')).result);
  assert.equal((await fetch(`${a.url}/admin`)).status, 200);

  const ws = new WebSocket(a.rpcUrl.replace(/^http/, 'ws'));
  t.after(() => ws.close());
  const answers = new Map<number, RpcAnswer>();
  ws.addEventListener('message', (e) => {
    const x = JSON.parse(String(e.data)) as RpcAnswer;
    answers.set(x.id as number, x);
  });
  await new Promise((r, j) => {
    ws.addEventListener('open', r);
    ws.addEventListener('error', j);
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 100, method: 'popMessage', params: [false, 60, b64('ws')] }));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 101, method: 'getInfo' }));
  ws.send(JSON.stringify([{ jsonrpc: '2.0', id: 102, method: 'getTopics' }, { jsonrpc: '2.0', id: 103, method: 'nope' }]));
  await waitFor(() => answers.has(101), 'getInfo answered on the WebSocket while popMessage waits');
  assert.ok(Date.now() - started < 30_000);
  assert.equal(answers.has(100), false);

  for (const [topic, payload] of [['late', 'for http'], ['ws', 'for the websocket']]) {
    await fetch(`${b.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dst: { ip: a.node.identity.addressText }, topic: b64(topic), payload: b64(payload) }) });
  }
  assert.equal(Buffer.from(((await waiting).result as { payload: string }).payload, 'base64').toString(), 'for http');
  await waitFor(() => answers.has(100), 'popMessage answered on the WebSocket');
  assert.equal(Buffer.from((answers.get(100)!.result as { payload: string }).payload, 'base64').toString(), 'for the websocket');
});

test('the transport: GET is 405, bad JSON is -32700, the token is required when set, raw WebSocket frames', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-rpc-http-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await writeFile(join(base, 'token'), 's3cret\n');
  const n = await startOverlayNode(t, base, 'n', { jsonrpc_addr: '127.0.0.1:0', api_token_file: join(base, 'token') });
  const get = await fetch(n.rpcUrl, { headers: { authorization: 'Bearer s3cret' } });
  assert.equal(get.status, 405);
  assert.match(await get.text(), /POST a JSON-RPC 2.0 request/);
  const noToken = await fetch(n.rpcUrl, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"getInfo"}' });
  assert.equal(noToken.status, 401);
  assert.match(await noToken.text(), /requires an API token/);
  assert.equal((await rpc(n, 'getInfo', undefined, { authorization: 'Bearer s3cret' })).result !== undefined, true);
  const garbage = await fetch(n.rpcUrl, { method: 'POST', headers: { authorization: 'Bearer s3cret' }, body: '{"jsonrpc"' });
  assert.deepEqual(((await garbage.json()) as RpcAnswer).error?.code, -32700);
  const notification = await fetch(n.rpcUrl, { method: 'POST', headers: { authorization: 'Bearer s3cret' }, body: '{"jsonrpc":"2.0","method":"getInfo"}' });
  assert.equal(notification.status, 204);

  // A WebSocket without the token is refused at the upgrade; with it, fragmented and pinged frames work.
  const [host, port] = [n.rpcUrl.split('//')[1].split(':')[0], Number(n.rpcUrl.split(':').pop())];
  const upgrade = (auth: string) => `GET /rpc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`;
  const raw = async (request: string, frames: Uint8Array[]): Promise<Buffer> => {
    const s = net.connect(port, host);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    await new Promise((r) => s.on('connect', r));
    s.write(request);
    for (const f of frames) s.write(f);
    await new Promise((r) => setTimeout(r, 300));
    s.destroy();
    return Buffer.concat(got);
  };
  const refused = await raw(upgrade(''), []);
  assert.match(refused.toString(), /^HTTP\/1\.1 401/);
  const mask = (op: number, text: string, fin: boolean) => {
    const p = Buffer.from(text);
    const m = [1, 2, 3, 4];
    return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | op, 0x80 | p.length, ...m]), Buffer.from(p.map((c, i) => c ^ m[i & 3]))]);
  };
  const req = '{"jsonrpc":"2.0","id":7,"method":"getDefaultTopicAction"}';
  const out = await raw(upgrade('Authorization: Bearer s3cret\r\n'), [mask(0x1, req.slice(0, 10), false), mask(0x9, 'hi', true), mask(0x0, req.slice(10), true)]);
  const text = out.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(text, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  assert.ok(text.includes('\x8a\x02hi'), 'the ping was answered with a pong');
  assert.ok(text.includes('{"jsonrpc":"2.0","id":7,"result":true}'), text);
  const bad = await raw(upgrade('Authorization: Bearer s3cret\r\n'), [Buffer.from([0x81, 0x02, 0x68, 0x69])]);
  assert.ok(bad.includes(Buffer.from([0x88])), 'an unmasked frame is answered with a close frame');
  assert.match(bad.toString('latin1'), /must be masked/);
});

test('a request or a WebSocket message over the size limit is refused with a JSON-RPC error, not read', async (t) => {
  const services = { admin: { info: () => ({ nodeSubnet: '400::/64', nodeIp: '400::1', nodePubkey: '00'.repeat(32), nodeStartTime: 0 }) } } as unknown as NodeServices;
  const server = new JsonRpcServer({ services, logger: silentLogger(), host: '127.0.0.1', port: 0, version: 'test', maxRequestBytes: 1000 });
  await server.listen();
  t.after(() => server.close());
  const url = server.url!;
  const ok = await fetch(url, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"getInfo"}' });
  assert.equal(((await ok.json()) as RpcAnswer).id, 1);
  const big = await fetch(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getInfo', params: ['x'.repeat(5000)] }) });
  assert.equal(big.status, 413);
  const e = (await big.json()) as RpcAnswer;
  assert.equal(e.error?.code, -32600);
  assert.match(e.error!.message, /over the limit of 1000 bytes/);

  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  const closed = new Promise<CloseEvent>((r) => ws.addEventListener('close', r));
  await new Promise((r) => ws.addEventListener('open', r));
  ws.send('x'.repeat(5000));
  const c = await closed;
  assert.equal(c.code, 1009);
  assert.match(c.reason, /at most 1000/);
});

test('a 4 MiB message pushed over a WebSocket arrives intact', async (t) => {
  const { a, b } = await pair(t, 'hypha-rpc-ws-big-');
  const payload = Buffer.alloc(4 << 20, 0x5a);
  payload.write('start', 0);
  const ws = new WebSocket(b.rpcUrl.replace(/^http/, 'ws'));
  t.after(() => ws.close());
  const answer = new Promise<RpcAnswer>((r) => ws.addEventListener('message', (e) => r(JSON.parse(String(e.data)) as RpcAnswer)));
  await new Promise((r) => ws.addEventListener('open', r));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'pushMessage', params: [{ dst: { ip: a.node.identity.addressText }, payload: payload.toString('base64') }] }));
  const id = ((await answer).result as { id: string }).id;
  const got = await rpc(a, 'popMessage', [false, 60]);
  assert.equal((got.result as { id: string }).id, id);
  assert.ok(Buffer.from((got.result as { payload: string }).payload, 'base64').equals(payload));
});
