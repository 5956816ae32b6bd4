import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import ssh2 from 'ssh2';
import { SystemClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { AuthorizedKeys, parseAuthorizedKeyLine, parseAuthorizedKeys } from '../../src/partyline/authorized-keys.ts';
import { waitFor } from './helpers.ts';
import { sshUserKey } from '../helpers/ssh-keys.ts';

const ed = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'alice@laptop' }).public;
const ed2 = sshUserKey().public;
const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }).public;
const p256 = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }).public;
const p384 = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 384 }).public;
const p521 = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 521 }).public;
const edBlob = ed.split(' ')[1];

test('every valid line counts; bad lines are skipped with their line number', () => {
  const text = [
    '# partyline users', // 1
    '', // 2
    ed, // 3
    `from="10.0.0.1,192.168.0.0/16",no-pty,command="echo \\"hi there\\"" ${ed2} with options`, // 4
    'ssh-ed25519 !!!notbase64!!! broken', // 5
    rsa + '\r', // 6 (CRLF file)
    'ssh-dss AAAAB3NzaC1kc3MAAACBAP== old', // 7
    `ssh-ed25519 ${edBlob.slice(0, 40)}`, // 8: truncated key
    p256, // 9
    `ssh-rsa ${edBlob} type says rsa, data says ed25519`, // 10
    p384, // 11
    `ssh-ed25519-cert-v01@openssh.com ${edBlob}`, // 12
    '   ' + p521 + '   ', // 13
    'just some words here', // 14
    'no-pty,"unterminated ssh-ed25519 AAAA', // 15
  ].join('\n');
  const { keys, skipped } = parseAuthorizedKeys(text);
  assert.deepEqual(keys.map((k) => [k.line, k.type]), [
    [3, 'ssh-ed25519'],
    [4, 'ssh-ed25519'],
    [6, 'ssh-rsa'],
    [9, 'ecdsa-sha2-nistp256'],
    [11, 'ecdsa-sha2-nistp384'],
    [13, 'ecdsa-sha2-nistp521'],
  ]);
  assert.deepEqual(skipped.map((s) => s.line), [5, 7, 8, 10, 12, 14, 15]);
  assert.equal(keys[0].comment, 'alice@laptop');
  assert.equal(keys[1].options, 'from="10.0.0.1,192.168.0.0/16",no-pty,command="echo \\"hi there\\""');
  assert.equal(keys[1].comment, 'with options');
  assert.match(keys[0].fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.match(skipped[1].reason, /unsupported key type "ssh-dss"/);
});

test('a parsed key verifies signatures made by its private key', () => {
  const pair = sshUserKey();
  const r = parseAuthorizedKeyLine(pair.public);
  assert.ok(r.ok && r.value);
  const priv = ssh2.utils.parseKey(pair.private) as ssh2.ParsedKey;
  const data = Buffer.from('session id and request');
  assert.equal(r.value.verify(data, priv.sign(data) as Buffer), true);
  assert.equal(r.value.verify(Buffer.from('other'), priv.sign(data) as Buffer), false);
  assert.equal(r.value.verify(data, Buffer.alloc(3)), false);
});

test('random and mutated lines never throw (property)', () => {
  const valid = [ed, ed2, rsa, p256, p384, p521, `no-pty,from="*" ${ed}`];
  const mutated = fc
    .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 3 })), { maxLength: 5 }))
    .map(([line, edits]) => {
      let s = line;
      for (const [at, del, ins] of edits) {
        const i = at % (s.length + 1);
        s = s.slice(0, i) + ins + s.slice(i + (del % 4));
      }
      return s;
    });
  // A valid prefix, then blob bytes changed: exercises the binary parsing behind valid base64.
  const blobMutated = fc.tuple(fc.constantFrom(...valid.slice(0, 6)), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([line, at, x]) => {
    const [type, b64] = line.split(' ');
    const blob = Buffer.from(b64, 'base64');
    blob[at % blob.length] ^= x;
    return `${type} ${blob.subarray(0, blob.length - (x % 3)).toString('base64')}`;
  });
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), mutated, blobMutated), (line) => {
      const r = parseAuthorizedKeyLine(line);
      assert.equal(typeof r.ok, 'boolean');
      // The parser itself handles it: the catch-all safety net is never what answered.
      assert.ok(r.ok || !r.error.message.startsWith('unparsable line'), r.ok ? '' : r.error.message);
      parseAuthorizedKeys(line + '\n' + line);
    }),
    { numRuns: 1500 },
  );
});

test('the file is re-read when it changes, also when created after start; missing or empty refuses everyone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hypha-ak-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'authorized_keys');
  const log = captureLogger();
  const keys = new AuthorizedKeys({ path, clock: new SystemClock(), logger: log.logger, debounceMs: 20, pollIntervalMs: 200 });
  t.after(() => keys.stop());
  await keys.start();
  assert.equal(keys.size, 0);
  assert.ok(log.has('warn', 'no authorized keys loaded'));

  writeFileSync(path, ed + '\n');
  await waitFor(() => keys.size === 1, 'the new file to be loaded');
  assert.ok(keys.find(Buffer.from(edBlob, 'base64')));

  writeFileSync(path, `${ed}\nssh-ed25519 garbage\n${rsa}\n`);
  await waitFor(() => keys.size === 2, 'the edited file to be loaded');
  assert.ok(log.has('warn', 'authorized_keys line 2 skipped'));

  // An editor-style replace (write elsewhere, rename over).
  writeFileSync(join(dir, 'tmp'), ed2 + '\n');
  renameSync(join(dir, 'tmp'), path);
  await waitFor(() => keys.size === 1 && keys.find(Buffer.from(ed2.split(' ')[1], 'base64')) !== undefined, 'the replaced file');

  rmSync(path);
  await waitFor(() => keys.size === 0, 'the deleted file to empty the set');
});
