import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blake3 } from '@noble/hashes/blake3.js';
import { toHex } from '../../src/base/bytes.ts';
import { inboundMessageJson, type MessageInfo, type TransmissionState } from '../../src/messages/types.ts';
import { decodeMessagePacket, encodeMessagePacket, MSG_FLAG_INIT, type MessagePacket } from '../../src/wire/mycelium/message.ts';
import { BusNet, bytes, otherInSubnet, subnet64Of, utf8 } from './helpers.ts';

function stateName(s: TransmissionState): string {
  return typeof s === 'string' ? s : 'sending';
}

async function line(n: number, linkOpts: Parameters<BusNet['link']>[2] = {}): Promise<BusNet> {
  const net = new BusNet(n);
  for (let i = 0; i + 1 < n; i++) net.link(i, i + 1, linkOpts);
  await net.start();
  await net.settle();
  return net;
}

test('two nodes: a 1 KiB message arrives intact, with sender, topic and keys, as Mycelium JSON', async () => {
  const net = await line(2);
  const [a, b] = net.nodes;
  const payload = bytes(1024);
  const r = await a.bus.push({ dst: { ip: b.ip }, topic: utf8('chat'), payload });
  assert.ok(r.ok && r.value.kind === 'sent');
  const got = await net.settleOn(b.bus.pop({ timeoutMs: 60_000 }), 'message at B');
  assert.ok(got.ok && got.value);
  assert.deepEqual(got.value.payload, payload);
  assert.equal(got.value.id, r.value.id);
  assert.deepEqual(inboundMessageJson(got.value), {
    id: r.value.id,
    srcIp: a.ip,
    srcPk: a.pk,
    dstIp: b.ip,
    dstPk: b.pk,
    topic: Buffer.from('chat').toString('base64'),
    payload: Buffer.from(payload).toString('base64'),
  });
  // No topic: the JSON has none.
  const r2 = await a.bus.push({ dst: { pk: b.pk }, payload: utf8('x') });
  assert.ok(r2.ok);
  const got2 = await net.settleOn(b.bus.pop({ timeoutMs: 60_000 }), 'second message');
  assert.ok(got2.ok && got2.value);
  assert.equal('topic' in inboundMessageJson(got2.value), false);
  await net.stop();
});

test('status goes pending → sending → received → read, with Mycelium\'s fields', async () => {
  const net = await line(2, { latencyMs: 20 });
  const [a, b] = net.nodes;
  const payload = bytes(200_000);
  const r = await a.bus.push({ dst: { ip: b.ip }, payload, deadlineMs: 90_000 });
  assert.ok(r.ok);
  const seen: string[] = [];
  let last: MessageInfo | undefined;
  const sample = (): void => {
    const s = a.bus.status(r.value.id);
    assert.ok(s.ok);
    last = s.value;
    const name = stateName(s.value.state);
    if (seen.at(-1) !== name) seen.push(name);
  };
  sample();
  await net.until(() => {
    sample();
    return last?.state === 'received';
  }, 'received', 60_000, 5);
  assert.deepEqual(seen, ['pending', 'sending', 'received']);
  const created = Math.floor((net.clock.now() - 0) / 1000);
  assert.ok(last && Math.abs(last.created - created) <= 60);
  assert.equal(last.deadline - last.created, 90);
  assert.equal(last.msgLen, 200_000);
  assert.equal(last.dst, b.ip);
  // Popping at B sends READ.
  const got = await b.bus.pop();
  assert.ok(got.ok && got.value);
  await net.until(() => {
    sample();
    return last?.state === 'read';
  }, 'read');
  assert.deepEqual(seen, ['pending', 'sending', 'received', 'read']);
  await net.stop();
});

