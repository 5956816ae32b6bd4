import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  formatPrivateKeyPem,
  identityPaths,
  IdentityFileError,
  loadIdentity,
  loadOrCreateIdentity,
  parsePrivateKeyPem,
} from '../../src/identity/files.ts';
import { formatOpenSshPublicKey, parseOpenSshPublicKey, sshFingerprint } from '../../src/identity/openssh.ts';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import vectors from '../fixtures/micelio-identities.json' with { type: 'json' };

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-id-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

test('node.key PEM, node.pub line and SSH fingerprint match the Micelio vectors byte for byte', () => {
  for (const v of vectors) {
    const seed = fromHex(v.seed)!;
    const pub = fromHex(v.ed25519Public)!;
    assert.equal(formatPrivateKeyPem(seed), v.nodeKey, `node.key ${v.name}`);
    assert.equal(formatOpenSshPublicKey(pub), v.nodePub, `node.pub ${v.name}`);
    assert.equal(sshFingerprint(pub), v.sshFingerprint, `fingerprint ${v.name}`);
    const parsed = parsePrivateKeyPem(v.nodeKey);
    assert.ok(parsed.ok);
    assert.equal(toHex(parsed.value), v.seed);
    const line = parseOpenSshPublicKey(v.nodePub);
    assert.ok(line.ok);
    assert.equal(toHex(line.value.ed25519Public), v.ed25519Public);
    assert.equal(line.value.comment, '');
  }
});

test('an existing Micelio data dir loads unchanged', async (t) => {
  for (const v of vectors) {
    const dir = await tempDir(t);
    const paths = identityPaths(dir);
    await mkdir(paths.dir, { mode: 0o700 });
    await writeFile(paths.keyPath, v.nodeKey, { mode: 0o600 });
    await writeFile(paths.pubPath, v.nodePub, { mode: 0o644 });
    const loaded = await loadOrCreateIdentity(dir);
    assert.equal(loaded.created, false);
    assert.deepEqual(loaded.warnings, []);
    assert.equal(loaded.identity.nodeId, v.nodeId);
    assert.equal(toHex(loaded.identity.x25519Public), v.x25519Public);
    // Nothing was rewritten.
    assert.equal(await readFile(paths.keyPath, 'utf8'), v.nodeKey);
    assert.equal(await readFile(paths.pubPath, 'utf8'), v.nodePub);
    assert.equal((await loadIdentity(dir)).nodeId, v.nodeId);
  }
});

test('a fresh data dir gets a new identity with Micelio file modes, and reloads to the same one', async (t) => {
  const base = await tempDir(t);
  const dir = join(base, 'nested', 'data');
  const created = await loadOrCreateIdentity(dir);
  assert.equal(created.created, true);
  const { paths } = created;
  assert.equal(await mode(paths.dir), 0o700);
  assert.equal(await mode(paths.keyPath), 0o600);
  assert.equal(await mode(paths.pubPath), 0o644);
  assert.equal(await mode(dir), 0o700);
  const pem = await readFile(paths.keyPath, 'utf8');
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI[A-Za-z0-9+/]{43}=?\n-----END PRIVATE KEY-----\n$/);
  assert.equal(await readFile(paths.pubPath, 'utf8'), formatOpenSshPublicKey(created.identity.ed25519Public));
  const again = await loadOrCreateIdentity(dir);
  assert.equal(again.created, false);
  assert.equal(again.identity.nodeId, created.identity.nodeId);
  assert.equal(again.identity.addressText, created.identity.addressText);
});

test('a given seed is used for a new identity only', async (t) => {
  const dir = await tempDir(t);
  const a = vectors[0];
  const made = await loadOrCreateIdentity(dir, { seed: fromHex(a.seed)! });
  assert.equal(made.identity.nodeId, a.nodeId);
  assert.equal(await readFile(made.paths.keyPath, 'utf8'), a.nodeKey);
  assert.equal(await readFile(made.paths.pubPath, 'utf8'), a.nodePub);
  const kept = await loadOrCreateIdentity(dir, { seed: fromHex(vectors[1].seed)! });
  assert.equal(kept.identity.nodeId, a.nodeId);
});

test('a missing or stale node.pub is rewritten from node.key, with a warning', async (t) => {
  const dir = await tempDir(t);
  const [a, b] = vectors;
  const paths = identityPaths(dir);
  await mkdir(paths.dir, { recursive: true });
  await writeFile(paths.keyPath, a.nodeKey, { mode: 0o600 });
  const first = await loadOrCreateIdentity(dir);
  assert.equal(await readFile(paths.pubPath, 'utf8'), a.nodePub);
  assert.deepEqual(first.warnings, []);
  await writeFile(paths.pubPath, b.nodePub);
  const second = await loadOrCreateIdentity(dir);
  assert.equal(await readFile(paths.pubPath, 'utf8'), a.nodePub);
  assert.match(second.warnings.join('\n'), /did not match node\.key/);
  // A comment after the right key is the user's business: left alone.
  await writeFile(paths.pubPath, a.nodePub.trimEnd() + ' me@host\n');
  const third = await loadOrCreateIdentity(dir);
  assert.deepEqual(third.warnings, []);
});

test('a node.key readable by others loads, with a warning naming the fix', async (t) => {
  const dir = await tempDir(t);
  await loadOrCreateIdentity(dir);
  const { keyPath } = identityPaths(dir);
  await chmod(keyPath, 0o644);
  const loaded = await loadOrCreateIdentity(dir);
  assert.match(loaded.warnings.join('\n'), /readable by other users \(mode 644\); run: chmod 600/);
});

