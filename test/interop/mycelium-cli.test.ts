// Mycelium's own CLI (the Rust `mycelium peers|routes|stats` commands) against a Hypha node's HTTP API: it
// parses Hypha's JSON with its serde types, so every field name and type must be exactly Mycelium's. Runs when
// MYCELIUM_BIN points at a `mycelium` binary; skips loudly otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';

const BIN = process.env.MYCELIUM_BIN;

function runRustCli(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // HOME in a temp dir: the Rust CLI creates its data dir under it.
    const p = spawn(BIN!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home, RUST_LOG: 'error' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("Mycelium's Rust CLI reads and changes a Hypha node through its API", async (t) => {
  if (BIN === undefined) return t.skip('MYCELIUM_BIN is not set: point it at a mycelium binary (e.g. MYCELIUM_BIN=/work/ref/bin/mycelium) to run this interop test');
  const base = await mkdtemp(join(tmpdir(), 'hypha-rust-cli-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await startOverlayNode(t, base, 'a');
  const b = await startOverlayNode(t, base, 'b', { peers: [a.endpoint] });
  await waitFor(() => b.overlay.router.lookup(a.node.identity.address).kind === 'selected', 'B routes to A', 30_000);
  b.overlay.dataplane.sendMessage(a.node.identity.address, new Uint8Array(10));
  const cli = (...args: string[]) => runRustCli(['--api-addr', b.apiAddr, ...args], base);

  const peers = await cli('peers', 'list', '--json');
  assert.equal(peers.code, 0, peers.stderr);
  assert.deepEqual((JSON.parse(peers.stdout) as { endpoint: unknown }[]).map((p) => p.endpoint), [{ proto: 'tcp', addr: { socket: a.endpoint.slice(6) } }]);
  const table = await cli('peers', 'list');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`\\| Tcp\\s+\\| ${a.endpoint.slice(6).replace(/\./g, '\\.')}\\s+\\| Static\\s+\\| Alive`));

  const selected = await cli('routes', 'selected');
  assert.equal(selected.code, 0, selected.stderr);
  assert.ok(selected.stdout.includes(a.node.identity.addressText.split(':').slice(0, 4).join(':')), selected.stdout);
  for (const sub of [['routes', 'fallback'], ['routes', 'queried'], ['stats', 'packets']]) {
    const r = await cli(...sub);
    assert.equal(r.code, 0, `${sub.join(' ')}: ${r.stderr}`);
  }
  const stats = await cli('stats', 'packets');
  assert.ok(stats.stdout.includes(b.node.identity.addressText), stats.stdout);

  assert.equal((await cli('peers', 'add', 'tcp://127.0.0.1:1')).code, 0);
  assert.ok(b.mycelium.peers().some((p) => p.endpoint.addr.socket === '127.0.0.1:1'));
  assert.equal((await cli('peers', 'remove', 'tcp://127.0.0.1:1')).code, 0);
  assert.ok(!b.mycelium.peers().some((p) => p.endpoint.addr.socket === '127.0.0.1:1'));
  assert.notEqual((await cli('peers', 'remove', 'tcp://127.0.0.1:1')).code, 0, 'a 404 is an error for it too');
});