test('the sending state counts chunks pending, sent and acknowledged', async () => {
  const net = await line(2, { latencyMs: 50 });
  const [a, b] = net.nodes;
  const r = await a.bus.push({ dst: { ip: b.ip }, payload: bytes(1024 * 1024) });
  assert.ok(r.ok);
  let mid: { pending: number; sent: number; acked: number } | undefined;
  await net.until(() => {
    const s = a.bus.status(r.value.id);
    if (s.ok && typeof s.value.state === 'object' && s.value.state.sending.acked > 10) mid = s.value.state.sending;
    return mid !== undefined;
  }, 'mid-transfer', 60_000, 5);
  assert.ok(mid);
  assert.equal(mid.pending + mid.sent + mid.acked, Math.ceil((1024 * 1024) / 1300));
  assert.ok(mid.sent > 0 && mid.sent <= 256, `a bounded window of chunks in flight, got ${mid.sent}`);
  assert.ok(mid.pending > 0);
  await net.stop();
});

test('pop filters by exact topic and peek leaves the message', async () => {
  const net = await line(2);
  const [a, b] = net.nodes;
  for (const [t, p] of [['alpha', 'first'], ['beta', 'second'], ['alpha', 'third']]) {
    const r = await a.bus.push({ dst: { ip: b.ip }, topic: utf8(t), payload: utf8(p) });
    assert.ok(r.ok);
    // One after another, so arrival order is push order.
    await net.until(() => b.bus.inboxCount > 0 && (() => { const s = a.bus.status(r.value.id); return s.ok && s.value.state === 'received'; })(), `${p} received`);
  }
  const text = (r: Awaited<ReturnType<typeof b.bus.pop>>): string | null => (r.ok && r.value ? new TextDecoder().decode(r.value.payload) : null);
  assert.equal(text(await b.bus.pop({ topic: utf8('beta'), peek: true })), 'second');
  assert.equal(text(await b.bus.pop({ topic: utf8('beta') })), 'second');
  assert.equal(text(await b.bus.pop({ topic: utf8('beta') })), null);
  assert.equal(text(await b.bus.pop({ topic: utf8('alph') })), null, 'no prefix match (as Mycelium\'s code)');
  assert.equal(text(await b.bus.pop()), 'first');
  assert.equal(text(await b.bus.pop({ topic: utf8('alpha') })), 'third');
  await net.stop();
});

test('a long-poll waits without blocking other calls, times out with null, and can be aborted', async () => {
  const net = await line(2);
  const [a, b] = net.nodes;
  let waited: unknown = 'pending';
  void b.bus.pop({ timeoutMs: 10_000, topic: utf8('later') }).then((r) => (waited = r.ok ? r.value : r.error));
  const ctl = new AbortController();
  let aborted: unknown = 'pending';
  void b.bus.pop({ timeoutMs: 60_000, signal: ctl.signal }).then((r) => (aborted = r.ok ? r.value : r.error));
  // Meanwhile everything else works.
  const r = await a.bus.push({ dst: { ip: b.ip }, topic: utf8('now'), payload: utf8('hi') });
  assert.ok(r.ok);
  await net.until(() => b.bus.inboxCount === 1 || aborted !== 'pending', 'message at B');
  // The unfiltered waiter took it.
  assert.equal(aborted !== 'pending' && aborted !== null && typeof aborted === 'object' && 'payload' in aborted, true);
  let second: unknown = 'pending';
  void b.bus.pop({ timeoutMs: 60_000, signal: ctl.signal }).then((x) => (second = x.ok ? x.value : x.error));
  ctl.abort();
  await net.clock.advance(1);
  assert.equal(second, null);
  assert.equal(waited, 'pending');
  await net.clock.advance(10_000);
  assert.equal(waited, null);
  await net.stop();
});

