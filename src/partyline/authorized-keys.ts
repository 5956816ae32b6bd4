// `<data_dir>/authorized_keys`: who may open the partyline. OpenSSH format, one key a line:
//   [options] keytype base64-blob [comment]
// Options (from="…", no-pty, …) are accepted and ignored, as Micelio ignores them. Unlike Micelio,
// which stops reading at the first line it cannot parse and reads the file once, every valid line
// counts (a bad one is skipped with a WARN naming its line number) and the file is re-read when it
// changes, including when it appears after the node started.
import { createPublicKey } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { err, ok, type Result } from '../base/result.ts';
import { sshBlobFingerprint } from '../identity/openssh.ts';

/** Longest line considered (a 16384-bit RSA key is about 2.8 KB of base64). */
export const MAX_LINE_BYTES = 16 * 1024;
/** Bytes of the file read; the rest is ignored with a WARN. */
export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_KEYS = 10_000;
export const DEFAULT_RELOAD_DEBOUNCE_MS = 250;
/** Safety net for filesystems where change notification does not work (network mounts, some containers). */
export const DEFAULT_POLL_INTERVAL_MS = 10_000;
/** OpenSSH refuses RSA moduli below this. */
const MIN_RSA_BITS = 1024;

const ECDSA_CURVES: Record<string, { name: string; jwkCrv: string; coordBytes: number }> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', jwkCrv: 'P-256', coordBytes: 32 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', jwkCrv: 'P-384', coordBytes: 48 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', jwkCrv: 'P-521', coordBytes: 66 },
};
const SUPPORTED_TYPES = new Set(['ssh-ed25519', 'ssh-rsa', ...Object.keys(ECDSA_CURVES)]);

export interface AuthorizedKey {
  /** Key type, e.g. "ssh-ed25519". */
  readonly type: string;
  /** The SSH public key blob (what a client presents). */
  readonly blob: Buffer;
  readonly comment: string;
  /** Options as written (ignored). */
  readonly options: string;
  /** 1-based line number in the file. */
  readonly line: number;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** Checks a client's signature with this key. */
  verify(data: Buffer, signature: Buffer, hashAlgo?: string): boolean;
}

export interface AuthorizedKeysParse {
  keys: AuthorizedKey[];
  /** Lines skipped, with why. */
  skipped: { line: number; reason: string }[];
}

/** One line: a key, null for a blank or comment line, or why it is not usable. Never throws. */
export function parseAuthorizedKeyLine(text: string, lineNumber = 1): Result<AuthorizedKey | null> {
  try {
    return parseLine(text, lineNumber);
  } catch (e) {
    return err('invalid', `unparsable line (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** A whole file. Never throws. */
export function parseAuthorizedKeys(text: string): AuthorizedKeysParse {
  const keys: AuthorizedKey[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const r = parseAuthorizedKeyLine(lines[i], i + 1);
    if (!r.ok) skipped.push({ line: i + 1, reason: r.error.message });
    else if (r.value !== null) {
      if (keys.length >= MAX_KEYS) {
        skipped.push({ line: i + 1, reason: `more than ${MAX_KEYS} keys` });
        continue;
      }
      keys.push(r.value);
    }
  }
  return { keys, skipped };
}

function parseLine(raw: string, lineNumber: number): Result<AuthorizedKey | null> {
  if (raw.length > MAX_LINE_BYTES) return err('too-long', `line longer than ${MAX_LINE_BYTES} bytes`);
  const line = raw.replace(/\r$/, '').trim();
  if (line === '' || line.startsWith('#')) return ok(null);

  let rest = line;
  let options = '';
  if (!looksLikeKeyType(firstToken(rest))) {
    const o = splitOptions(rest);
    if (!o.ok) return o;
    options = o.value.options;
    rest = o.value.rest.trimStart();
  }
  const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(rest);
  if (m === null) return err('missing-key', 'expected "keytype base64 [comment]"');
  const [, type, b64, comment = ''] = m;
  if (!SUPPORTED_TYPES.has(type)) {
    return err('unsupported-type', `unsupported key type ${JSON.stringify(type.slice(0, 64))}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return err('bad-base64', 'key is not valid base64');
  const blob = Buffer.from(b64, 'base64');
  if (blob.toString('base64') !== b64) return err('bad-base64', 'key is not valid base64');
  const checked = checkBlob(type, blob);
  if (!checked.ok) return checked;
  // ssh2 builds the verifier (it turns the client's SSH signature into what node:crypto checks).
  const parsed = ssh2.utils.parseKey(`${type} ${b64}`);
  if (parsed instanceof Error) return err('invalid-key', `key rejected: ${parsed.message}`);
  const key: ParsedKey = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined) return err('invalid-key', 'key rejected');
  return ok({
    type,
    blob,
    comment: comment.trim(),
    options,
    line: lineNumber,
    fingerprint: sshBlobFingerprint(blob),
    verify: (data: Buffer, signature: Buffer, hashAlgo?: string) => {
      try {
        return key.verify(data, signature, hashAlgo) === true;
      } catch {
        return false;
      }
    },
  });
}

function firstToken(s: string): string {
  const m = /^\S+/.exec(s);
  return m ? m[0] : '';
}

function looksLikeKeyType(token: string): boolean {
  return /^(ssh-|ecdsa-sha2-|sk-)/.test(token) || SUPPORTED_TYPES.has(token);
}

/** Options run to the first whitespace outside double quotes; `\"` escapes a quote. */
function splitOptions(s: string): Result<{ options: string; rest: string }> {
  let inQuote = false;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && inQuote && s[i + 1] === '"') {
      i++;
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    else if (!inQuote && (c === ' ' || c === '\t')) break;
  }
  if (inQuote) return err('bad-options', 'unterminated quote in options');
  const options = s.slice(0, i);
  if (!/^[A-Za-z0-9-]+(=("([^"\\]|\\.)*"|[^,\s]*))?(,[A-Za-z0-9-]+(=("([^"\\]|\\.)*"|[^,\s]*))?)*$/.test(options)) {
    return err('bad-options', `not a key type or an option list: ${JSON.stringify(options.slice(0, 40))}`);
  }
  return ok({ options, rest: s.slice(i) });
}

