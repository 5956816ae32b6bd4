// The identity files in <data_dir>/identity/, in Micelio's formats so an existing Micelio data dir loads
// unchanged (reference §2.7):
//   node.key  PEM "PRIVATE KEY" = PKCS#8 DER (fixed 16-byte prefix + 32-byte Ed25519 seed), mode 0600
//   node.pub  OpenSSH line "ssh-ed25519 AAAA…\n", no comment, mode 0644 (never read back by Micelio)
// Directories are created 0700. Unlike Micelio, files are written atomically (temp file + rename), so a
// crash while creating an identity cannot leave a half-written key behind.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type DecodeError, type Result } from '../base/result.ts';
import { bytesEqual } from '../base/bytes.ts';
import { identityFromSeed, type NodeIdentity } from './identity.ts';
import { formatOpenSshPublicKey, parseOpenSshPublicKey } from './openssh.ts';

export const IDENTITY_DIR_NAME = 'identity';
export const KEY_FILE_NAME = 'node.key';
export const PUB_FILE_NAME = 'node.pub';
export const KEY_FILE_MODE = 0o600;
export const PUB_FILE_MODE = 0o644;
export const DIR_MODE = 0o700;

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SEED_BYTES = 32;
/** A key file is ~120 bytes; anything this large is not one, and is refused before parsing. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
const PEM_LINE_CHARS = 64;

/** `-----BEGIN PRIVATE KEY-----` PEM of the PKCS#8 DER, 64-character lines: what Go's pem.Encode writes. */
export function formatPrivateKeyPem(seed: Uint8Array): string {
  if (seed.length !== ED25519_SEED_BYTES) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const b64 = Buffer.concat([PKCS8_ED25519_PREFIX, seed]).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += PEM_LINE_CHARS) lines.push(b64.slice(i, i + PEM_LINE_CHARS));
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

const HINTS: Record<string, string> = {
  'OPENSSH PRIVATE KEY': 'this is an OpenSSH-format key; Hypha and Micelio need PKCS#8 ("BEGIN PRIVATE KEY")',
  'RSA PRIVATE KEY': 'this is a PKCS#1 RSA key; the node key must be Ed25519 in PKCS#8',
  'EC PRIVATE KEY': 'this is a SEC1 EC key; the node key must be Ed25519 in PKCS#8',
};

/**
 * The Ed25519 seed held by a node.key PEM. Never throws: the error says what is wrong (not PEM, malformed
 * PEM, encrypted, not PKCS#8, not Ed25519). Like Go's pem.Decode, text around the first block is ignored,
 * and the PKCS#8 body is accepted whatever the PEM label says.
 */
export function parsePrivateKeyPem(text: string): Result<Uint8Array, DecodeError> {
  if (text.length > MAX_KEY_FILE_BYTES) return err('too-large', `${text.length} bytes is far too large for a key file`);
  if (text.trim() === '') return err('empty', 'the file is empty');
  const begin = /-----BEGIN ([^\r\n-]{1,64})-----\r?\n/.exec(text);
  if (!begin) return err('not-pem', 'no PEM block found (expected a "-----BEGIN PRIVATE KEY-----" line)');
  const label = begin[1];
  const endMarker = `-----END ${label}-----`;
  const bodyStart = begin.index + begin[0].length;
  const end = text.indexOf(endMarker, bodyStart);
  if (end < 0) return err('malformed-pem', `the PEM block has no "${endMarker}" line (truncated file?)`);
  const body = text.slice(bodyStart, end);
  if (/^[A-Za-z-]+:/m.test(body)) return err('encrypted', 'the PEM block has headers (an encrypted legacy key?); the node key must be unencrypted PKCS#8');
  const b64 = body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    return err('malformed-pem', 'the PEM body is not valid base64');
  }
  if (label === 'ENCRYPTED PRIVATE KEY') return err('encrypted', 'the key is encrypted; the node key must be unencrypted PKCS#8');
  const der = Buffer.from(b64, 'base64');
  let keyType: string | undefined;
  let seedB64: string | undefined;
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    keyType = key.asymmetricKeyType;
    if (keyType === 'ed25519') seedB64 = key.export({ format: 'jwk' }).d;
  } catch {
    const hint = HINTS[label];
    return err('not-pkcs8', `the "${label}" PEM block is not a PKCS#8 private key${hint ? ` (${hint})` : ''}`);
  }
  if (keyType !== 'ed25519') return err('not-ed25519', `the key is ${keyType ?? 'of an unknown type'}, not Ed25519`);
  const seed = seedB64 === undefined ? undefined : Buffer.from(seedB64, 'base64url');
  if (!seed || seed.length !== ED25519_SEED_BYTES) return err('not-ed25519', 'the Ed25519 key does not hold a 32-byte seed');
  return ok(new Uint8Array(seed));
}

export interface IdentityPaths {
  dir: string;
  keyPath: string;
  pubPath: string;
}

export function identityPaths(dataDir: string): IdentityPaths {
  const dir = join(dataDir, IDENTITY_DIR_NAME);
  return { dir, keyPath: join(dir, KEY_FILE_NAME), pubPath: join(dir, PUB_FILE_NAME) };
}

export type IdentityErrorCode = 'missing' | 'unreadable' | 'unwritable' | 'invalid';

/** A problem with the identity files; the message says what is wrong and what to do about it. */
export class IdentityFileError extends Error {
  readonly code: IdentityErrorCode;
  readonly path: string;
  constructor(code: IdentityErrorCode, path: string, message: string) {
    super(message);
    this.name = 'IdentityFileError';
    this.code = code;
    this.path = path;
  }
}