test('reply flow: a push that waits gets the reply; one that waits too long gets its id back', async () => {
  const net = await line(3);
  const [a, , c] = net.nodes;
  const pushed = a.bus.push({ dst: { ip: c.ip }, topic: utf8('rpc'), payload: utf8('question'), replyTimeoutMs: 30_000 });
  const q = await net.settleOn(c.bus.pop({ timeoutMs: 30_000 }), 'question at C');
  assert.ok(q.ok && q.value);
  const rep = await c.bus.reply(q.value.id, { ip: q.value.srcIp }, utf8('answer'));
  assert.ok(rep.ok);
  assert.equal(rep.value.id, q.value.id);
  const out = await net.settleOn(pushed, 'reply at A');
  assert.ok(out.ok && out.value.kind === 'reply');
  assert.equal(out.value.id, q.value.id);
  assert.equal(new TextDecoder().decode(out.value.reply.payload), 'answer');
  assert.equal(out.value.reply.isReply, true);
  assert.equal(out.value.reply.srcIp, c.ip);
  assert.equal(a.bus.inboxCount, 0, 'a reply that found its waiter is not also in the inbox');
  // The reply's own status, at C, under the same id.
  await net.until(() => { const s = c.bus.status(q.value!.id); return s.ok && s.value.state === 'read'; }, 'reply read');

  const slow = a.bus.push({ dst: { ip: c.ip }, payload: utf8('anyone?'), replyTimeoutMs: 2_000 });
  const t = await net.settleOn(slow, 'reply wait to time out');
  assert.ok(t.ok && t.value.kind === 'timeout');
  // A late reply then lands in the inbox, marked as one.
  const q2 = await c.bus.pop();
  assert.ok(q2.ok && q2.value);
  assert.ok((await c.bus.reply(q2.value.id, { ip: a.ip }, utf8('late'))).ok);
  const late = await net.settleOn(a.bus.pop({ timeoutMs: 30_000 }), 'late reply in the inbox');
  assert.ok(late.ok && late.value && late.value.isReply && late.value.id === t.value.id);
  await net.stop();
});

test('a topic allow-list refuses a source outside it; a source inside and replies get through', async () => {
  const net = await line(3);
  const [a, b, c] = net.nodes;
  // B only takes "secure" from C's /64.
  const cSubnet = subnet64Of(c.ip);
  assert.ok((await b.bus.addTopicSource(utf8('secure'), cSubnet)).ok);
  assert.deepEqual(b.bus.topicSources(utf8('secure')), { ok: true, value: [cSubnet] });
  const fromA = await a.bus.push({ dst: { ip: b.ip }, topic: utf8('secure'), payload: utf8('let me in'), deadlineMs: 5_000 });
  const fromC = await c.bus.push({ dst: { ip: b.ip }, topic: utf8('secure'), payload: utf8('hello'), deadlineMs: 5_000 });
  assert.ok(fromA.ok && fromC.ok);
  await net.clock.advance(6_000);
  assert.deepEqual(a.bus.status(fromA.value.id).ok && (a.bus.status(fromA.value.id) as { value: MessageInfo }).value.state, 'aborted');
  const got = await b.bus.pop();
  assert.ok(got.ok && got.value && new TextDecoder().decode(got.value.payload) === 'hello');
  assert.deepEqual(await b.bus.pop(), { ok: true, value: null }, 'nothing from A');
  assert.ok(b.bus.counters.refusedAcl > 0);

  // Default reject: unconfigured topics are refused, but a reply to B's own message is not.
  assert.ok((await b.bus.setDefaultTopicAccept(false)).ok);
  const other = await a.bus.push({ dst: { ip: b.ip }, topic: utf8('other'), payload: utf8('x'), deadlineMs: 3_000 });
  assert.ok(other.ok);
  const ask = b.bus.push({ dst: { ip: a.ip }, payload: utf8('question'), replyTimeoutMs: 20_000 });
  const q = await net.settleOn(a.bus.pop({ timeoutMs: 20_000 }), 'question at A');
  assert.ok(q.ok && q.value);
  assert.ok((await a.bus.reply(q.value.id, { ip: b.ip }, utf8('answer'))).ok);
  const ans = await net.settleOn(ask, 'answer at B');
  assert.ok(ans.ok && ans.value.kind === 'reply');
  await net.clock.advance(4_000);
  const st = a.bus.status(other.value.id);
  assert.ok(st.ok && st.value.state === 'aborted');
  await net.stop();
});

