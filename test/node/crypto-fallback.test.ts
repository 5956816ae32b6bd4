// Without the AEAD addon (not built, not loadable, or HYPHA_NATIVE_CRYPTO=0) a node says so in one WARN and
// seals with node:crypto; its Noise links still talk to a node that uses the addon (same bytes on the wire).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aeadBackendNote, NATIVE_CRYPTO_ENV } from '../../src/crypto/aead.ts';
import { spawnHypha, type Running } from '../cli/helpers.ts';

interface LogLine { level: number; msg: string; crypto?: string; listen?: string }

function logLines(p: Running): LogLine[] {
  return p.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
}

function args(dir: string, extra: string[]): string[] {
  return ['run', '--data-dir', dir, '--ssh-listen', '', '--log-format', 'json', '-t', '0', '--disable-peer-discovery', '--no-tun',
    '--api-addr', '', '--jsonrpc-addr', '', ...extra];
}

test('with the addon off, one WARN names node:crypto, and a Noise link to a node using the addon still connects', async (t) => {
  if (aeadBackendNote() !== undefined) return t.skip(`the crypto addon is not available here, nothing to compare: ${aeadBackendNote()}`);
  const base = await mkdtemp(join(tmpdir(), 'hypha-aead-fallback-'));
  t.after(() => rm(base, { recursive: true, force: true }));

  const slow = spawnHypha(args(join(base, 'slow'), ['--listen', '127.0.0.1:0']), { [NATIVE_CRYPTO_ENV]: '0' });
  t.after(() => slow.child.kill('SIGKILL'));
  await slow.waitFor('"msg":"node running"', 30_000);
  const slowLines = logLines(slow);
  const warns = slowLines.filter((l) => l.level === 40 && /node:crypto/.test(l.msg));
  assert.equal(warns.length, 1, slow.stderr());
  assert.match(warns[0].msg, /crypto addon is disabled \(HYPHA_NATIVE_CRYPTO=0 is set\)/);
  const running = slowLines.find((l) => l.msg === 'node running');
  assert.equal(running?.crypto, 'node');
  const listen = String(running?.listen);
  assert.match(listen, /^127\.0\.0\.1:\d+$/);

  const fast = spawnHypha(args(join(base, 'fast'), ['--listen', '', '--bootstrap', listen]));
  t.after(() => fast.child.kill('SIGKILL'));
  await fast.waitFor('"msg":"node running"', 30_000);
  assert.equal(logLines(fast).find((l) => l.msg === 'node running')?.crypto, 'native');
  assert.equal(logLines(fast).filter((l) => /node:crypto/.test(l.msg)).length, 0, fast.stderr());
  // The hello travels in Noise transport messages: connected on both sides means both directions decrypted.
  await fast.waitFor('"msg":"peer connected"', 30_000);
  await slow.waitFor('"msg":"peer connected"', 30_000);

  for (const p of [fast, slow]) {
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0, p.stderr());
  }
});
