// `hypha message send|receive` (in this process) against two nodes in this process: readable output,
// Mycelium's JSON with --json, --raw, --msg-path, topics, the reply flow, and the exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../src/cli/program.ts';
import { startOverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';
import { hyphaInProcess } from './helpers.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('send and receive: text for people, Mycelium\'s JSON with --json, raw bytes with --raw', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-msg-cli-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await startOverlayNode(t, base, 'a');
  const b = await startOverlayNode(t, base, 'b', { peers: [a.endpoint] });
  await waitFor(() => b.overlay.router.lookup(a.node.identity.address).kind === 'selected', 'B routes to A', 30_000);
  const aIp = a.node.identity.addressText;
  const bIp = b.node.identity.addressText;
  const onA = ['--api-addr', a.apiAddr];
  const onB = ['--api-addr', b.apiAddr];

  const sent = await hyphaInProcess(['message', 'send', ...onB, aIp, 'hello there', '--topic', 'greetings']);
  assert.equal(sent.code, 0, sent.stderr);
  const id = /^sent message ([0-9a-f]{16}) \(11 bytes to (\S+)\)\n$/.exec(sent.stdout);
  assert.ok(id, sent.stdout);
  assert.equal(id[2], aIp);
  const got = await hyphaInProcess(['message', 'receive', ...onA, '--timeout', '20', '-t', 'greetings']);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, `Message ${id[1]} from ${bIp} (public key ${hex(b.node.identity.x25519Public)})\nTopic: greetings\nPayload (11 bytes):\nhello there\n`);

  // --json: Mycelium's CLI output, byte for byte: {"id"} for a send, CliMessage for a message.
  const sentJson = await hyphaInProcess(['message', 'send', ...onB, hex(a.node.identity.x25519Public), 'json please', '--json']);
  const { id: jid } = JSON.parse(sentJson.stdout) as { id: string };
  assert.equal(sentJson.stdout, `{"id":"${jid}"}\n`);
  const gotJson = await hyphaInProcess(['message', 'receive', ...onA, '--timeout', '20', '--json']);
  assert.equal(gotJson.stdout, `${JSON.stringify({ id: jid, srcIp: bIp, srcPk: hex(b.node.identity.x25519Public), dstIp: aIp, dstPk: hex(a.node.identity.x25519Public), payload: 'json please' })}\n`);

  // Bytes that are not UTF-8: base64 in the output, exact in --raw and --msg-path.
  const binary = Buffer.from([0xff, 0x00, 0x01, 0xfe, 0x80]);
  await writeFile(join(base, 'in.bin'), binary);
  for (let i = 0; i < 3; i++) assert.equal((await hyphaInProcess(['message', 'send', ...onB, aIp, '--msg-path', join(base, 'in.bin'), '-t', 'bin'])).code, 0);
  const shown = await hyphaInProcess(['message', 'receive', ...onA, '--timeout', '20', '-t', 'bin']);
  assert.match(shown.stdout, /\nPayload \(5 bytes, not UTF-8, in base64\):\n\/wAB\/oA=\n$/);
  const chunks: Uint8Array[] = [];
  const io: CliIo = { stdout: (s) => chunks.push(Buffer.from(s)), stdoutBytes: (b) => chunks.push(b), stderr: () => {}, env: {} };
  assert.equal(await runCli(['message', 'receive', ...onA, '--timeout', '20', '-t', 'bin', '--raw'], io), 0);
  assert.deepEqual(Buffer.concat(chunks), Buffer.concat([binary, Buffer.from('\n')]));
  const toFile = await hyphaInProcess(['message', 'receive', ...onA, '--timeout', '20', '-t', 'bin', '--msg-path', join(base, 'out.bin')]);
  assert.match(toFile.stdout, new RegExp(`Payload: 5 bytes, written to ${join(base, 'out.bin').replace(/[.]/g, '\\.')}\n$`));
  assert.deepEqual(await readFile(join(base, 'out.bin')), binary);

  // Nothing there: exit 1 and say so.
  const none = await hyphaInProcess(['message', 'receive', ...onA, '--timeout', '1', '-t', 'nothing']);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'hypha message receive: no message with topic "nothing" within 1 s\n');
  assert.equal(none.stdout, '');
});