test('with 10 % loss on a link a 1 MiB message arrives intact before its deadline', { timeout: 120_000 }, async () => {
  const net = new BusNet(3);
  net.link(0, 1, { latencyMs: 5 });
  net.link(1, 2, { latencyMs: 5, loss: 0.1, seed: 42 });
  await net.start();
  await net.settle(5_000);
  const [a, , c] = net.nodes;
  const payload = bytes(1024 * 1024, 3);
  const deadlineMs = 60_000;
  const r = await a.bus.push({ dst: { ip: c.ip }, payload, deadlineMs });
  assert.ok(r.ok);
  const start = net.clock.now();
  const got = await net.settleOn(c.bus.pop({ timeoutMs: deadlineMs }), 'message at C', deadlineMs);
  assert.ok(got.ok && got.value, 'arrived');
  assert.ok(net.clock.now() - start < deadlineMs);
  assert.deepEqual(got.value.payload, payload);
  await net.until(() => { const s = a.bus.status(r.value.id); return s.ok && (s.value.state === 'received' || s.value.state === 'read'); }, 'sender sees it received', 10_000);
  const s = a.bus.status(r.value.id);
  assert.ok(s.ok && s.value.state !== 'aborted');
  // Loss was real and repaired by retransmission.
  assert.ok(a.bus.counters.chunkRetransmits > 50, `retransmitted ${a.bus.counters.chunkRetransmits} chunks`);
  await net.stop();
});

test('to an unreachable destination the status becomes aborted at the deadline the caller gave', async () => {
  const net = await line(2);
  const [a] = net.nodes;
  const nowhere = '4ff:1:2:3::9';
  const sent: MessagePacket[] = [];
  const dp = a.overlay.dataplane;
  const orig = dp.sendMessage.bind(dp);
  dp.sendMessage = (dst, payload) => {
    const d = decodeMessagePacket(payload);
    if (d.ok) sent.push(d.value);
    return orig(dst, payload);
  };
  const r = await a.bus.push({ dst: { ip: nowhere }, payload: bytes(5000), deadlineMs: 7_000 });
  assert.ok(r.ok);
  const s0 = a.bus.status(r.value.id);
  assert.ok(s0.ok && s0.value.state === 'pending' && s0.value.deadline - s0.value.created === 7);
  await net.clock.advance(6_900);
  const s1 = a.bus.status(r.value.id);
  assert.ok(s1.ok && s1.value.state === 'pending', 'still trying before the deadline');
  await net.clock.advance(200);
  const s2 = a.bus.status(r.value.id);
  assert.ok(s2.ok && s2.value.state === 'aborted');
  assert.equal(a.bus.counters.aborted, 1);
  // The receiver is told, once, and then the bus goes quiet about it.
  assert.equal(sent.at(-1)?.kind, 'aborted');
  assert.equal(sent.filter((p) => p.kind === 'aborted').length, 1);
  const n = sent.length;
  await net.clock.advance(60_000);
  assert.equal(sent.length, n);
  await net.stop();
});

test('the receiver restarts after accepting a message it had not handed out: the message is still there', async () => {
  const net = await line(2);
  const [a, b] = net.nodes;
  const payload = bytes(50_000);
  const r = await a.bus.push({ dst: { ip: b.ip }, topic: utf8('keep'), payload });
  assert.ok(r.ok);
  await net.until(() => { const s = a.bus.status(r.value.id); return s.ok && s.value.state === 'received'; }, 'received');
  assert.equal(b.bus.inboxCount, 1);
  const b2 = await net.restart(1);
  assert.equal(b2.bus.inboxCount, 1);
  const got = await b2.bus.pop({ topic: utf8('keep') });
  assert.ok(got.ok && got.value);
  assert.deepEqual(got.value.payload, payload);
  assert.equal(got.value.srcIp, a.ip);
  // The READ reaches the sender once the links are back.
  await net.until(() => { const s = a.bus.status(r.value.id); return s.ok && s.value.state === 'read'; }, 'read after restart');
  await net.stop();
});

