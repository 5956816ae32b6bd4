import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { fromHex } from '../../src/base/bytes.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import {
  ed25519OpenSshPrivateKey,
  formatOpenSshPublicKey,
  sshFingerprint,
  sshPublicKeyBlob,
} from '../../src/identity/openssh.ts';

interface Vector { name: string; seed: string; ed25519_pub: string; node_pub: string; fingerprint: string }
const vectors = (JSON.parse(readFileSync(new URL('../fixtures/micelio-ssh-host-keys.json', import.meta.url), 'utf8')) as { nodes: Vector[] }).nodes;

test('host key fingerprint and node.pub line match the Micelio vectors (reference §8)', () => {
  for (const v of vectors) {
    const id = identityFromSeed(fromHex(v.seed) as Uint8Array);
    assert.equal(formatOpenSshPublicKey(id.ed25519Public), v.node_pub + '\n', v.name);
    assert.equal(sshFingerprint(id.ed25519Public), v.fingerprint, v.name);
  }
});

test('the openssh-key-v1 private key is accepted by ssh2 and carries the node key', () => {
  for (const v of vectors) {
    const id = identityFromSeed(fromHex(v.seed) as Uint8Array);
    const parsed = ssh2.utils.parseKey(ed25519OpenSshPrivateKey(id.seed, 'node'));
    assert.ok(!(parsed instanceof Error), String(parsed));
    const key = parsed as ssh2.ParsedKey;
    assert.equal(key.type, 'ssh-ed25519');
    assert.ok(key.isPrivateKey());
    assert.deepEqual(new Uint8Array(key.getPublicSSH()), sshPublicKeyBlob(id.ed25519Public));
    // It signs as the node: the signature verifies with the public key alone.
    const data = Buffer.from('partyline');
    const sig = key.sign(data) as Buffer;
    const pub = ssh2.utils.parseKey(v.node_pub) as ssh2.ParsedKey;
    assert.equal(pub.verify(data, sig), true);
  }
});
