// Issue #5's acceptance, as a user would see it: three `hypha run` processes on loopback in a line
// (A ── B ── C over Mycelium TCP links, --no-tun), messages from A to C through the HTTP API, the CLI and
// JSON-RPC: 1 KiB, 1 MiB and 16 MiB intact; topic filters; the reply flow with --wait; status transitions;
// a topic allow-list refusing a source outside it; a forward socket answering; JSON-RPC and HTTP together;
// a receiver killed with SIGKILL after it accepted a message still has it after the restart; a message to
// an unreachable destination is aborted at the deadline the caller gave. (10 % loss on a link is covered at
// library level in test/messages/bus.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hypha, hyphaInProcess, spawnHypha, type Running } from './helpers.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Proc {
  name: string;
  dir: string;
  api: string;
  rpc: string;
  ip: string;
  subnet: string;
  pk: string;
  myceliumPort: number;
  run: Running;
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function start(base: string, name: string, ports: { api: number; rpc: number }, peers: string[], t: { after(fn: () => unknown): void }): Promise<Proc> {
  const dir = join(base, name);
  const run = spawnHypha(['run', '--data-dir', dir, '--name', name, '--listen', '', '--ssh-listen', '', '--log-format', 'json', '--no-tun', '-t', '0',
    '--disable-peer-discovery', '--api-addr', `127.0.0.1:${ports.api}`, '--jsonrpc-addr', `127.0.0.1:${ports.rpc}`, ...(peers.length > 0 ? ['--peers', ...peers] : [])]);
  t.after(async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  });
  await run.waitFor('"msg":"node running"', 60_000);
  const line = JSON.parse(run.stderr().split('\n').find((l) => l.includes('"msg":"node running"'))!) as { myceliumListen: string };
  const api = `127.0.0.1:${ports.api}`;
  const info = (await (await fetch(`http://${api}/api/v1/admin`)).json()) as { nodeIp: string; nodeSubnet: string; nodePubkey: string };
  return { name, dir, api, rpc: `http://127.0.0.1:${ports.rpc}`, ip: info.nodeIp, subnet: info.nodeSubnet, pk: info.nodePubkey, myceliumPort: Number(line.myceliumListen.split(':').pop()), run };
}