test('ABORTED from the sender drops the partial message being received', async () => {
  const net = await line(2);
  const [a, b] = net.nodes;
  const id = Buffer.from('00112233445566ff', 'hex');
  b.bus.receivePacket(encodeMessagePacket({ kind: 'init', id, flags: MSG_FLAG_INIT, length: 100_000, topic: new Uint8Array(0), topicLength: 0 }), a.address, b.address);
  assert.deepEqual([b.bus.stats().receiving, b.bus.stats().receivingBytes], [1, 100_000]);
  b.bus.receivePacket(encodeMessagePacket({ kind: 'aborted', id, flags: 0x2000 }), a.address, b.address);
  assert.deepEqual([b.bus.stats().receiving, b.bus.stats().receivingBytes], [0, 0]);
  await net.stop();
});

test('a repeated INIT, CHUNK or DONE for a message already taken is acknowledged, not taken twice', async () => {
  const net = await line(2);
  const [a, b] = net.nodes;
  const data = utf8('once');
  const r = await a.bus.push({ dst: { ip: b.ip }, payload: data });
  assert.ok(r.ok);
  await net.until(() => b.bus.inboxCount === 1, 'accepted');
  const acks: MessagePacket[] = [];
  const dp = b.overlay.dataplane;
  const orig = dp.sendMessage.bind(dp);
  dp.sendMessage = (dst, payload) => {
    const d = decodeMessagePacket(payload);
    if (d.ok) acks.push(d.value);
    return orig(dst, payload);
  };
  const id = Buffer.from(r.value.id, 'hex');
  const again = (p: MessagePacket): void => b.bus.receivePacket(encodeMessagePacket(p), a.address, b.address);
  again({ kind: 'init', id, flags: MSG_FLAG_INIT, length: 4, topic: new Uint8Array(0), topicLength: 0 });
  again({ kind: 'chunk', id, flags: 0x1000, index: 0, offset: 0, size: 4, data });
  again({ kind: 'done', id, flags: 0x4000, chunkCount: 1, checksum: blake3(data) });
  await net.clock.advance(1_000);
  assert.equal(b.bus.inboxCount, 1);
  assert.equal(b.bus.counters.duplicates, 1);
  // INIT-ACK, then DONE-ACK with the checksum as proof, CHUNK-ACK, DONE-ACK.
  assert.deepEqual(acks.map((p) => p.kind), ['init', 'done', 'chunk', 'done']);
  const doneAck = acks[1];
  assert.ok(doneAck.kind === 'done' && Buffer.from(doneAck.checksum).equals(Buffer.from(blake3(data))));
  await net.stop();
});

test('a sender restarted mid-transfer resumes and the message arrives intact', { timeout: 120_000 }, async () => {
  const net = await line(2, { latencyMs: 20 });
  const [a, b] = net.nodes;
  const payload = bytes(1024 * 1024, 11);
  const r = await a.bus.push({ dst: { ip: b.ip }, payload, deadlineMs: 120_000 });
  assert.ok(r.ok);
  let acked = 0;
  await net.until(() => {
    const s = a.bus.status(r.value.id);
    acked = s.ok && typeof s.value.state === 'object' ? s.value.state.sending.acked : 0;
    return acked > 300;
  }, 'a third of the chunks acknowledged', 60_000, 5);
  const a2 = await net.restart(0);
  const s = a2.bus.status(r.value.id);
  assert.ok(s.ok, 'the restarted sender still knows the message');
  assert.ok(typeof s.value.state === 'object' || s.value.state === 'pending');
  const got = await net.settleOn(b.bus.pop({ timeoutMs: 120_000 }), 'message at B');
  assert.ok(got.ok && got.value);
  assert.deepEqual(got.value.payload, payload);
  // It resumed rather than starting over: only the chunks not yet acknowledged were sent again.
  const total = Math.ceil(payload.length / 1300);
  assert.ok(a2.bus.counters.packetsSent < total - acked + 50, `sent ${a2.bus.counters.packetsSent} packets after the restart, ${total - acked} chunks were left`);
  await net.stop();
});

