// The node's Ed25519 identity in the SSH encodings the partyline needs: the public key blob and its
// `SHA256:` fingerprint (what `ssh-keygen -l` and known_hosts show), the `ssh-ed25519 AAAA…` line of
// identity/node.pub, and an unencrypted `openssh-key-v1` private key, because ssh2 accepts Ed25519
// host keys only in that form (not as PKCS#8 PEM).
import { createHash, randomBytes } from 'node:crypto';
import { ed25519PublicFromSeed } from '../crypto/ed25519.ts';

const ED25519_KEY_TYPE = 'ssh-ed25519';
const OPENSSH_MAGIC = 'openssh-key-v1\0';
/** The "none" cipher pads the private section to this block size. */
const NONE_CIPHER_BLOCK_BYTES = 8;

/** SSH wire `string`: u32 BE length, then the bytes. */
function sshString(data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** The SSH public key blob of an Ed25519 key: string "ssh-ed25519", string pub[32]. */
export function ed25519SshPublicBlob(ed25519Public: Uint8Array): Buffer {
  if (ed25519Public.length !== 32) throw new RangeError(`Ed25519 public key must be 32 bytes, got ${ed25519Public.length}`);
  return Buffer.concat([sshString(ED25519_KEY_TYPE), sshString(ed25519Public)]);
}

/** OpenSSH fingerprint of any public key blob: `SHA256:` + unpadded base64 of SHA-256(blob). */
export function sshFingerprint(publicBlob: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '');
}

/** The authorized_keys / node.pub line, `ssh-ed25519 AAAA…` (no comment unless given). */
export function ed25519AuthorizedKeyLine(ed25519Public: Uint8Array, comment = ''): string {
  const line = `${ED25519_KEY_TYPE} ${ed25519SshPublicBlob(ed25519Public).toString('base64')}`;
  return comment === '' ? line : `${line} ${comment}`;
}

/**
 * Unencrypted OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`) for an Ed25519 seed.
 * Layout per OpenSSH's PROTOCOL.key: magic, cipher "none", kdf "none", empty kdf options, one key,
 * the public blob, then the private section (two equal check words, key type, pub, seed‖pub, comment,
 * padding 1, 2, 3… to the cipher block size).
 */
export function ed25519OpenSshPrivateKey(seed: Uint8Array, comment = ''): Buffer {
  if (seed.length !== 32) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const pub = ed25519PublicFromSeed(seed);
  const check = randomBytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString(ED25519_KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([Buffer.from(seed), Buffer.from(pub)])),
    sshString(comment),
  ]);
  const padLen = (NONE_CIPHER_BLOCK_BYTES - (priv.length % NONE_CIPHER_BLOCK_BYTES)) % NONE_CIPHER_BLOCK_BYTES;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: padLen }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from(OPENSSH_MAGIC, 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    u32(1),
    sshString(ed25519SshPublicBlob(pub)),
    sshString(priv),
  ]);
  const b64 = body.toString('base64').replace(/(.{70})/g, '$1\n');
  return Buffer.from(`-----BEGIN OPENSSH PRIVATE KEY-----\n${b64.replace(/\n$/, '')}\n-----END OPENSSH PRIVATE KEY-----\n`);
}
