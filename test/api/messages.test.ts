// The message and topic routes of the HTTP API on two real nodes in this process, joined by a Mycelium TCP
// link on 127.0.0.1: Mycelium's JSON shapes and status codes, the long-poll that holds nothing up, replies,
// statuses, topics, forward sockets, and the deadline extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOverlayNode, type OverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';

interface Reply {
  status: number;
  type: string;
  text: string;
  json: unknown;
}

async function call(n: OverlayNode, method: string, path: string, body?: unknown): Promise<Reply> {
  const r = await fetch(`${n.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, type: r.headers.get('content-type') ?? '', text, json };
}

/** Polls an async condition (real time, generous deadline). */
async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function pair(t: { after(fn: () => unknown): void }, prefix: string): Promise<{ a: OverlayNode; b: OverlayNode; base: string }> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await startOverlayNode(t as never, base, 'a');
  const b = await startOverlayNode(t as never, base, 'b', { peers: [a.endpoint] });
  await waitFor(() => b.overlay.router.lookup(a.node.identity.address).kind === 'selected'
    && a.overlay.router.lookup(b.node.identity.address).kind === 'selected', 'A and B route to each other', 30_000);
  return { a, b, base };
}

test('push, status, pop: Mycelium\'s JSON and status codes end to end', async (t) => {
  const { a, b } = await pair(t, 'hypha-api-msg-');
  const aIp = a.node.identity.addressText;
  const pushed = await call(b, 'POST', '/messages', { dst: { ip: aIp }, topic: b64('chat'), payload: b64('hello') });
  assert.equal(pushed.status, 201, pushed.text);
  const { id } = pushed.json as { id: string };
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.deepEqual(Object.keys(pushed.json as object), ['id']);

  // Status: Mycelium's MessageInfo, with created/deadline in Unix seconds and the default 5-minute deadline.
  await waitFor(() => {
    const x = b.bus.status(id);
    return x.ok && x.value.state === 'received';
  }, 'A confirmed the message');
  const st = await call(b, 'GET', `/messages/status/${id}`);
  assert.equal(st.status, 200);
  const info = st.json as { dst: string; state: unknown; created: number; deadline: number; msgLen: number };
  assert.deepEqual(Object.keys(info), ['dst', 'state', 'created', 'deadline', 'msgLen']);
  assert.equal(info.dst, aIp);
  assert.equal(info.msgLen, 5);
  assert.equal(info.deadline - info.created, 300);
  assert.equal(info.state, 'received');

  // Topic filter: another topic gets nothing (204, empty body); peek leaves it; pop takes it.
  assert.equal((await call(a, 'GET', `/messages?topic=${encodeURIComponent(b64('other'))}`)).status, 204);
  const peeked = await call(a, 'GET', `/messages?peek=true&topic=${encodeURIComponent(b64('chat'))}`);
  assert.equal(peeked.status, 200);
  const m = peeked.json as Record<string, string>;
  assert.deepEqual(Object.keys(m), ['id', 'srcIp', 'srcPk', 'dstIp', 'dstPk', 'topic', 'payload']);
  assert.deepEqual(m, {
    id, srcIp: b.node.identity.addressText, srcPk: hex(b.node.identity.x25519Public), dstIp: aIp, dstPk: hex(a.node.identity.x25519Public),
    topic: b64('chat'), payload: b64('hello'),
  });
  const popped = await call(a, 'GET', '/messages');
  assert.deepEqual(popped.json, m);
  const empty = await call(a, 'GET', '/messages');
  assert.equal(empty.status, 204);
  assert.equal(empty.text, '');
  // The pop told B: read.
  await waitFor(() => {
    const s = b.bus.status(id);
    return s.ok && s.value.state === 'read';
  }, 'READ reached B');
  assert.equal(((await call(b, 'GET', `/messages/status/${id}`)).json as { state: string }).state, 'read');

  // By public key, no topic: no "topic" key in the message.
  assert.equal((await call(b, 'POST', '/messages', { dst: { pk: hex(a.node.identity.x25519Public) }, topic: null, payload: b64('x') })).status, 201);
  const p2 = await call(a, 'GET', '/messages?timeout=10');
  assert.equal(p2.status, 200);
  assert.equal('topic' in (p2.json as object), false);

  assert.equal((await call(b, 'GET', '/messages/status/0123456789abcdef')).status, 404);
  const badId = await call(b, 'GET', '/messages/status/nothex');
  assert.equal(badId.status, 400);
  assert.match(badId.text, /message id must be 16 hex characters/);
});

test('a long-poll holds up nothing: other calls and other polls go on while it waits', async (t) => {
  const { a, b } = await pair(t, 'hypha-api-poll-');
  const started = Date.now();
  const polls = [1, 2, 3].map(() => call(a, 'GET', `/messages?timeout=60&topic=${encodeURIComponent(b64('later'))}`));
  // Meanwhile the node answers everything else at once.
  for (let i = 0; i < 5; i++) assert.equal((await call(a, 'GET', '/admin')).status, 200);
  assert.equal((await call(a, 'GET', '/messages/topics/default')).status, 200);
  const quick = await call(a, 'GET', '/messages?timeout=1');
  assert.equal(quick.status, 204);
  assert.ok(Date.now() - started < 30_000, 'nothing waited for the long-polls');
  // Three messages on the topic: each poll gets one.
  for (const p of ['1', '2', '3']) assert.equal((await call(b, 'POST', '/messages', { dst: { ip: a.node.identity.addressText }, topic: b64('later'), payload: b64(p) })).status, 201);
  const got = await Promise.all(polls);
  assert.deepEqual(got.map((g) => g.status), [200, 200, 200]);
  assert.deepEqual(got.map((g) => Buffer.from((g.json as { payload: string }).payload, 'base64').toString()).sort(), ['1', '2', '3']);

  // A client that goes away stops its wait: the next message is not taken by it.
  const ac = new AbortController();
  const gone = fetch(`${a.url}/messages?timeout=60`, { signal: ac.signal }).catch(() => 'aborted');
  await new Promise((r) => setTimeout(r, 200));
  ac.abort();
  assert.equal(await gone, 'aborted');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await call(b, 'POST', '/messages', { dst: { ip: a.node.identity.addressText }, payload: b64('kept') })).status, 201);
  const kept = await call(a, 'GET', '/messages?timeout=10');
  assert.equal(Buffer.from((kept.json as { payload: string }).payload, 'base64').toString(), 'kept');
});

test('reply_timeout: the reply comes back as 200; no reply is 408 with the id; replies are 204', async (t) => {
  const { a, b } = await pair(t, 'hypha-api-reply-');
  const aIp = a.node.identity.addressText;
  const asking = call(b, 'POST', '/messages?reply_timeout=30', { dst: { ip: aIp }, topic: b64('q'), payload: b64('ping') });
  const q = await call(a, 'GET', '/messages?timeout=20');
  assert.equal(q.status, 200);
  const { id, srcIp } = q.json as { id: string; srcIp: string };
  const replied = await call(a, 'POST', `/messages/reply/${id}`, { dst: { ip: srcIp }, topic: b64('ignored'), payload: b64('pong') });
  assert.equal(replied.status, 204, replied.text);
  assert.equal(replied.text, '');
  const answer = await asking;
  assert.equal(answer.status, 200, answer.text);
  const r = answer.json as Record<string, string>;
  assert.equal(r.id, id);
  assert.equal(r.srcIp, aIp);
  assert.equal(Buffer.from(r.payload, 'base64').toString(), 'pong');
  assert.equal('topic' in r, false, 'a reply has no topic');

  const timedOut = await call(b, 'POST', '/messages?reply_timeout=1', { dst: { ip: aIp }, payload: b64('anyone?') });
  assert.equal(timedOut.status, 408);
  assert.match((timedOut.json as { id: string }).id, /^[0-9a-f]{16}$/);
  // Mycelium: asked to wait 0 s is a 408 at once, not a 201.
  assert.equal((await call(b, 'POST', '/messages?reply_timeout=0', { dst: { ip: aIp }, payload: b64('now') })).status, 408);
  // Mycelium's CLI waits "forever" (a year): cut to 24 h, not refused.
  const ac = new AbortController();
  t.after(() => ac.abort());
  const forever = fetch(`${b.url}/messages?reply_timeout=31536000`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dst: { ip: aIp }, topic: b64('forever'), payload: b64('?') }), signal: ac.signal });
  const m = await call(a, 'GET', `/messages?timeout=20&topic=${encodeURIComponent(b64('forever'))}`);
  assert.equal(m.status, 200);
  await call(a, 'POST', `/messages/reply/${(m.json as { id: string }).id}`, { dst: { ip: b.node.identity.addressText }, payload: b64('!') });
  assert.equal((await forever).status, 200);

  const badReply = await call(a, 'POST', '/messages/reply/xyz', { dst: { ip: srcIp }, payload: b64('x') });
  assert.equal(badReply.status, 400);
  assert.match(badReply.text, /message id must be 16 hex characters/);
});

test('bad input is a 400 that says what is wrong', async (t) => {
  const { a, b } = await pair(t, 'hypha-api-bad-');
  const aIp = a.node.identity.addressText;
  const cases: [string, string, unknown, RegExp][] = [
    ['POST', '/messages', { dst: { ip: '1.2.3.4' }, payload: b64('x') }, /"1\.2\.3\.4" is not an IPv6 address/],
    ['POST', '/messages', { dst: { ip: '2001:db8::1' }, payload: b64('x') }, /not an overlay address: they lie in 400::\/7/],
    ['POST', '/messages', { dst: { pk: 'abc' }, payload: b64('x') }, /public key must be 64 hex characters/],
    ['POST', '/messages', { dst: { ip: aIp, pk: 'x' }, payload: b64('x') }, /dst must NOT have more than 1 properties/],
    ['POST', '/messages', { dst: { host: aIp }, payload: b64('x') }, /exactly one key/],
    ['POST', '/messages', { dst: { ip: aIp }, payload: 'not base64!' }, /payload is not base64/],
    ['POST', '/messages', { dst: { ip: aIp } }, /must have required property 'payload'/],
    ['POST', '/messages', { dst: { ip: aIp }, topic: b64(new Uint8Array(256)), payload: b64('x') }, /topic/],
    ['POST', '/messages', { dst: { ip: aIp }, topic: '%%%', payload: b64('x') }, /topic "%%%" is not base64/],
    ['POST', '/messages?deadline=0', { dst: { ip: aIp }, payload: b64('x') }, /deadline must be > 0/],
    ['POST', '/messages?deadline=100000', { dst: { ip: aIp }, payload: b64('x') }, /deadline must be <= 86400/],
    ['POST', '/messages?reply_timeout=-1', { dst: { ip: aIp }, payload: b64('x') }, /reply_timeout must be >= 0/],
    ['GET', '/messages?timeout=abc', undefined, /timeout must be integer/],
    ['GET', '/messages?peek=yes', undefined, /peek must be boolean/],
    ['GET', `/messages?topic=${encodeURIComponent('!!!')}`, undefined, /topic "!!!" is not base64/],
  ];
  for (const [method, path, body, message] of cases) {
    const r = await call(b, method, path, body);
    assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    assert.match(r.type, /^text\/plain/);
    assert.match(r.text, message, `${method} ${path}`);
  }
});

test('topics: Mycelium\'s routes, the byte-array body, sources, forward sockets, and the allow-list at work', async (t) => {
  const { a, b, base } = await pair(t, 'hypha-api-topics-');
  const topic = 'orders/new+'; // base64 with "/" and "+": must be URL-encoded in paths
  const t64 = encodeURIComponent(b64(topic));
  assert.deepEqual((await call(a, 'GET', '/messages/topics/default')).json, { accept: true });
  assert.deepEqual((await call(a, 'GET', '/messages/topics')).json, []);
  const added = await call(a, 'POST', '/messages/topics', [...Buffer.from(topic)]);
  assert.equal(added.status, 201, added.text);
  assert.equal((await call(a, 'POST', '/messages/topics', b64('spec-style'))).status, 201, 'a base64 string (api.yaml) is taken too');
  assert.deepEqual(((await call(a, 'GET', '/messages/topics')).json as string[]).sort(), [b64(topic), b64('spec-style')].sort());
  assert.deepEqual((await call(a, 'GET', `/messages/topics/${t64}/sources`)).json, []);
  const unknown = await call(a, 'GET', `/messages/topics/${encodeURIComponent(b64('nope'))}/sources`);
  assert.equal(unknown.status, 404);
  assert.match(unknown.text, /not configured/);

  // Listed with no sources: B's message on it is refused (the sender keeps trying; nothing arrives).
  const refused = await call(b, 'POST', '/messages?deadline=2', { dst: { ip: a.node.identity.addressText }, topic: b64(topic), payload: b64('no') });
  assert.equal(refused.status, 201);
  const refusedId = (refused.json as { id: string }).id;
  await waitFor(() => {
    const s = b.bus.status(refusedId);
    return s.ok && s.value.state === 'aborted';
  }, 'the refused message aborted at its deadline', 20_000);
  assert.equal((await call(a, 'GET', `/messages?topic=${t64}`)).status, 204);

  // Allow B's subnet: now it arrives.
  const bSubnet = `${b.node.identity.addressText.split(':').slice(0, 4).join(':')}::/64`;
  assert.equal((await call(a, 'POST', `/messages/topics/${t64}/sources`, { subnet: bSubnet })).status, 201);
  assert.equal((await call(a, 'POST', `/messages/topics/${t64}/sources`, { subnet: '400::1' })).status, 201);
  assert.deepEqual((await call(a, 'GET', `/messages/topics/${t64}/sources`)).json, [bSubnet, '400::1/128']);
  const badSubnet = await call(a, 'POST', `/messages/topics/${t64}/sources`, { subnet: '400::/129' });
  assert.equal(badSubnet.status, 400);
  assert.match(badSubnet.text, /prefix length must be 0 to 128/);
  assert.equal((await call(b, 'POST', '/messages', { dst: { ip: a.node.identity.addressText }, topic: b64(topic), payload: b64('yes') })).status, 201);
  const got = await call(a, 'GET', `/messages?timeout=20&topic=${t64}`);
  assert.equal(Buffer.from((got.json as { payload: string }).payload, 'base64').toString(), 'yes');
  assert.equal((await call(a, 'DELETE', `/messages/topics/${t64}/sources/${encodeURIComponent('400::1/128')}`)).status, 204);
  assert.deepEqual((await call(a, 'GET', `/messages/topics/${t64}/sources`)).json, [bSubnet]);

  // Forward socket: the program there gets the payload and its answer goes back to B as the reply.
  assert.equal((await call(a, 'GET', `/messages/topics/${t64}/forward`)).json, null);
  const sock = join(base, 'app.sock');
  const received: Buffer[] = [];
  const srv = net.createServer((s) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => {
      parts.push(d);
      const all = Buffer.concat(parts);
      if (all.toString().endsWith('\n')) {
        received.push(all);
        s.end(`done: ${all.toString().trim()}`);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(sock, r));
  t.after(() => srv.close());
  assert.equal((await call(a, 'PUT', `/messages/topics/${t64}/forward`, { socketPath: sock })).status, 204);
  assert.equal((await call(a, 'GET', `/messages/topics/${t64}/forward`)).json, sock);
  const asked = await call(b, 'POST', '/messages?reply_timeout=30', { dst: { ip: a.node.identity.addressText }, topic: b64(topic), payload: b64('order 66\n') });
  assert.equal(asked.status, 200, asked.text);
  assert.equal(Buffer.from((asked.json as { payload: string }).payload, 'base64').toString(), 'done: order 66');
  assert.deepEqual(received.map(String), ['order 66\n']);
  assert.equal((await call(a, 'DELETE', `/messages/topics/${t64}/forward`)).status, 204);
  assert.equal((await call(a, 'GET', `/messages/topics/${t64}/forward`)).json, null);
  // Mycelium's api.yaml spelling is taken; an unconfigured topic is a 404 (Mycelium silently does nothing).
  assert.equal((await call(a, 'PUT', `/messages/topics/${t64}/forward`, { socket_path: sock })).status, 204);
  const notConfigured = await call(a, 'PUT', `/messages/topics/${encodeURIComponent(b64('nope'))}/forward`, { socketPath: sock });
  assert.equal(notConfigured.status, 404);
  assert.match(notConfigured.text, /configure it first/);

  // Default action, and removal (idempotent, as in Mycelium).
  assert.equal((await call(a, 'PUT', '/messages/topics/default', { accept: false })).status, 204);
  assert.deepEqual((await call(a, 'GET', '/messages/topics/default')).json, { accept: false });
  assert.equal((await call(a, 'DELETE', `/messages/topics/${t64}`)).status, 204);
  assert.equal((await call(a, 'DELETE', `/messages/topics/${t64}`)).status, 204);
  const badTopic = await call(a, 'DELETE', '/messages/topics/%25%25');
  assert.equal(badTopic.status, 400);
  assert.match(badTopic.text, /is not base64/);
});

test('the deadline extension: to an unreachable destination the status is aborted at the deadline given', async (t) => {
  const { b } = await pair(t, 'hypha-api-deadline-');
  const nowhere = '5ff:1:2:3:4:5:6:7';
  const r = await call(b, 'POST', '/messages?deadline=3', { dst: { ip: nowhere }, payload: b64('into the void') });
  assert.equal(r.status, 201);
  const { id } = r.json as { id: string };
  const first = (await call(b, 'GET', `/messages/status/${id}`)).json as { state: unknown; created: number; deadline: number };
  assert.equal(first.deadline - first.created, 3, 'the deadline is the one asked for, not Mycelium\'s 5 minutes');
  assert.notEqual(first.state, 'aborted');
  await until(async () => ((await call(b, 'GET', `/messages/status/${id}`)).json as { state: unknown }).state === 'aborted', 'aborted');
  assert.ok(Date.now() / 1000 >= first.deadline, 'not before the deadline');
  // Without the extension: Mycelium's 5 minutes.
  const plain = await call(b, 'POST', '/messages', { dst: { ip: nowhere }, payload: b64('x') });
  const info = (await call(b, 'GET', `/messages/status/${(plain.json as { id: string }).id}`)).json as { created: number; deadline: number };
  assert.equal(info.deadline - info.created, 300);
});

test('the OpenAPI document lists every message and topic route with its parameters', async (t) => {
  const { a } = await pair(t, 'hypha-api-doc-');
  const doc = (await call(a, 'GET', '/openapi.json')).json as { paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>> };
  const expect: [string, string][] = [
    ['get', '/api/v1/messages'], ['post', '/api/v1/messages'], ['post', '/api/v1/messages/reply/{id}'], ['get', '/api/v1/messages/status/{id}'],
    ['get', '/api/v1/messages/topics/default'], ['put', '/api/v1/messages/topics/default'], ['get', '/api/v1/messages/topics'], ['post', '/api/v1/messages/topics'],
    ['delete', '/api/v1/messages/topics/{topic}'], ['get', '/api/v1/messages/topics/{topic}/sources'], ['post', '/api/v1/messages/topics/{topic}/sources'],
    ['delete', '/api/v1/messages/topics/{topic}/sources/{subnet}'], ['get', '/api/v1/messages/topics/{topic}/forward'], ['put', '/api/v1/messages/topics/{topic}/forward'],
    ['delete', '/api/v1/messages/topics/{topic}/forward'],
  ];
  for (const [m, p] of expect) assert.ok(doc.paths[p]?.[m], `${m} ${p} documented`);
  assert.deepEqual(doc.paths['/api/v1/messages'].post.parameters?.map((x) => x.name), ['reply_timeout', 'deadline']);
  assert.deepEqual(Object.keys(doc.paths['/api/v1/messages'].post.responses).sort(), ['200', '201', '400', '401', '408', '503']);
});