test('the reply flow: send --wait prints the reply that receive + send --reply-to gave', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-msg-cli-reply-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await startOverlayNode(t, base, 'a');
  const b = await startOverlayNode(t, base, 'b', { peers: [a.endpoint] });
  await waitFor(() => b.overlay.router.lookup(a.node.identity.address).kind === 'selected', 'B routes to A', 30_000);
  const waiting = hyphaInProcess(['message', 'send', '--api-addr', b.apiAddr, a.node.identity.addressText, 'what time is it?', '--wait', '--timeout', '30', '--json']);
  const q = await hyphaInProcess(['message', 'receive', '--api-addr', a.apiAddr, '--timeout', '20', '--json']);
  const { id, srcIp } = JSON.parse(q.stdout) as { id: string; srcIp: string };
  const replied = await hyphaInProcess(['message', 'send', '--api-addr', a.apiAddr, srcIp, 'tea time', '--reply-to', id]);
  assert.equal(replied.code, 0, replied.stderr);
  assert.equal(replied.stdout, `replied to message ${id} (8 bytes to ${srcIp})\n`);
  const answer = await waiting;
  assert.equal(answer.code, 0, answer.stderr);
  assert.deepEqual(JSON.parse(answer.stdout), { id, srcIp: a.node.identity.addressText, srcPk: hex(a.node.identity.x25519Public), dstIp: b.node.identity.addressText, dstPk: hex(b.node.identity.x25519Public), payload: 'tea time' });

  const noReply = await hyphaInProcess(['message', 'send', '--api-addr', b.apiAddr, a.node.identity.addressText, 'hello?', '--wait', '--timeout', '1']);
  assert.equal(noReply.code, 1);
  assert.match(noReply.stderr, /^hypha message send: no reply within 1 s; message [0-9a-f]{16} is still being delivered\n$/);
});

test('usage errors exit 2 and say what is wrong; an unreachable node exits 1', async () => {
  const api = ['--api-addr', '127.0.0.1:1'];
  const cases: [string[], RegExp][] = [
    [['message', 'send', ...api, 'nonsense', 'x'], /"nonsense" is not an IPv6 address \(DEST is an overlay IPv6 address in 400::\/7 or a 64-hex public key\)/],
    [['message', 'send', ...api, '2001:db8::1', 'x'], /not an overlay address/],
    [['message', 'send', ...api, 'zz'.repeat(32), 'x'], /public key must be 64 hex characters/],
    [['message', 'send', ...api, '400::1'], /give the message as an argument after DEST, or in a file with --msg-path/],
    [['message', 'send', ...api, '400::1', 'x', '--wait', '--reply-to', '0123456789abcdef'], /--wait and --reply-to cannot be combined/],
    [['message', 'send', ...api, '400::1', 'x', '--reply-to', 'nope'], /--reply-to: message id must be 16 hex characters/],
    [['message', 'send', ...api, '400::1', 'x', '--wait', '--timeout', 'soon'], /--timeout must be a number of seconds/],
    [['message', 'send', ...api, '400::1', 'x', '--deadline', '0'], /--deadline must be a number of seconds/],
    [['message', 'send', ...api, '400::1', 'x', '-t', 'x'.repeat(256)], /the topic is 256 bytes; at most 255/],
    [['message', 'send', ...api, '400::1', '--msg-path', '/nonexistent/file'], /cannot read --msg-path \/nonexistent\/file/],
    [['message', 'receive', ...api, '--timeout', '-3'], /--timeout must be a number of seconds ≥ 0/],
  ];
  for (const [args, message] of cases) {
    const r = await hyphaInProcess(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const down = await hyphaInProcess(['message', 'send', ...api, '400::1', 'x']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach the Hypha API at http:\/\/127\.0\.0\.1:1: connection refused/);
});
