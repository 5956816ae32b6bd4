// OpenSSH encodings of the node's Ed25519 key: the `ssh-ed25519 AAAA…` line of identity/node.pub (and of
// authorized_keys), and the `SHA256:…` host-key fingerprint an SSH client shows. Pure functions, no I/O.
import { createHash } from 'node:crypto';
import { err, ok, type Result, type DecodeError } from '../base/result.ts';

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

/** OpenSSH's host-key fingerprint: `SHA256:` + unpadded base64 of SHA-256 over the key blob. */
export function sshFingerprint(ed25519Public: Uint8Array): string {
  const digest = createHash('sha256').update(sshPublicKeyBlob(ed25519Public)).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
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
