// Topics with a forward socket: a real Unix socket server in the test receives the payload, and its reply
// goes back to the sender as a message reply. Failures put the message in the inbox instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BusNet, bytes, utf8 } from './helpers.ts';

/** Advances virtual time in small steps while real socket I/O gets its turns. */
async function until(bn: BusNet, cond: () => boolean, what: string, realMs = 20_000): Promise<void> {
  const end = Date.now() + realMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await bn.clock.advance(20);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function settleOn<T>(bn: BusNet, p: Promise<T>, what: string): Promise<T> {
  let out: { v: T } | undefined;
  void p.then((v) => (out = { v }));
  await until(bn, () => out !== undefined, what);
  return out!.v;
}

function server(sockPath: string, onConn: (s: net.Socket, received: () => Buffer) => void): Promise<net.Server> {
  const srv = net.createServer((s) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    onConn(s, () => Buffer.concat(parts));
  });
  return new Promise((resolve) => srv.listen(sockPath, () => resolve(srv)));
}

async function setup(forward?: { replyTimeoutMs?: number }) {
  const bn = new BusNet(2, { extras: (i) => (i === 1 && forward ? { forward } : {}) });
  bn.link(0, 1);
  await bn.start();
  await bn.settle();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-fwd-'));
  return { bn, a: bn.nodes[0], b: bn.nodes[1], dir, sock: path.join(dir, 'app.sock') };
}

test('a forward socket receives the payload and its reply returns to the sender', async () => {
  const { bn, a, b, dir, sock } = await setup();
  const payload = bytes(40_000);
  let seen: Buffer | undefined;
  const srv = await server(sock, (s, received) => {
    // Like a program written for Mycelium: it knows when it has the whole message, replies and closes.
    s.on('data', () => {
      const got = received();
      if (got.length === payload.length) {
        seen = got;
        s.end(Buffer.concat([Buffer.from('echo:'), got.subarray(0, 10)]));
      }
    });
  });
  try {
    const topic = utf8('svc');
    assert.ok((await b.bus.addTopicSource(topic, '400::/7')).ok);
    assert.ok((await b.bus.setTopicForwardSocket(topic, sock)).ok);
    const out = await settleOn(bn, a.bus.push({ dst: { ip: b.ip }, topic, payload, replyTimeoutMs: 60_000 }), 'reply from the socket');
    assert.ok(out.ok && out.value.kind === 'reply', JSON.stringify(out));
    assert.deepEqual(seen && new Uint8Array(seen), payload);
    assert.deepEqual(out.value.reply.payload, new Uint8Array(Buffer.concat([Buffer.from('echo:'), Buffer.from(payload.subarray(0, 10))])));
    assert.equal(out.value.reply.srcIp, b.ip);
    assert.equal(b.bus.inboxCount, 0, 'a forwarded message is not also in the inbox');
    assert.equal(b.bus.counters.forwarded, 1);
  } finally {
    srv.close();
    await bn.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a forward socket that is missing, closes without a reply, or never replies: the message goes to the inbox', async () => {
  const { bn, a, b, dir, sock } = await setup({ replyTimeoutMs: 3_000 });
  const topic = utf8('svc');
  assert.ok((await b.bus.addTopic(topic)).ok);
  assert.ok((await b.bus.setDefaultTopicAccept(true)).ok);
  assert.ok((await b.bus.addTopicSource(topic, a.ip)).ok);
  assert.ok((await b.bus.setTopicForwardSocket(topic, sock)).ok);
  const srvs: net.Server[] = [];
  try {
    // 1. Nobody listens.
    assert.ok((await a.bus.push({ dst: { ip: b.ip }, topic, payload: utf8('one') })).ok);
    await until(bn, () => b.bus.inboxCount === 1, 'fallback to the inbox (no socket)');
    // 2. The program closes without answering.
    srvs.push(await server(sock, (s) => s.on('data', () => s.end())));
    assert.ok((await a.bus.push({ dst: { ip: b.ip }, topic, payload: utf8('two') })).ok);
    await until(bn, () => b.bus.inboxCount === 2, 'fallback to the inbox (no reply)');
    srvs[0].close();
    rmSync(sock, { force: true });
    // 3. The program never answers: the reply deadline (virtual time) ends the wait.
    srvs.push(await server(sock, () => {}));
    assert.ok((await a.bus.push({ dst: { ip: b.ip }, topic, payload: utf8('three') })).ok);
    await until(bn, () => b.bus.inboxCount === 3, 'fallback to the inbox (reply timeout)');
    assert.equal(b.bus.counters.forwardFailed, 3);
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await b.bus.pop({ topic });
      assert.ok(m.ok && m.value);
      texts.push(new TextDecoder().decode(m.value.payload));
    }
    assert.deepEqual(texts, ['one', 'two', 'three']);
  } finally {
    for (const s of srvs) s.close();
    await bn.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