async function http(p: Proc, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const r = await fetch(`http://${p.api}/api/v1${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

async function rpc(p: Proc, method: string, params: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const r = await fetch(p.rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return (await r.json()) as { result?: unknown; error?: { code: number; message: string } };
}

async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function state(p: Proc, id: string): Promise<unknown> {
  return ((await http(p, 'GET', `/messages/status/${id}`)).json as { state: unknown }).state;
}

test('three hypha processes in a line: messages from end to end through the HTTP API, the CLI and JSON-RPC', { timeout: 600_000 }, async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-msg-procs-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const ports = { a: { api: await freePort(), rpc: await freePort() }, b: { api: await freePort(), rpc: await freePort() }, c: { api: await freePort(), rpc: await freePort() } };
  const b = await start(base, 'b', ports.b, [], t);
  const hub = `tcp://127.0.0.1:${b.myceliumPort}`;
  const a = await start(base, 'a', ports.a, [hub], t);
  let c = await start(base, 'c', ports.c, [hub], t);
  // Routes are found on demand (a route request when traffic needs one): a first message each way, which
  // the bus retries until the path is there.
  for (const [from, to] of [[a, c], [c, a]]) {
    const w = await http(from, 'POST', '/messages', { dst: { ip: to.ip }, topic: b64('warm-up'), payload: b64('hi') });
    await until(async () => (await state(from, (w.json as { id: string }).id)) === 'received', `${from.name} reaches ${to.name} through B`, 120_000);
    assert.equal((await http(to, 'GET', `/messages?topic=${encodeURIComponent(b64('warm-up'))}`)).status, 200);
  }
  // The real binary for the transfers and --raw (exit codes, a payload flushed to a pipe); the short
  // exchanges run the same CLI in this process.
  const cli = (...args: string[]) => hypha(['message', ...args], { timeoutMs: 180_000 });
  const cliHere = (...args: string[]) => hyphaInProcess(['message', ...args]);

  await t.test('1 KiB, 1 MiB and 16 MiB through the HTTP API arrive intact; the status goes pending/sending → received → read', async () => {
    for (const size of [1024, 1 << 20, 16 << 20]) {
      const payload = randomBytes(size);
      const pushed = await http(a, 'POST', '/messages', { dst: { ip: c.ip }, topic: b64(`http-${size}`), payload: b64(payload) });
      assert.equal(pushed.status, 201, pushed.text);
      const id = (pushed.json as { id: string }).id;
      const seen: string[] = [];
      const note = (s: unknown) => {
        const name = typeof s === 'string' ? s : Object.keys(s as object)[0];
        if (seen.at(-1) !== name) seen.push(name);
      };
      await until(async () => {
        const s = await state(a, id);
        note(s);
        return s === 'received';
      }, `${size} bytes received`, 180_000);
      const got = await http(c, 'GET', `/messages?timeout=30&topic=${encodeURIComponent(b64(`http-${size}`))}`);
      assert.equal(got.status, 200);
      const m = got.json as { id: string; srcIp: string; payload: string };
      assert.equal(m.id, id);
      assert.equal(m.srcIp, a.ip);
      assert.equal(sha(Buffer.from(m.payload, 'base64')), sha(payload), `${size} bytes intact`);
      await until(async () => {
        const s = await state(a, id);
        note(s);
        return s === 'read';
      }, 'READ back at A');
      const order = ['pending', 'sending', 'received', 'read'];
      assert.deepEqual(seen.filter((s) => order.includes(s)), seen, `only known states: ${seen.join(' → ')}`);
      assert.deepEqual([...seen].sort((x, y) => order.indexOf(x) - order.indexOf(y)), seen, `states in order: ${seen.join(' → ')}`);
      assert.deepEqual(seen.slice(-2), ['received', 'read']);
      if (size === 16 << 20) assert.ok(seen.includes('sending'), `a 16 MiB message is seen sending: ${seen.join(' → ')}`);
    }
  });

  await t.test('1 KiB, 1 MiB and 16 MiB through the CLI arrive intact; receive filters on the topic', async () => {
    for (const size of [1024, 1 << 20, 16 << 20]) {
      const payload = randomBytes(size);
      const file = join(base, `in-${size}`);
      await writeFile(file, payload);
      const sent = await cli('send', '--api-addr', a.api, c.ip, '--msg-path', file, '--topic', `cli-${size}`, '--json');
      assert.equal(sent.code, 0, sent.stderr);
      const out = join(base, `out-${size}`);
      const got = await cli('receive', '--api-addr', c.api, '--timeout', '120', '--topic', `cli-${size}`, '--msg-path', out, '--json');
      assert.equal(got.code, 0, got.stderr);
      const m = JSON.parse(got.stdout) as Record<string, string>;
      assert.equal(m.id, (JSON.parse(sent.stdout) as { id: string }).id);
      assert.equal(m.topic, `cli-${size}`);
      assert.equal('payload' in m, false, 'written to the file, not printed (as Mycelium)');
      assert.equal(sha(await readFile(out)), sha(payload), `${size} bytes intact`);
    }
    // --raw to a pipe: the whole 1 MiB comes out before the process exits.
    const text = 'x'.repeat(1 << 20);
    await writeFile(join(base, 'text'), text);
    assert.equal((await cli('send', '--api-addr', a.api, c.ip, '--msg-path', join(base, 'text'), '-t', 'raw')).code, 0);
    const raw = await cli('receive', '--api-addr', c.api, '--timeout', '120', '-t', 'raw', '--raw');
    assert.equal(raw.stdout.length, text.length + 1, 'every byte came out');
    assert.ok(raw.stdout === `${text}\n`);

    // Topic filter: the message on "y" is taken by a receive for "y" although "x" came first.
    assert.equal((await cliHere('send', '--api-addr', a.api, c.ip, 'on x', '-t', 'x')).code, 0);
    assert.equal((await cliHere('send', '--api-addr', a.api, c.ip, 'on y', '-t', 'y')).code, 0);
    const y = await cliHere('receive', '--api-addr', c.api, '--timeout', '60', '-t', 'y');
    assert.match(y.stdout, /\nTopic: y\nPayload \(4 bytes\):\non y\n$/);
    const x = await cliHere('receive', '--api-addr', c.api, '--timeout', '60', '-t', 'x', '--raw');
    assert.equal(x.stdout, 'on x\n');
  });

  await t.test('the reply flow: send --wait on A prints what C answered with send --reply-to', async () => {
    const asking = cliHere('send', '--api-addr', a.api, c.ip, 'are you there?', '--wait', '--timeout', '120');
    const q = await cliHere('receive', '--api-addr', c.api, '--timeout', '60', '--json');
    assert.equal(q.code, 0, q.stderr);
    const { id, srcIp, payload } = JSON.parse(q.stdout) as { id: string; srcIp: string; payload: string };
    assert.deepEqual([srcIp, payload], [a.ip, 'are you there?']);
    const replied = await cliHere('send', '--api-addr', c.api, srcIp, 'yes, here', '--reply-to', id);
    assert.equal(replied.code, 0, replied.stderr);
    const answer = await asking;
    assert.equal(answer.code, 0, answer.stderr);
    assert.equal(answer.stdout, `Reply to ${id} from ${c.ip} (public key ${c.pk})\nPayload (9 bytes):\nyes, here\n`);
  });

  await t.test('a topic allow-list refuses a source outside it and takes one inside', async () => {
    const topic = encodeURIComponent(b64('guarded'));
    assert.equal((await http(c, 'POST', `/messages/topics/${topic}/sources`, { subnet: b.subnet })).status, 201);
    const refused = await http(a, 'POST', '/messages?deadline=4', { dst: { ip: c.ip }, topic: b64('guarded'), payload: b64('let me in') });
    const rid = (refused.json as { id: string }).id;
    await until(async () => (await state(a, rid)) === 'aborted', 'A\'s message refused until its deadline');
    assert.equal((await http(c, 'GET', `/messages?topic=${topic}`)).status, 204, 'nothing from A arrived');
    const allowed = await http(b, 'POST', '/messages', { dst: { ip: c.ip }, topic: b64('guarded'), payload: b64('from inside') });
    assert.equal(allowed.status, 201);
    const got = await http(c, 'GET', `/messages?timeout=60&topic=${topic}`);
    assert.equal(got.status, 200);
    assert.equal((got.json as { srcIp: string }).srcIp, b.ip);
  });

  await t.test('a forward socket receives the payload and its reply returns to the sender', async () => {
    const sock = join(base, 'app.sock');
    const received: string[] = [];
    const srv = net.createServer((s) => {
      let all = '';
      s.on('data', (d: Buffer) => {
        all += d.toString();
        if (all.endsWith('\n')) {
          received.push(all);
          s.end(all.trim().toUpperCase());
        }
      });
    });
    await new Promise<void>((r) => srv.listen(sock, r));
    t.after(() => srv.close());
    const topic = encodeURIComponent(b64('shout'));
    assert.equal((await http(c, 'POST', '/messages/topics', [...Buffer.from('shout')])).status, 201);
    assert.equal((await http(c, 'POST', `/messages/topics/${topic}/sources`, { subnet: '400::/7' })).status, 201);
    assert.equal((await http(c, 'PUT', `/messages/topics/${topic}/forward`, { socketPath: sock })).status, 204);
    const asked = await http(a, 'POST', '/messages?reply_timeout=60', { dst: { ip: c.ip }, topic: b64('shout'), payload: b64('quiet please\n') });
    assert.equal(asked.status, 200, asked.text);
    assert.equal(Buffer.from((asked.json as { payload: string }).payload, 'base64').toString(), 'QUIET PLEASE');
    assert.deepEqual(received, ['quiet please\n']);
  });

  await t.test('JSON-RPC pushMessage/popMessage interoperate with the HTTP routes', async () => {
    const pushed = await rpc(a, 'pushMessage', [{ dst: { pk: c.pk }, topic: b64('rpc'), payload: b64('by rpc') }]);
    const id = (pushed.result as { id: string }).id;
    const viaHttp = await http(c, 'GET', `/messages?timeout=60&topic=${encodeURIComponent(b64('rpc'))}`);
    assert.equal((viaHttp.json as { id: string }).id, id);
    const h = await http(a, 'POST', '/messages', { dst: { ip: c.ip }, topic: b64('rpc2'), payload: b64('by http') });
    const popped = await rpc(c, 'popMessage', [false, 60, b64('rpc2')]);
    assert.equal((popped.result as { id: string }).id, (h.json as { id: string }).id);
    assert.equal(Buffer.from((popped.result as { payload: string }).payload, 'base64').toString(), 'by http');
    const info = await rpc(a, 'getMessageInfo', [id]);
    assert.ok(['received', 'read'].includes((info.result as { state: string }).state));
  });

  await t.test('kill -9 the receiver after it accepted a message, before it was read: after the restart it is there', async () => {
    const payload = randomBytes(200_000);
    const pushed = await http(a, 'POST', '/messages', { dst: { ip: c.ip }, topic: b64('durable'), payload: b64(payload) });
    const id = (pushed.json as { id: string }).id;
    await until(async () => (await state(a, id)) === 'received', 'C accepted the message');
    c.run.child.kill('SIGKILL');
    await c.run.exited;
    c = await start(base, 'c', ports.c, [hub], t);
    const got = await http(c, 'GET', `/messages?timeout=30&topic=${encodeURIComponent(b64('durable'))}`);
    assert.equal(got.status, 200, 'the message survived the crash');
    assert.equal((got.json as { id: string }).id, id);
    assert.equal(sha(Buffer.from((got.json as { payload: string }).payload, 'base64')), sha(payload));
    await until(async () => (await state(a, id)) === 'read', 'READ reached A once C was back', 120_000);
  });

  await t.test('to an unreachable destination the status becomes aborted at the deadline the caller gave', async () => {
    const r = await http(a, 'POST', '/messages?deadline=3', { dst: { ip: '5ff:dead:beef::1' }, payload: b64('hello?') });
    const id = (r.json as { id: string }).id;
    const first = (await http(a, 'GET', `/messages/status/${id}`)).json as { state: unknown; created: number; deadline: number };
    assert.equal(first.deadline - first.created, 3);
    await until(async () => (await state(a, id)) === 'aborted', 'aborted');
    assert.ok(Date.now() / 1000 >= first.deadline, 'not before its deadline');
  });
});