async function expectInvalid(t: { after: (fn: () => Promise<void>) => void }, content: string, want: RegExp): Promise<void> {
  const dir = await tempDir(t);
  const paths = identityPaths(dir);
  await mkdir(paths.dir, { recursive: true });
  await writeFile(paths.keyPath, content);
  await assert.rejects(loadOrCreateIdentity(dir), (e: unknown) => {
    assert.ok(e instanceof IdentityFileError);
    assert.equal(e.code, 'invalid');
    assert.match(e.message, want);
    assert.match(e.message, /restore it from a backup, or move it away/);
    return true;
  });
  // The bad key is never replaced behind the user's back.
  assert.equal(await readFile(paths.keyPath, 'utf8'), content);
}

function pemOf(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
}

test('bad key files are refused with a reason and what to do', async (t) => {
  const good = vectors[0].nodeKey;
  await expectInvalid(t, '', /the file is empty/);
  await expectInvalid(t, 'hello world\n', /no PEM block found/);
  await expectInvalid(t, good.replace('-----END PRIVATE KEY-----\n', ''), /no "-----END PRIVATE KEY-----" line/);
  await expectInvalid(t, good.replace('MC4C', 'M!4C'), /not valid base64/);
  // Valid base64 and PEM, but the DER is truncated: not PKCS#8.
  await expectInvalid(t, good.replace('MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f', 'MC4CAQAwBQYDK2VwBCIEIAABAgME'), /is not a PKCS#8 private key/);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  await expectInvalid(t, pemOf('RSA PRIVATE KEY', rsa.export({ format: 'der', type: 'pkcs1' })), /not a PKCS#8 private key \(this is a PKCS#1 RSA key/);
  await expectInvalid(t, pemOf('PRIVATE KEY', rsa.export({ format: 'der', type: 'pkcs8' })), /the key is rsa, not Ed25519/);
  const x = generateKeyPairSync('x25519').privateKey;
  await expectInvalid(t, pemOf('PRIVATE KEY', x.export({ format: 'der', type: 'pkcs8' })), /the key is x25519, not Ed25519/);
  const ed = generateKeyPairSync('ed25519').privateKey;
  const enc = ed.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
  await expectInvalid(t, enc, /encrypted/);
  await expectInvalid(t, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n', /OpenSSH-format key/);
});

test('a key elsewhere in the PEM file, with CRLF line ends, still loads (as Go pem.Decode does)', () => {
  const v = vectors[1];
  const r = parsePrivateKeyPem(`comment line\r\n${v.nodeKey.replace(/\n/g, '\r\n')}trailing`);
  assert.ok(r.ok);
  assert.equal(toHex(r.value), v.seed);
});

test('an unreadable node.key is an error saying so, not a new identity', async (t) => {
  const dir = await tempDir(t);
  const paths = identityPaths(dir);
  // A directory where the key should be fails for root too, unlike a chmod 000 file.
  await mkdir(paths.keyPath, { recursive: true });
  await assert.rejects(loadOrCreateIdentity(dir), (e: unknown) => {
    assert.ok(e instanceof IdentityFileError);
    assert.equal(e.code, 'unreadable');
    assert.match(e.message, /cannot read the node key .*node\.key: it is a directory/);
    return true;
  });
});

test('a node.key without read permission is an error (non-root only)', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root: file permissions do not stop root from reading');
    return;
  }
  const dir = await tempDir(t);
  await loadOrCreateIdentity(dir);
  const { keyPath } = identityPaths(dir);
  await chmod(keyPath, 0o000);
  await assert.rejects(loadOrCreateIdentity(dir), /permission denied/);
});

test('loadIdentity never creates one', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(loadIdentity(dir), (e: unknown) => {
    assert.ok(e instanceof IdentityFileError);
    assert.equal(e.code, 'missing');
    assert.match(e.message, /no node identity in .*run the node once/);
    return true;
  });
  await assert.rejects(stat(identityPaths(dir).dir));
});

test('parsePrivateKeyPem never throws on random or mutated input (property)', () => {
  const good = vectors[0].nodeKey;
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
    parsePrivateKeyPem(s);
  }), { numRuns: 300 });
  fc.assert(fc.property(fc.nat(good.length - 1), fc.integer({ min: 32, max: 126 }), (i, c) => {
    const mutated = good.slice(0, i) + String.fromCharCode(c) + good.slice(i + 1);
    const r = parsePrivateKeyPem(mutated);
    if (!r.ok) assert.ok(r.error.message.length > 0);
  }), { numRuns: 300 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (der) => {
    parsePrivateKeyPem(pemOf('PRIVATE KEY', Buffer.from(der)));
  }), { numRuns: 300 });
});

test('parseOpenSshPublicKey refuses other key types and broken blobs, never throws (property)', () => {
    const r = parseOpenSshPublicKey('ssh-rsa AAAA');
  assert.ok(!r.ok && /ssh-rsa/.test(r.error.message));
  const short = parseOpenSshPublicKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG');
  assert.ok(!short.ok);
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
    parseOpenSshPublicKey(s);
    parseOpenSshPublicKey(`ssh-ed25519 ${s}`);
  }));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    parseOpenSshPublicKey(`ssh-ed25519 ${Buffer.from(b).toString('base64')}`);
  }));
});