test('a message pushed just before the sender restarts is still delivered', async () => {
  const net = await line(2);
  const [a, b] = net.nodes;
  net.links[0].wire.cut = true;
  const r = await a.bus.push({ dst: { ip: b.ip }, payload: utf8('survive'), deadlineMs: 60_000 });
  assert.ok(r.ok);
  await net.restart(0);
  const got = await net.settleOn(b.bus.pop({ timeoutMs: 60_000 }), 'message at B');
  assert.ok(got.ok && got.value && new TextDecoder().decode(got.value.payload) === 'survive');
  await net.stop();
});

test('a message to ourselves is delivered through the same machinery', async () => {
  const net = await line(1);
  const [a] = net.nodes;
  const r = await a.bus.push({ dst: { ip: a.ip }, topic: utf8('self'), payload: bytes(20_000) });
  assert.ok(r.ok);
  const got = await net.settleOn(a.bus.pop({ timeoutMs: 10_000 }), 'own message');
  assert.ok(got.ok && got.value && got.value.srcIp === a.ip && got.value.payload.length === 20_000);
  await net.until(() => { const s = a.bus.status(r.value.id); return s.ok && s.value.state === 'read'; }, 'read');
  // Any address in our /64 is us too.
  const other = otherInSubnet(a.ip);
  const r2 = await a.bus.push({ dst: { ip: other }, payload: utf8('also me') });
  assert.ok(r2.ok);
  await net.until(() => { const s = a.bus.status(r2.value.id); return s.ok && s.value.state === 'received'; }, 'own /64 received');
  await net.stop();
});

test('errors say what is wrong', async () => {
  const net = await line(1);
  const { bus } = net.nodes[0];
  const code = (r: { ok: boolean; error?: { code: string; message: string } }): string => (r.ok ? 'ok' : `${r.error!.code}: ${r.error!.message}`);
  assert.match(code(await bus.push({ dst: { ip: '2001:db8::1' }, payload: utf8('x') })), /^bad-destination: .*400::\/7/);
  assert.match(code(await bus.push({ dst: { ip: 'nope' }, payload: utf8('x') })), /^bad-destination: "nope" is not an IPv6 address/);
  assert.match(code(await bus.push({ dst: { pk: 'abc' }, payload: utf8('x') })), /^bad-public-key: .*64 hex/);
  assert.match(code(await bus.push({ dst: { ip: '400::1' }, topic: new Uint8Array(256), payload: utf8('x') })), /^topic-too-large: topic of 256 bytes; at most 255/);
  assert.match(code(await bus.push({ dst: { ip: '400::1' }, payload: utf8('x'), deadlineMs: 0 })), /^bad-deadline/);
  assert.match(code(await bus.push({ dst: { ip: '400::1' }, payload: utf8('x'), replyTimeoutMs: -1 })), /^bad-deadline/);
  assert.match(code(bus.status('xyz')), /^bad-id: message id must be 16 hex characters/);
  assert.match(code(bus.status('0123456789abcdef')), /^not-found: no message with id 0123456789abcdef/);
  assert.match(code(await bus.reply('0123', { ip: '400::1' }, utf8('x'))), /^bad-id/);
  assert.match(code(await bus.pop({ timeoutMs: Number.NaN })), /^bad-deadline/);
  assert.match(code(bus.topicSources(utf8('none'))), /^topic-not-found/);
  assert.match(code(await bus.addTopicSource(utf8('t'), '400::/200')), /^bad-subnet: .*prefix length must be 0 to 128/);
  assert.match(code(await bus.setTopicForwardSocket(utf8('missing'), '/tmp/x.sock')), /^topic-not-found/);
  assert.ok((await bus.addTopic(utf8('t2'))).ok);
  assert.match(code(await bus.setTopicForwardSocket(utf8('t2'), 'x'.repeat(200))), /^bad-socket-path: .*at most 107/);
  await net.stop();
  assert.match(code(await bus.push({ dst: { ip: '400::1' }, payload: utf8('x') })), /^stopped/);
});

