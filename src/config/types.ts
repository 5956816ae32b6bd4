// The value types of config keys. Each turns a TOML value (file) or a text value (flag, environment) into
// the typed value the node uses, or into problems that say what is wrong. One type per kind of value, so
// a new key is one table entry that names its type (schema.ts).
import { parseDuration, formatDuration } from './duration.ts';
import { formatHostPort, isWildcardHost, splitHostPort } from './hostport.ts';
import { formatEndpoint, parseEndpoint } from '../link/mycelium-endpoint.ts';

/** One problem with a value; `at` extends the field path, e.g. "[1]" for a list element. */
export interface ValueProblem {
  at?: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: ValueProblem[] };

/** What defaults and paths depend on; injected so tests do not depend on the machine. */
export interface ConfigContext {
  homeDir: string;
  hostname: string;
}

/** How a value is given on the command line. */
export type FlagShape = 'value' | 'list' | 'switch';

export interface ValueType<T> {
  /** Shown in help after the flag: `--listen <host:port>`. */
  readonly placeholder: string;
  readonly flagShape: FlagShape;
  /** A value from the TOML file (or a default, which is written in TOML form). */
  fromToml(value: unknown, ctx: ConfigContext): Parsed<T>;
  /** A value from a flag or an environment variable. */
  fromText(value: string | readonly string[] | boolean, ctx: ConfigContext): Parsed<T>;
}

const good = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string, at?: string): Parsed<T> => ({ ok: false, problems: [{ at, message }] });

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object') return value.constructor?.name === 'TomlDate' ? 'a date' : 'a table';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value === 'number' && Number.isInteger(value) ? 'the integer' : `the ${typeof value}`} ${String(value)}`;
}

/** A flag value given twice or as a list where one is expected: the last one wins, as with most CLIs. */
function single(value: string | readonly string[] | boolean): string {
  if (typeof value === 'boolean') return String(value);
  return typeof value === 'string' ? value : (value[value.length - 1] ?? '');
}

/** Reuses fromToml for text: every scalar type here reads text the same way from both sources. */
function textVia<T>(parseText: (s: string, ctx: ConfigContext) => Parsed<T>) {
  return (value: string | readonly string[] | boolean, ctx: ConfigContext) => parseText(single(value), ctx);
}

export interface StringOptions {
  allowEmpty?: boolean;
  maxLength?: number;
  /** Refuse control characters: the value is shown to people (banner, logs) or sent to peers. */
  printable?: boolean;
  /** Extra check on the value; returns what is wrong. */
  check?: (s: string) => string | undefined;
}

export function stringType(opts: StringOptions = {}, placeholder = '<text>'): ValueType<string> {
  const parse = (s: string): Parsed<string> => {
    if (!opts.allowEmpty && s.trim() === '') return bad('must not be empty');
    if (opts.maxLength !== undefined && s.length > opts.maxLength) return bad(`is ${s.length} characters, at most ${opts.maxLength} allowed`);
    // eslint-disable-next-line no-control-regex
    if (opts.printable && /[\u0000-\u001f\u007f-\u009f]/.test(s)) return bad('must not contain control characters');
    const why = opts.check?.(s);
    return why === undefined ? good(s) : bad(why);
  };
  return {
    placeholder,
    flagShape: 'value',
    fromToml: (v) => (typeof v === 'string' ? parse(v) : bad(`expected a string, got ${describe(v)}`)),
    fromText: textVia(parse),
  };
}

/** A file system path; a leading "~/" (or a lone "~") is the user's home directory. */
export function pathType(opts: { allowEmpty?: boolean } = {}): ValueType<string> {
  const parse = (s: string, ctx: ConfigContext): Parsed<string> => {
    if (s === '') return opts.allowEmpty ? good('') : bad('must not be empty');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000]/.test(s)) return bad('must not contain NUL characters');
    if (s === '~') return good(ctx.homeDir);
    if (s.startsWith('~/')) return good(ctx.homeDir.replace(/\/+$/, '') + s.slice(1));
    return good(s);
  };
  return {
    placeholder: '<path>',
    flagShape: 'value',
    fromToml: (v, ctx) => (typeof v === 'string' ? parse(v, ctx) : bad(`expected a path string, got ${describe(v)}`)),
    fromText: textVia(parse),
  };
}

