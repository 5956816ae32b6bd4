// Hypha's own routes against two real nodes in this process, linked natively: gossip statistics, the chat
// (said through the API, seen by SSH sessions and by the other node's API), and the replicated state (list,
// get, put, delete, long-poll and server-sent events), every answer checked against the OpenAPI document and
// every error a plain-text message that says what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatePart } from '../../src/node/parts.ts';
import { FakeOutput } from '../partyline/helpers.ts';
import { tempBase } from '../helpers/hypha-nodes.ts';
import { waitFor } from '../helpers/poll.ts';
import { assertError, assertShape, call, getJson, openEvents, startApiNode, startPair, type Doc } from './hypha-helpers.ts';

interface ChatLine { seq: number; origin: string; via: string; nick: string; text: string; nodeId: string; nodeName: string | null; time: string; timeMs: number }
interface ChatPage { lines: ChatLine[]; next: number; missed: number; reset: boolean; epoch: string }
interface Item { key: string; owner: string; subkey: string; value: string | null; valueB64: string; ts: string; writtenAt: string; deleted: boolean; size: number }
interface Change { seq: number; source: string; fromPeer: string | null; item: Item }
interface Changes { changes: Change[]; next: number; missed: number; reset: boolean; epoch: string }

test('GET /hypha/gossip and the chat routes: a line said through the API reaches SSH sessions and the other node', async (t) => {
  const base = await tempBase(t, 'hypha-api-chat-');
  const [a, b] = await startPair(t, base);
  const doc = await getJson<Doc>(a, '/openapi.json');

  // A session on each node, to see what people see.
  const screenA = new FakeOutput();
  const screenB = new FakeOutput();
  const sessionA = a.hub.join('alice', screenA);
  assert.ok(sessionA.ok);
  assert.ok(b.hub.join('bob', screenB).ok);

  const before = await getJson<ChatPage>(b, '/hypha/chat');
  assertShape(doc, before, 'GET', '/hypha/chat');
  assert.deepEqual(before.lines, []);

  // Said on A through the API: sanitised, shown to A's session, gossiped to B.
  const sent = await call(a, 'POST', '/hypha/chat', { nick: 'bot\u001b[31m', text: '  hello \u001b]0;pwned\u0007mesh  ' });
  assert.equal(sent.status, 200, sent.text);
  assertShape(doc, sent.json(), 'POST', '/hypha/chat');
  const said = sent.json() as { line: ChatLine; mesh: string };
  assert.equal(said.mesh, 'sent');
  assert.deepEqual({ ...said.line, time: '', timeMs: 0 }, { seq: said.line.seq, origin: 'local', via: 'api', nick: 'bot', text: 'hello mesh', nodeId: a.nodeId, nodeName: 'a', time: '', timeMs: 0 });
  assert.ok(screenA.lines.includes('[bot] hello mesh'), screenA.lines.join('\n'));
  await waitFor(() => screenB.lines.includes('[bot@a] hello mesh'), 'B\'s session shows the line');

  // B's API has it as a remote line; A's as a local one.
  const onB = await getJson<ChatPage>(b, `/hypha/chat?after=${before.next}&epoch=${before.epoch}&timeout=10`);
  assertShape(doc, onB, 'GET', '/hypha/chat');
  assert.deepEqual(onB.lines.map((l) => [l.origin, l.via, l.nick, l.text, l.nodeId, l.nodeName]), [['remote', 'mesh', 'bot', 'hello mesh', a.nodeId, 'a']]);
  assert.equal(onB.next, onB.lines[0].seq);
  assert.ok(Math.abs(Date.parse(onB.lines[0].time) - Date.now()) < 60_000);

  // A line typed in an SSH session is in the log too.
  if (sessionA.ok) await sessionA.value.input('typed by hand');
  const onA = await getJson<ChatPage>(a, '/hypha/chat?limit=2');
  assert.deepEqual(onA.lines.map((l) => [l.origin, l.via, l.nick, l.text]), [['local', 'api', 'bot', 'hello mesh'], ['local', 'ssh', 'alice', 'typed by hand']]);

  // Long-poll: a reader waiting on B gets the next line as soon as it arrives.
  const mark = await getJson<ChatPage>(b, '/hypha/chat?limit=1');
  const waiting = getJson<ChatPage>(b, `/hypha/chat?after=${mark.next}&epoch=${mark.epoch}&timeout=30`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await call(a, 'POST', '/hypha/chat', { nick: 'bot', text: 'second' })).status, 200);
  const got = await waiting;
  assert.deepEqual(got.lines.map((l) => l.text), ['second']);
  // An epoch from another run starts over, and says so.
  const stale = await getJson<ChatPage>(b, '/hypha/chat?after=1000&epoch=elsewhere');
  assert.equal(stale.reset, true);
  assert.ok(stale.lines.length >= 3);
  // A long-poll that times out answers with nothing new and the same cursor.
  const quiet = await getJson<ChatPage>(b, `/hypha/chat?after=${got.next}&epoch=${got.epoch}&timeout=0.2`);
  assert.deepEqual([quiet.lines, quiet.next], [[], got.next]);

  // Gossip statistics count the chat messages (msg_type 3).
  const g = await getJson<{ received: number; originated: number; byType: Record<string, { received: number; originated: number }>; dropped: Record<string, number> }>(b, '/hypha/gossip');
  assertShape(doc, g, 'GET', '/hypha/gossip');
  assert.ok(g.byType['3'].received >= 2, JSON.stringify(g.byType));
  assert.equal(typeof g.dropped['bad-signature'], 'number');
  assert.ok((await getJson<{ byType: Record<string, { originated: number }> }>(a, '/hypha/gossip')).byType['3'].originated >= 2);

  // Errors.
  assertError(await call(a, 'POST', '/hypha/chat', { nick: '\u001b[0m ', text: 'x' }), 400, /^the nick is empty once control characters and spaces are removed\n$/);
  assertError(await call(a, 'POST', '/hypha/chat', { nick: 'x', text: '\u0007\u0008' }), 400, /the text is empty/);
  assertError(await call(a, 'POST', '/hypha/chat', { nick: 'x'.repeat(33), text: 'x' }), 400, /nick must NOT have more than 32 characters/);
  assertError(await call(a, 'POST', '/hypha/chat', { nick: 'x' }), 400, /must have required property 'text'/);
  assertError(await call(a, 'POST', '/hypha/chat', { nick: 'x', text: 5 }), 400, /text must be string/);
  assertError(await call(b, 'GET', '/hypha/chat?limit=0'), 400, /limit must be >= 1/);
  assertError(await call(b, 'GET', '/hypha/chat?timeout=soon'), 400, /timeout must be number/);
  assertError(await call(b, 'GET', '/hypha/chat?epoch=a%20b'), 400, /epoch must match pattern/);
  // Past the pace lines go to the mesh at (10/s, bursts of 20), lines are refused with 429 and not shown.
  const statuses: number[] = [];
  let paced = '';
  for (let i = 0; i < 30; i++) {
    const r = await call(a, 'POST', '/hypha/chat', { nick: 'flood', text: `line ${i}` });
    statuses.push(r.status);
    if (r.status === 429) paced = r.text;
  }
  assert.ok(statuses.includes(429), statuses.join(' '));
  assert.match(paced, /^too many chat lines: this node sends at most 10 per second to the mesh \(bursts of 20\); try again in \d+ ms\n$/);
  const shown = screenA.lines.filter((l) => l.startsWith('[flood]')).length;
  assert.equal(shown, statuses.filter((s) => s === 200).length, 'refused lines are not shown');
});