test('a message over the size limit is refused by the sender, and by a receiver with a smaller limit', async () => {
  const net = new BusNet(2, { extras: (i) => ({ limits: { maxMessageBytes: i === 0 ? 1 << 20 : 1000 } }) });
  net.link(0, 1);
  await net.start();
  await net.settle();
  const [a, b] = net.nodes;
  const big = await a.bus.push({ dst: { ip: b.ip }, payload: new Uint8Array((1 << 20) + 1) });
  assert.ok(!big.ok && big.error.code === 'message-too-large');
  const r = await a.bus.push({ dst: { ip: b.ip }, payload: new Uint8Array(5000), deadlineMs: 3_000 });
  assert.ok(r.ok);
  await net.clock.advance(3_100);
  assert.equal(b.bus.counters.refusedTooLarge > 0, true);
  const s = a.bus.status(r.value.id);
  assert.ok(s.ok && s.value.state === 'aborted');
  await net.stop();
});

test('topic configuration survives a restart', async () => {
  const net = await line(1);
  const t = utf8('cfg');
  const { bus } = net.nodes[0];
  assert.ok((await bus.addTopicSource(t, '400::/7')).ok);
  assert.ok((await bus.addTopicSource(t, '400::1')).ok);
  assert.ok((await bus.removeTopicSource(t, '400::/7')).ok);
  assert.ok((await bus.setTopicForwardSocket(t, '/run/x.sock')).ok);
  assert.ok((await bus.setDefaultTopicAccept(false)).ok);
  assert.ok((await bus.addTopic(utf8('gone'))).ok);
  assert.ok((await bus.removeTopic(utf8('gone'))).ok);
  const n2 = await net.restart(0);
  assert.equal(n2.bus.getDefaultTopicAccept(), false);
  assert.deepEqual(n2.bus.topics().map((x) => toHex(x)), [toHex(t)]);
  assert.deepEqual(n2.bus.topicSources(t), { ok: true, value: ['400::1/128'] });
  assert.deepEqual(n2.bus.topicForwardSocket(t), { ok: true, value: '/run/x.sock' });
  assert.ok((await n2.bus.setTopicForwardSocket(t, null)).ok);
  assert.deepEqual(n2.bus.topicForwardSocket(t), { ok: true, value: null });
  await net.stop();
});

test('a receiver restarted mid-transfer forgets the partial message; the sender starts over and it arrives', { timeout: 120_000 }, async () => {
  const net = await line(2, { latencyMs: 20 });
  const [a] = net.nodes;
  const payload = bytes(1024 * 1024, 5);
  const r = await a.bus.push({ dst: { ip: net.nodes[1].ip }, payload, deadlineMs: 120_000 });
  assert.ok(r.ok);
  await net.until(() => {
    const s = a.bus.status(r.value.id);
    return s.ok && typeof s.value.state === 'object' && s.value.state.sending.acked > 200;
  }, 'transfer under way', 60_000, 5);
  const b2 = await net.restart(1);
  const got = await net.settleOn(b2.bus.pop({ timeoutMs: 120_000 }), 'message at the restarted B', 120_000);
  assert.ok(got.ok && got.value);
  assert.deepEqual(got.value.payload, payload);
  await net.stop();
});
