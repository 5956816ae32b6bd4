// OpenSSH encodings of the node's Ed25519 key: the `ssh-ed25519 AAAA…` line of identity/node.pub (and of
// authorized_keys), and the `SHA256:…` host-key fingerprint an SSH client shows. Also the unencrypted OpenSSH private key form ssh2 wants for the host key. Pure functions, no I/O.
import { createHash, randomBytes } from 'node:crypto';
import { err, ok, type Result, type DecodeError } from '../base/result.ts';
import { ed25519PublicFromSeed } from '../crypto/ed25519.ts';

export const SSH_ED25519 = 'ssh-ed25519';
const ED25519_PUBLIC_BYTES = 32;
/** An ssh-ed25519 blob is string(type) || string(key): 4 + 11 + 4 + 32 bytes. */
const SSH_ED25519_BLOB_BYTES = 4 + SSH_ED25519.length + 4 + ED25519_PUBLIC_BYTES;
/** Longer lines are not an ssh-ed25519 key whatever they hold; refuse before decoding anything. */
const MAX_PUBLIC_KEY_LINE_CHARS = 8192;

function sshString(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** The SSH wire encoding of an Ed25519 public key (RFC 8709 §4): what fingerprints and signatures cover. */
export function sshPublicKeyBlob(ed25519Public: Uint8Array): Uint8Array {
  if (ed25519Public.length !== ED25519_PUBLIC_BYTES) {
    throw new RangeError(`Ed25519 public key must be 32 bytes, got ${ed25519Public.length}`);
  }
  return new Uint8Array(Buffer.concat([sshString(Buffer.from(SSH_ED25519)), sshString(ed25519Public)]));
}

/** `ssh-ed25519 <base64>\n`, no comment: byte for byte what Go's ssh.MarshalAuthorizedKey writes. */
export function formatOpenSshPublicKey(ed25519Public: Uint8Array): string {
  return `${SSH_ED25519} ${Buffer.from(sshPublicKeyBlob(ed25519Public)).toString('base64')}\n`;
}

/** OpenSSH's fingerprint of any public key blob: `SHA256:` + unpadded base64 of SHA-256 over it. */
export function sshBlobFingerprint(publicBlob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The host-key fingerprint an SSH client shows for the node's Ed25519 key. */
export function sshFingerprint(ed25519Public: Uint8Array): string {
  return sshBlobFingerprint(sshPublicKeyBlob(ed25519Public));
}

const OPENSSH_PRIVATE_MAGIC = 'openssh-key-v1\0';
/** The "none" cipher pads the private section to this block size. */
const NONE_CIPHER_BLOCK_BYTES = 8;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/**
 * Unencrypted OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`) for an Ed25519 seed: ssh2
 * accepts Ed25519 host keys only in this form, not as PKCS#8. Layout per OpenSSH's PROTOCOL.key: magic,
 * cipher "none", kdf "none", empty kdf options, one key, the public blob, then the private section (two
 * equal check words, key type, pub, seed‖pub, comment, padding 1, 2, 3… to the cipher block size).
 */
export function ed25519OpenSshPrivateKey(seed: Uint8Array, comment = ''): Buffer {
  if (seed.length !== 32) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const pub = ed25519PublicFromSeed(seed);
  const check = randomBytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString(Buffer.from(SSH_ED25519)),
    sshString(pub),
    sshString(Buffer.concat([Buffer.from(seed), Buffer.from(pub)])),
    sshString(Buffer.from(comment, 'utf8')),
  ]);
  const padLen = (NONE_CIPHER_BLOCK_BYTES - (priv.length % NONE_CIPHER_BLOCK_BYTES)) % NONE_CIPHER_BLOCK_BYTES;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: padLen }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from(OPENSSH_PRIVATE_MAGIC, 'latin1'),
    sshString(Buffer.from('none')),
    sshString(Buffer.from('none')),
    sshString(new Uint8Array(0)),
    u32(1),
    sshString(sshPublicKeyBlob(pub)),
    sshString(priv),
  ]);
  const b64 = body.toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '');
  return Buffer.from(`-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`);
}

export interface OpenSshPublicKey {
  ed25519Public: Uint8Array;
  /** Whatever followed the key on the line (often user@host); empty if nothing. */
  comment: string;
}

/**
 * Parses one `ssh-ed25519 AAAA… [comment]` line. Options before the key type (authorized_keys' `from=…`)
 * are not handled here; other key types are refused with a reason naming them.
 */
export function parseOpenSshPublicKey(line: string): Result<OpenSshPublicKey, DecodeError> {
  if (line.length > MAX_PUBLIC_KEY_LINE_CHARS) return err('too-long', `line is ${line.length} characters, not an ssh-ed25519 key`);
  const fields = line.trim().split(/[ \t]+/);
  if (fields.length < 2 || fields[0] === '') return err('malformed', 'expected "ssh-ed25519 <base64 key> [comment]"');
  const [type, b64] = fields;
  if (type !== SSH_ED25519) return err('wrong-type', `key type is "${type.slice(0, 40)}", expected ${SSH_ED25519}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return err('bad-base64', 'key is not valid base64');
  const blob = Buffer.from(b64, 'base64');
  if (blob.length !== SSH_ED25519_BLOB_BYTES) {
    return err('bad-length', `key blob is ${blob.length} bytes, expected ${SSH_ED25519_BLOB_BYTES}`);
  }
  const typeLen = blob.readUInt32BE(0);
  if (typeLen !== SSH_ED25519.length || blob.subarray(4, 4 + typeLen).toString('latin1') !== SSH_ED25519) {
    return err('type-mismatch', 'key blob does not say ssh-ed25519');
  }
  const keyLen = blob.readUInt32BE(4 + typeLen);
  if (keyLen !== ED25519_PUBLIC_BYTES) return err('bad-length', `key is ${keyLen} bytes, expected ${ED25519_PUBLIC_BYTES}`);
  const start = 8 + typeLen;
  return ok({ ed25519Public: new Uint8Array(blob.subarray(start, start + keyLen)), comment: fields.slice(2).join(' ') });
}