export function intType(opts: { min?: number; max?: number } = {}): ValueType<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const check = (n: number): Parsed<number> => {
    if (n < min) return bad(`must be at least ${min}, got ${n}`);
    if (n > max) return bad(`must be at most ${max}, got ${n}`);
    return good(n);
  };
  return {
    placeholder: '<n>',
    flagShape: 'value',
    fromToml: (v) => {
      if (typeof v === 'bigint') return bad(`${v} is out of range`);
      if (typeof v !== 'number' || !Number.isInteger(v)) return bad(`expected a whole number, got ${describe(v)}`);
      return check(v);
    },
    fromText: textVia((s) => (/^[-+]?\d{1,16}$/.test(s.trim()) ? check(Number(s.trim())) : bad(`expected a whole number, got ${JSON.stringify(s)}`))),
  };
}

export function boolType(): ValueType<boolean> {
  const fromString = (s: string): Parsed<boolean> => {
    const t = s.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return good(true);
    if (['false', '0', 'no', 'off'].includes(t)) return good(false);
    return bad(`expected true or false, got ${JSON.stringify(s)}`);
  };
  return {
    placeholder: '',
    flagShape: 'switch',
    fromToml: (v) => (typeof v === 'boolean' ? good(v) : bad(`expected true or false, got ${describe(v)}`)),
    fromText: (v) => (typeof v === 'boolean' ? good(v) : fromString(single(v))),
  };
}

export interface DurationOptions {
  /** Smallest allowed value in ms (inclusive). */
  minMs?: number;
  /** Largest allowed value in ms; timers cannot exceed 2^31−1 ms (~24.8 days). */
  maxMs?: number;
  /** Micelio reads 0 as "use the default" for some keys; for those, 0 becomes this value. */
  zeroMeansMs?: number;
}

/** Go-style duration text ("30s", "1m", "500ms", "7d") → milliseconds. */
export function durationType(opts: DurationOptions = {}): ValueType<number> {
  const parse = (s: string): Parsed<number> => {
    const d = parseDuration(s);
    if (!d.ok) return bad(d.error.message);
    let ms = d.value;
    if (ms === 0 && opts.zeroMeansMs !== undefined) ms = opts.zeroMeansMs;
    if (ms < 0) return bad(`must not be negative, got ${s.trim()}`);
    if (opts.minMs !== undefined && ms < opts.minMs) return bad(`must be at least ${formatDuration(opts.minMs)}, got ${s.trim()}`);
    if (opts.maxMs !== undefined && ms > opts.maxMs) return bad(`must be at most ${formatDuration(opts.maxMs)}, got ${s.trim()}`);
    return good(ms);
  };
  return {
    placeholder: '<duration>',
    flagShape: 'value',
    fromToml: (v) => (typeof v === 'string' ? parse(v) : bad(`expected a duration string such as "30s", got ${describe(v)}`)),
    fromText: textVia(parse),
  };
}

/** One of a fixed set of words, case-insensitive; `aliases` map other accepted words onto them. */
export function enumType<const T extends string>(values: readonly T[], aliases: Record<string, T> = {}): ValueType<T> {
  const parse = (s: string): Parsed<T> => {
    const t = s.trim().toLowerCase();
    const hit = values.find((v) => v === t) ?? aliases[t];
    const accepted = [...values, ...Object.keys(aliases)];
    return hit !== undefined ? good(hit) : bad(`must be one of ${accepted.join(', ')}; got ${JSON.stringify(s)}`);
  };
  return {
    placeholder: `<${values.join('|')}>`,
    flagShape: 'value',
    fromToml: (v) => (typeof v === 'string' ? parse(v) : bad(`expected a string, got ${describe(v)}`)),
    fromText: textVia(parse),
  };
}

/**
 * A list of `item`. The file may give an array or, as Mycelium's `peers` allows, a single string. On the
 * command line a list flag may be repeated and each value may hold several items separated by commas.
 */
export function listType<T>(item: ValueType<T>, opts: { maxItems?: number } = {}): ValueType<T[]> {
  const collect = (values: readonly unknown[], parseOne: (v: unknown) => Parsed<T>): Parsed<T[]> => {
    if (opts.maxItems !== undefined && values.length > opts.maxItems) return bad(`has ${values.length} entries, at most ${opts.maxItems} allowed`);
    const out: T[] = [];
    const problems: ValueProblem[] = [];
    values.forEach((v, i) => {
      const r = parseOne(v);
      if (r.ok) out.push(r.value);
      else for (const p of r.problems) problems.push({ at: `[${i}]${p.at ?? ''}`, message: p.message });
    });
    return problems.length > 0 ? { ok: false, problems } : good(out);
  };
  return {
    placeholder: `${item.placeholder}...`,
    flagShape: 'list',
    fromToml: (v, ctx) => {
      if (typeof v === 'string') return collect([v], (x) => item.fromToml(x, ctx));
      if (!Array.isArray(v)) return bad(`expected an array, got ${describe(v)}`);
      return collect(v, (x) => item.fromToml(x, ctx));
    },
    fromText: (v, ctx) => {
      const raw = typeof v === 'boolean' ? [String(v)] : typeof v === 'string' ? [v] : v;
      const items = raw.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
      return collect(items, (x) => item.fromText(x as string, ctx));
    },
  };
}