/** Reads SSH wire strings off a blob, bounds-checked. */
class BlobReader {
  private pos = 0;
  private readonly b: Buffer;
  constructor(b: Buffer) {
    this.b = b;
  }
  string(): Buffer | undefined {
    if (this.pos + 4 > this.b.length) return undefined;
    const len = this.b.readUInt32BE(this.pos);
    if (len > this.b.length - this.pos - 4) return undefined;
    const out = this.b.subarray(this.pos + 4, this.pos + 4 + len);
    this.pos += 4 + len;
    return out;
  }
  get done(): boolean {
    return this.pos === this.b.length;
  }
}

/** The blob must be exactly what its type says, and a usable key (OpenSSL checks the curve point). */
function checkBlob(type: string, blob: Buffer): Result<true> {
  const r = new BlobReader(blob);
  const inner = r.string();
  if (inner === undefined || inner.toString('latin1') !== type) {
    return err('type-mismatch', `key data is not a ${type} key`);
  }
  const bad = (what: string) => err('invalid-key', `malformed ${type} key: ${what}`);
  if (type === 'ssh-ed25519') {
    const pub = r.string();
    if (pub === undefined || pub.length !== 32 || !r.done) return bad('expected a 32-byte public key');
    return ok(true);
  }
  if (type === 'ssh-rsa') {
    const e = r.string();
    const n = r.string();
    if (e === undefined || n === undefined || !r.done || e.length === 0 || n.length === 0) return bad('expected e and n');
    const nBits = (n.length - (n[0] === 0 ? 1 : 0)) * 8;
    if (nBits < MIN_RSA_BITS) return bad(`modulus shorter than ${MIN_RSA_BITS} bits`);
    try {
      createPublicKey({ key: { kty: 'RSA', n: stripZero(n).toString('base64url'), e: stripZero(e).toString('base64url') }, format: 'jwk' });
    } catch {
      return bad('not a valid RSA key');
    }
    return ok(true);
  }
  const curve = ECDSA_CURVES[type];
  const name = r.string();
  const q = r.string();
  if (name === undefined || q === undefined || !r.done) return bad('expected curve and point');
  if (name.toString('latin1') !== curve.name) return bad(`curve ${JSON.stringify(name.toString('latin1').slice(0, 32))}`);
  if (q.length !== 1 + 2 * curve.coordBytes || q[0] !== 0x04) return bad('expected an uncompressed point');
  try {
    createPublicKey({
      key: {
        kty: 'EC',
        crv: curve.jwkCrv,
        x: q.subarray(1, 1 + curve.coordBytes).toString('base64url'),
        y: q.subarray(1 + curve.coordBytes).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    return bad('point is not on the curve');
  }
  return ok(true);
}

function stripZero(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

export interface AuthorizedKeysOptions {
  path: string;
  clock: Clock;
  logger: Logger;
  /** Quiet time after a change before the file is re-read. */
  debounceMs?: number;
  /** How often the file's metadata is checked besides change notifications; 0 disables. */
  pollIntervalMs?: number;
}

/** The live set of authorized keys, reloaded when the file changes. */
export class AuthorizedKeys {
  readonly path: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private byBlob = new Map<string, AuthorizedKey>();
  private watcher: FSWatcher | undefined;
  private pollTimer: Timer | undefined;
  private debounceTimer: Timer | undefined;
  private lastStamp = '';
  private lastText: string | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private running = false;
  /** Completed loads (tests and stats). */
  loads = 0;

  constructor(opts: AuthorizedKeysOptions) {
    this.path = opts.path;
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'partyline', file: opts.path });
    this.debounceMs = opts.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS;
    this.pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  get size(): number {
    return this.byBlob.size;
  }

  keys(): AuthorizedKey[] {
    return [...this.byBlob.values()];
  }

  /** The authorized key with this public key blob, if any. */
  find(blob: Uint8Array): AuthorizedKey | undefined {
    return this.byBlob.get(Buffer.from(blob).toString('base64'));
  }

  /** Loads the file and starts watching it. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startWatcher();
    if (this.pollIntervalMs > 0) {
      this.pollTimer = this.clock.setInterval(() => void this.poll(), this.pollIntervalMs);
    }
    await this.reload();
  }

  stop(): void {
    this.running = false;
    this.watcher?.close();
    this.watcher = undefined;
    this.pollTimer?.cancel();
    this.debounceTimer?.cancel();
  }

  /** Re-reads the file now; concurrent calls coalesce. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          await this.load();
        } while (this.again);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private startWatcher(): void {
    // The directory is watched, not the file: that sees the file being created, deleted, or replaced
    // by an editor's rename, which a watch on the file itself would lose.
    try {
      const name = basename(this.path);
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.scheduleReload();
      });
      this.watcher.on('error', (e) => {
        this.log.warn({ err: e }, 'authorized_keys watch failed; falling back to polling');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (e) {
      this.log.warn({ err: e }, 'cannot watch authorized_keys directory; relying on polling');
    }
  }

  private scheduleReload(): void {
    if (!this.running) return;
    if (this.debounceTimer === undefined) {
      this.debounceTimer = this.clock.setTimeout(() => void this.reload(), this.debounceMs);
    } else {
      this.debounceTimer.reset();
    }
  }

  private async poll(): Promise<void> {
    if ((await this.stamp()) !== this.lastStamp) this.scheduleReload();
  }

  private async stamp(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private async load(): Promise<void> {
    this.lastStamp = await this.stamp();
    let text: string;
    try {
      const s = await stat(this.path);
      if ((s.mode & 0o022) !== 0) {
        this.log.warn({ mode: (s.mode & 0o777).toString(8) }, 'authorized_keys is writable by group or others');
      }
      const buf = await readFile(this.path);
      if (buf.length > MAX_FILE_BYTES) {
        this.log.warn({ bytes: buf.length, maxBytes: MAX_FILE_BYTES }, 'authorized_keys too large; reading only its beginning');
      }
      text = buf.subarray(0, MAX_FILE_BYTES).toString('utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.log.warn({ err: e }, 'cannot read authorized_keys');
      text = '';
    }
    this.loads++;
    if (text === this.lastText) return;
    const first = this.lastText === undefined;
    this.lastText = text;
    const { keys, skipped } = parseAuthorizedKeys(text);
    for (const s of skipped) this.log.warn({ line: s.line, reason: s.reason }, `authorized_keys line ${s.line} skipped: ${s.reason}`);
    const next = new Map<string, AuthorizedKey>();
    for (const k of keys) next.set(k.blob.toString('base64'), k);
    this.byBlob = next;
    if (next.size === 0) {
      this.log.warn('no authorized keys loaded: every partyline login will be refused');
    } else {
      this.log.info({ keys: next.size, skipped: skipped.length }, first ? 'authorized keys loaded' : 'authorized keys reloaded');
    }
  }
}