test('a node with no peers says a chat line is shown but reached nobody', async (t) => {
  const base = await tempBase(t, 'hypha-api-chat1-');
  const a = await startApiNode(t, base, 'solo');
  const r = await call(a, 'POST', '/hypha/chat', { nick: 'me', text: 'anyone?' });
  assert.equal(r.status, 200);
  assert.equal((r.json() as { mesh: string }).mesh, 'no-peers');
});

test('the state routes: put, get, list (paged), delete, across two nodes, with every error named', async (t) => {
  const base = await tempBase(t, 'hypha-api-state-');
  const [a, b] = await startPair(t, base);
  const doc = await getJson<Doc>(a, '/openapi.json');
  const enc = encodeURIComponent;

  // PUT a text value under a bare subkey: it is A's.
  const put = await call(a, 'PUT', '/hypha/state/color', { value: 'dark blue' });
  assert.equal(put.status, 200, put.text);
  assertShape(doc, put.json(), 'PUT', '/hypha/state/{key}');
  const item = put.json() as Item;
  assert.deepEqual([item.key, item.owner, item.subkey, item.value, item.valueB64, item.deleted], [`${a.nodeId}/color`, a.nodeId, 'color', 'dark blue', Buffer.from('dark blue').toString('base64'), false]);
  assert.match(item.ts, /^\d+$/);
  assert.ok(Math.abs(Date.parse(item.writtenAt) - Date.now()) < 60_000);

  // B sees it under the full key (URL-encoded), A under the bare one.
  await waitFor(() => b.node.part<StatePart>('state')!.state.get(`${a.nodeId}/color`) !== undefined, 'B has A/color', 30_000);
  const onB = await call(b, 'GET', `/hypha/state/${enc(`${a.nodeId}/color`)}`);
  assert.equal(onB.status, 200, onB.text);
  assertShape(doc, onB.json(), 'GET', '/hypha/state/{key}');
  assert.deepEqual(onB.json(), item);
  assert.deepEqual((await call(a, 'GET', '/hypha/state/color')).json(), item);
  // A short owner id works as in /get.
  assert.deepEqual((await call(b, 'GET', `/hypha/state/${enc(`${a.nodeId.slice(0, 12)}/color`)}`)).json(), item);

  // Bytes that are not UTF-8: value null, valueB64 exact.
  const bin = Buffer.from([0xff, 0x00, 0xfe, 0x80]).toString('base64');
  const binPut = await call(a, 'PUT', `/hypha/state/${enc('blob/raw')}`, { valueB64: bin });
  assert.equal(binPut.status, 200, binPut.text);
  assert.deepEqual([(binPut.json() as Item).value, (binPut.json() as Item).valueB64, (binPut.json() as Item).subkey], [null, bin, 'blob/raw']);
  const empty = await call(a, 'PUT', '/hypha/state/empty', { value: '' });
  assert.equal((empty.json() as Item).valueB64, '');

  // List: key order, prefix, pages.
  const all = await getJson<{ node: string; items: Item[]; next: string | null }>(a, `/hypha/state?prefix=${enc(`${a.nodeId}/`)}`);
  assertShape(doc, all, 'GET', '/hypha/state');
  assert.equal(all.node, a.nodeId);
  assert.deepEqual(all.items.map((i) => i.subkey), ['_tags', 'blob/raw', 'color', 'empty']);
  assert.equal(all.next, null);
  const page1 = await getJson<{ items: Item[]; next: string | null }>(a, `/hypha/state?prefix=${enc(`${a.nodeId}/`)}&limit=3`);
  assert.deepEqual(page1.items.map((i) => i.subkey), ['_tags', 'blob/raw', 'color']);
  assert.equal(page1.next, `${a.nodeId}/color`);
  const page2 = await getJson<{ items: Item[]; next: string | null }>(a, `/hypha/state?prefix=${enc(`${a.nodeId}/`)}&limit=3&after=${enc(page1.next!)}`);
  assert.deepEqual([page2.items.map((i) => i.subkey), page2.next], [['empty'], null]);
  const everything = await getJson<{ items: Item[] }>(b, '/hypha/state?limit=1000');
  assert.ok(everything.items.some((i) => i.key === `${b.nodeId}/_tags`) && everything.items.some((i) => i.key === `${a.nodeId}/color`));

  // DELETE: the tombstone; then 404, unless the tombstone is asked for.
  const del = await call(a, 'DELETE', '/hypha/state/color');
  assert.equal(del.status, 200, del.text);
  assertShape(doc, del.json(), 'DELETE', '/hypha/state/{key}');
  assert.deepEqual([(del.json() as Item).deleted, (del.json() as Item).value], [true, '']);
  assertError(await call(a, 'GET', '/hypha/state/color'), 404, new RegExp(`^${a.nodeId}/color was deleted \\(ask with deleted=true for its tombstone\\)\\n$`));
  assert.equal(((await call(a, 'GET', '/hypha/state/color?deleted=true')).json() as Item).deleted, true);
  assertError(await call(a, 'DELETE', '/hypha/state/color'), 404, /color holds no value/);
  assert.ok(!(await getJson<{ items: Item[] }>(a, `/hypha/state?prefix=${enc(`${a.nodeId}/`)}`)).items.some((i) => i.subkey === 'color'));
  assert.ok((await getJson<{ items: Item[] }>(a, `/hypha/state?prefix=${enc(`${a.nodeId}/`)}&deleted=true`)).items.some((i) => i.subkey === 'color' && i.deleted));

  // Errors: foreign namespace, reserved keys, limits, bad keys and values.
  assertError(await call(a, 'PUT', `/hypha/state/${enc(`${b.nodeId}/x`)}`, { value: '1' }), 403, new RegExp(`^key ${b.nodeId}/x belongs to node ${b.nodeId.slice(0, 12)}; a node writes only its own keys`));
  assertError(await call(a, 'DELETE', `/hypha/state/${enc(`${b.nodeId}/_tags`)}`), 403, /belongs to node/);
  assertError(await call(a, 'PUT', '/hypha/state/_tags', { value: '[]' }), 403, /keys starting with "_" are written by the node itself/);
  assertError(await call(a, 'PUT', '/hypha/state/big', { value: 'x'.repeat(4097) }), 400, /^value is 4097 bytes; \[state\] max_value_bytes is 4096\n$/);
  assertError(await call(a, 'PUT', `/hypha/state/${'k'.repeat(200)}`, { value: '1' }), 400, /bytes; \[state\] max_key_bytes is 256/);
  assertError(await call(a, 'PUT', `/hypha/state/${enc('a b')}`, { value: '1' }), 400, /contains whitespace or a control character/);
  assertError(await call(a, 'GET', `/hypha/state/${enc('a\tb')}`), 400, /contains whitespace or a control character/);
  assertError(await call(a, 'GET', `/hypha/state/${enc(`${a.nodeId}/`)}`), 400, /the key after "<node_id>\/" is empty/);
  assertError(await call(a, 'GET', '/hypha/state/nothing-here'), 404, new RegExp(`^no key ${a.nodeId}/nothing-here\\n$`));
  assertError(await call(a, 'PUT', '/hypha/state/x', { value: 'a', valueB64: 'YQ==' }), 400, /give the value as exactly one of "value" \(text\) or "valueB64"/);
  assertError(await call(a, 'PUT', '/hypha/state/x', {}), 400, /exactly one of/);
  assertError(await call(a, 'PUT', '/hypha/state/x', { valueB64: 'not base64!' }), 400, /valueB64 is not standard base64/);
  assertError(await call(a, 'PUT', '/hypha/state/x', { value: 7 }), 400, /value must be string/);
  assertError(await call(a, 'PUT', '/hypha/state/x', '["x"]'), 400, /body must be object/);
  assertError(await call(a, 'GET', `/hypha/state/${a.nodeId}/color`), 404, /a state key is one path segment: send its "\/" as %2F/);
  assertError(await call(a, 'GET', '/hypha/state?limit=1001'), 400, /limit must be <= 1000/);
  assertError(await call(a, 'GET', '/hypha/state?deleted=maybe'), 400, /deleted must be boolean/);
});