export interface LoadedIdentity {
  identity: NodeIdentity;
  /** True if no node.key existed and a new identity was generated. */
  created: boolean;
  paths: IdentityPaths;
  /** Things worth a WARN that do not stop the node (loose permissions, a stale node.pub rewritten). */
  warnings: string[];
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function describeIoError(e: unknown): string {
  const code = errnoOf(e);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory, not a file';
  if (code === 'ENOTDIR') return 'a parent path is a file, not a directory';
  if (code === 'ENOSPC') return 'no space left on device';
  if (code === 'EROFS') return 'read-only file system';
  return e instanceof Error ? e.message : String(e);
}

async function readKeyFile(keyPath: string): Promise<string | undefined> {
  try {
    const handle = await open(keyPath, 'r');
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: info.isDirectory() ? 'EISDIR' : 'EINVAL' });
      if (info.size > MAX_KEY_FILE_BYTES) {
        throw new IdentityFileError('invalid', keyPath, `${keyPath}: ${info.size} bytes is far too large for a node key; check the path`);
      }
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof IdentityFileError) throw e;
    if (errnoOf(e) === 'ENOENT') return undefined;
    throw new IdentityFileError('unreadable', keyPath,
      `cannot read the node key ${keyPath}: ${describeIoError(e)}; make it a readable file (owner only: chmod 600) or point --data-dir elsewhere`);
  }
}

function decodeKeyOrThrow(keyPath: string, text: string): Uint8Array {
  const seed = parsePrivateKeyPem(text);
  if (!seed.ok) {
    throw new IdentityFileError('invalid', keyPath,
      `invalid node key ${keyPath}: ${seed.error.message}. It must be an unencrypted Ed25519 key in PKCS#8 PEM, as Micelio and Hypha write it; ` +
      'restore it from a backup, or move it away to create a new identity (the node id and overlay address will change)');
  }
  return seed.value;
}

/** Writes a file whole or not at all: temp file, fsync, exact mode (umask aside), rename. */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const handle = await open(tmp, 'w', mode);
    try {
      await handle.writeFile(data);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new IdentityFileError('unwritable', path, `cannot write ${path}: ${describeIoError(e)}; check that the data directory is writable`);
  }
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (e) {
    throw new IdentityFileError('unwritable', dir, `cannot create directory ${dir}: ${describeIoError(e)}; check --data-dir`);
  }
}

async function checkPublicFile(paths: IdentityPaths, identity: NodeIdentity, warnings: string[]): Promise<void> {
  let text: string | undefined;
  try {
    text = await readFile(paths.pubPath, 'utf8');
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') {
      warnings.push(`cannot read ${paths.pubPath} (${describeIoError(e)}); it is informational only, the node key is fine`);
      return;
    }
  }
  if (text !== undefined) {
    const parsed = parseOpenSshPublicKey(text.split('\n')[0] ?? '');
    if (parsed.ok && bytesEqual(parsed.value.ed25519Public, identity.ed25519Public)) return;
    warnings.push(`${paths.pubPath} did not match node.key; rewriting it from the key`);
  }
  // node.pub is derived data: recreating it is always safe, and keeps the SSH fingerprint users see right.
  try {
    await writeFileAtomic(paths.pubPath, formatOpenSshPublicKey(identity.ed25519Public), PUB_FILE_MODE);
  } catch (e) {
    warnings.push(`could not write ${paths.pubPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Loads the node identity from <dataDir>/identity/node.key. Throws IdentityFileError('missing') if there is
 * none: this never creates one (for `hypha inspect`).
 */
export async function loadIdentity(dataDir: string): Promise<NodeIdentity> {
  const paths = identityPaths(dataDir);
  const text = await readKeyFile(paths.keyPath);
  if (text === undefined) {
    throw new IdentityFileError('missing', paths.keyPath,
      `no node identity in ${paths.dir} (${KEY_FILE_NAME} is missing); run the node once (hypha run --data-dir ${dataDir}) to create one`);
  }
  return identityFromSeed(decodeKeyOrThrow(paths.keyPath, text));
}

export interface LoadOrCreateOptions {
  /** Seed for a newly created identity (tests, simulator); random by default. Ignored if a key exists. */
  seed?: Uint8Array;
}

/**
 * Loads <dataDir>/identity/node.key, or generates a new identity and writes node.key and node.pub if there
 * is no key yet. A key that exists but cannot be read or parsed is an error, never silently replaced.
 */
export async function loadOrCreateIdentity(dataDir: string, opts: LoadOrCreateOptions = {}): Promise<LoadedIdentity> {
  const paths = identityPaths(dataDir);
  const warnings: string[] = [];
  const text = await readKeyFile(paths.keyPath);
  if (text !== undefined) {
    const identity = identityFromSeed(decodeKeyOrThrow(paths.keyPath, text));
    const info = await stat(paths.keyPath);
    if ((info.mode & 0o077) !== 0) {
      warnings.push(`${paths.keyPath} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${paths.keyPath}`);
    }
    await checkPublicFile(paths, identity, warnings);
    return { identity, created: false, paths, warnings };
  }
  const seed = opts.seed ?? new Uint8Array(randomBytes(ED25519_SEED_BYTES));
  const identity = identityFromSeed(seed);
  await ensureDir(dataDir);
  await ensureDir(paths.dir);
  // mkdir's mode is only used for new directories and is filtered by the umask; the identity dir must be 0700.
  await chmod(paths.dir, DIR_MODE).catch(() => undefined);
  await writeFileAtomic(paths.keyPath, formatPrivateKeyPem(seed), KEY_FILE_MODE);
  await writeFileAtomic(paths.pubPath, formatOpenSshPublicKey(identity.ed25519Public), PUB_FILE_MODE);
  return { identity, created: true, paths, warnings };
}