/**
 * An address to listen on: `host:port` or `[v6]:port`; a wildcard host is fine, and so (unlike Micelio) is
 * an empty one: ":4000" means "0.0.0.0:4000". Port 0 picks a free port. The empty string means "do not listen".
 */
export function listenAddressType(): ValueType<string> {
  const parse = (s: string): Parsed<string> => {
    if (s.trim() === '') return good('');
    const hp = splitHostPort(s);
    if (!hp.ok) return bad(hp.error.message);
    return good(formatHostPort({ host: hp.value.host === '' ? '0.0.0.0' : hp.value.host, port: hp.value.port }));
  };
  return {
    placeholder: '<host:port>',
    flagShape: 'value',
    fromToml: (v) => (typeof v === 'string' ? parse(v) : bad(`expected a "host:port" string, got ${describe(v)}`)),
    fromText: textVia(parse),
  };
}

/**
 * An address other peers dial: `host:port` with a real host (a name or an IP, never a wildcard) and a
 * port from 1. "micelio://host:port" (DESIGN.md's native endpoint syntax) is accepted and stored as
 * host:port. With `allowEmpty`, "" means "not set".
 */
export function peerAddressType(opts: { allowEmpty?: boolean } = {}): ValueType<string> {
  const parse = (raw: string): Parsed<string> => {
    let s = raw.trim();
    if (s === '') return opts.allowEmpty ? good('') : bad('must not be empty');
    if (s.toLowerCase().startsWith('micelio://')) s = s.slice('micelio://'.length).replace(/\/$/, '');
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return bad(`${JSON.stringify(s)}: only micelio:// endpoints (or plain host:port) belong here`);
    const hp = splitHostPort(s);
    if (!hp.ok) return bad(hp.error.message);
    if (hp.value.host === '') return bad(`missing host in ${JSON.stringify(s)}`);
    if (isWildcardHost(hp.value.host)) return bad(`wildcard host not allowed (${JSON.stringify(s)}); give an address other peers can dial`);
    if (hp.value.port === 0) return bad(`port 0 in ${JSON.stringify(s)} cannot be dialled`);
    return good(formatHostPort(hp.value));
  };
  return {
    placeholder: '<host:port>',
    flagShape: 'value',
    fromToml: (v) => (typeof v === 'string' ? parse(v) : bad(`expected a "host:port" string, got ${describe(v)}`)),
    fromText: textVia(parse),
  };
}

/**
 * A Mycelium peer endpoint (reference §2.2): `tcp://IP:PORT`, `tcp://[IPv6]:PORT`, `tls://…` in a private
 * network, or `quic://…`, which is accepted so Mycelium's own example config loads, and skipped by the node with
 * a warning (Hypha has no QUIC). IP literals only, as Mycelium.
 */
export function myceliumEndpointType(): ValueType<string> {
  const parse = (raw: string): Parsed<string> => {
    const e = parseEndpoint(raw.trim());
    return e.ok ? good(formatEndpoint(e.value)) : bad(e.error.message);
  };
  return {
    placeholder: '<endpoint>',
    flagShape: 'value',
    fromToml: (v) => (typeof v === 'string' ? parse(v) : bad(`expected an endpoint string such as "tcp://192.0.2.1:9651", got ${describe(v)}`)),
    fromText: textVia(parse),
  };
}

/** Linux's rules for an interface name (dev_valid_name): 1–15 bytes, not "." or "..", no "/", ":" or whitespace. */
export function interfaceNameType(): ValueType<string> {
  const MAX_IFNAME_BYTES = 15;
  return stringType({
    check: (s) => {
      const bytes = Buffer.byteLength(s, 'utf8');
      if (bytes > MAX_IFNAME_BYTES) return `is ${bytes} bytes; interface names are at most ${MAX_IFNAME_BYTES}`;
      if (s === '.' || s === '..') return 'is not a valid interface name';
      if (/[/:\s]/.test(s)) return 'must not contain "/", ":" or whitespace';
      return undefined;
    },
  }, '<name>');
}