test('state changes by long-poll and by server-sent events, local and from a peer', async (t) => {
  const base = await tempBase(t, 'hypha-api-watch-');
  const [a, b] = await startPair(t, base);
  const doc = await getJson<Doc>(a, '/openapi.json');
  const enc = encodeURIComponent;
  const op = doc.paths['/api/v1/hypha/state/_events'].get;
  assert.ok(op.responses['200'].content?.['text/event-stream'], 'the stream is documented as text/event-stream');

  // A cursor now, then a write: the next long-poll returns it.
  const start = await getJson<Changes>(a, '/hypha/state/_changes');
  assertShape(doc, start, 'GET', '/hypha/state/_changes');
  assert.deepEqual(start.changes, []);
  const waiting = getJson<Changes>(a, `/hypha/state/_changes?after=${start.next}&epoch=${start.epoch}&timeout=30&prefix=${enc(`${a.nodeId}/`)}`);
  await new Promise((r) => setTimeout(r, 200));
  await call(a, 'PUT', '/hypha/state/size', { value: 'xl' });
  const got = await waiting;
  assertShape(doc, got, 'GET', '/hypha/state/_changes');
  assert.deepEqual(got.changes.map((c) => [c.source, c.fromPeer, c.item.subkey, c.item.value]), [['local', null, 'size', 'xl']]);

  // B sees A's write as a change from a peer.
  const onB = await getJson<Changes>(b, `/hypha/state/_changes?after=0&epoch=${(await getJson<Changes>(b, '/hypha/state/_changes')).epoch}&timeout=30&prefix=${enc(`${a.nodeId}/size`)}`);
  assert.deepEqual(onB.changes.map((c) => [c.source, c.fromPeer, c.item.key, c.item.value]), [['peer', a.nodeId, `${a.nodeId}/size`, 'xl']]);
  // Another epoch: starts over, flagged.
  const reset = await getJson<Changes>(a, '/hypha/state/_changes?after=5&epoch=other');
  assert.equal(reset.reset, true);
  assert.ok(reset.changes.some((c) => c.item.subkey === 'size'));

  // Server-sent events on B: a change event per write on A, with an id to resume from.
  const stream = await openEvents(`${b.url}/hypha/state/_events?prefix=${enc(`${a.nodeId}/`)}`);
  t.after(() => stream.close());
  assert.equal(stream.status, 200);
  assert.match(stream.type, /^text\/event-stream/);
  await call(a, 'PUT', '/hypha/state/mood', { value: 'calm' });
  await call(a, 'DELETE', '/hypha/state/mood');
  // (A's tags may arrive too, by the anti-entropy of the fresh link: only the mood changes are looked at.)
  const moods = () => stream.events.map((e) => ({ ...e, change: JSON.parse(e.data) as Change })).filter((e) => e.change.item.subkey === 'mood');
  await waitFor(() => moods().length >= 2, 'two change events', 30_000);
  const [first, second] = moods();
  assert.deepEqual([first.event, first.change.item.subkey, first.change.item.value, first.change.source], ['change', 'mood', 'calm', 'peer']);
  assert.deepEqual([second.change.item.subkey, second.change.item.deleted], ['mood', true]);
  assert.match(first.id!, /^[A-Za-z0-9_-]+:\d+$/);
  stream.close();

  // Reconnecting with Last-Event-ID replays what came after it.
  const again = await openEvents(`${b.url}/hypha/state/_events?prefix=${enc(`${a.nodeId}/`)}`, { 'last-event-id': first.id! });
  t.after(() => again.close());
  await again.waitFor(1, 'the replayed change');
  const replayed = again.events.map((e) => JSON.parse(e.data) as Change).filter((c) => c.item.subkey === 'mood');
  assert.deepEqual(replayed.map((c) => c.item.deleted), [true]);
  again.close();

  // Bad queries are refused before the stream opens.
  assertError(await call(a, 'GET', '/hypha/state/_events?after=-1'), 400, /after must be >= 0/);
});
