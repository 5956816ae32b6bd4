// The `--topic-config` file, in Mycelium's format (reference §5.4):
//
//   default = "Accept"            # or "Reject"
//   ["example.topic"]
//   subnets = ["503:5478:df06:d79a::/64", "400::1"]
//   forward_socket = "/run/app.sock"
//
// Mycelium also reads a topic given as a bare list of subnets (`"t" = ["400::/7"]`); so does Hypha.
// Where Mycelium ignores a file it cannot parse, Hypha refuses to start and names the line.
import { readFile } from 'node:fs/promises';
import { parse as parseToml, TomlError } from 'smol-toml';
import { MAX_TOPIC_BYTES } from '../wire/mycelium/message.ts';
import { parseCidr, type Cidr } from './cidr.ts';

/** A Unix socket path must fit sockaddr_un.sun_path (108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;
export const MAX_SOURCES_PER_TOPIC = 256;
export const MAX_TOPICS = 1024;
const MAX_TOPIC_FILE_BYTES = 1024 * 1024;

export interface TopicFileEntry {
  topic: Uint8Array;
  sources: Cidr[];
  forwardSocket: string | undefined;
}

export interface TopicFileConfig {
  /** Absent when the file does not set `default`. */
  defaultAccept: boolean | undefined;
  topics: TopicFileEntry[];
}

export class TopicFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicFileError';
  }
}

/** Checks a forward socket path; returns what is wrong, or undefined. */
export function socketPathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'the forward socket path is empty';
  if (path.includes('\0')) return 'the forward socket path contains a NUL character';
  const n = Buffer.byteLength(path, 'utf8');
  if (n > MAX_SOCKET_PATH_BYTES) return `the forward socket path is ${n} bytes; a Unix socket path has at most ${MAX_SOCKET_PATH_BYTES}`;
  return undefined;
}

/** The 1-based line of a table header naming `key`, e.g. `["example.topic"]` or `[t]`. */
function headerLine(lines: string[], key: string): number | undefined {
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*\[\s*([^[\]]+?)\s*\]\s*(#.*)?$/.exec(lines[i]);
    if (!m) continue;
    try {
      const t = parseToml(`${m[1]} = 0`) as Record<string, unknown>;
      if (Object.keys(t)[0] === key) return i + 1;
    } catch {
      // not a header we can read; keep looking
    }
  }
  return undefined;
}

/** The 1-based line where `key = ...` is assigned at the top level, or under a header for `key`. */
function keyLine(lines: string[], key: string): number | undefined {
  const header = headerLine(lines, key);
  if (header !== undefined) return header;
  const quoted = [key, JSON.stringify(key), `'${key}'`];
  for (let i = 0; i < lines.length; i++) {
    const eq = lines[i].indexOf('=');
    if (eq < 0) continue;
    if (quoted.includes(lines[i].slice(0, eq).trim())) return i + 1;
  }
  return undefined;
}

/** The first line at or after `from` containing `needle` (a value inside a topic's table). */
function lineWith(lines: string[], from: number | undefined, needle: string): number | undefined {
  for (let i = (from ?? 1) - 1; i < lines.length; i++) if (lines[i].includes(needle)) return i + 1;
  return from;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'a table';
  return `${typeof v} ${JSON.stringify(String(v))}`;
}

/**
 * Parses the file's text. Throws TopicFileError whose message starts with `<file>:<line>:` wherever a
 * line can be named, and says what is wrong and what was expected.
 */
export function parseTopicFile(text: string, file = 'topic config'): TopicFileConfig {
  const lines = text.split(/\r?\n/);
  function fail(line: number | undefined, msg: string): never {
    throw new TopicFileError(`${file}${line !== undefined ? `:${line}` : ''}: ${msg}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text, { maxDepth: 8 }) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const what = e.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      fail(e.line, `TOML syntax error (column ${e.column}): ${what}`);
    }
    fail(undefined, `cannot parse as TOML: ${(e as Error).message}`);
  }
  const out: TopicFileConfig = { defaultAccept: undefined, topics: [] };
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'default') {
      const v = typeof value === 'string' ? value.toLowerCase() : undefined;
      if (v !== 'accept' && v !== 'reject') fail(keyLine(lines, key), `default must be "Accept" or "Reject", got ${describe(value)}`);
      out.defaultAccept = v === 'accept';
      continue;
    }
    const at = keyLine(lines, key);
    const topic = new Uint8Array(Buffer.from(key, 'utf8'));
    if (topic.length === 0) fail(at, 'a topic name must not be empty');
    if (topic.length > MAX_TOPIC_BYTES) fail(at, `topic "${key.slice(0, 40)}…" is ${topic.length} bytes; at most ${MAX_TOPIC_BYTES} allowed`);
    let subnetsValue: unknown = [];
    let forwardSocket: string | undefined;
    if (Array.isArray(value)) {
      subnetsValue = value;
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (k === 'subnets') subnetsValue = v;
        else if (k === 'forward_socket') {
          if (typeof v !== 'string') fail(lineWith(lines, at, 'forward_socket'), `topic "${key}": forward_socket must be a path string, got ${describe(v)}`);
          const problem = socketPathProblem(v as string);
          if (problem) fail(lineWith(lines, at, 'forward_socket'), `topic "${key}": ${problem}`);
          forwardSocket = v as string;
        } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          fail(at, `topic "${key}" has a sub-table "${k}": a topic name containing dots must be quoted, as in ["${key}.${k}"]`);
        } else {
          const hint = k === 'subnet' || k === 'sources' ? ' (did you mean subnets?)' : k.startsWith('forward') ? ' (did you mean forward_socket?)' : '';
          fail(lineWith(lines, at, k), `topic "${key}": unknown key "${k}"${hint}; a topic has subnets and forward_socket`);
        }
      }
    } else {
      fail(at, `"${key}" must be a topic table ([${JSON.stringify(key)}] with subnets = [...]) or default = "Accept"/"Reject", got ${describe(value)}`);
    }
    if (!Array.isArray(subnetsValue)) fail(lineWith(lines, at, 'subnets'), `topic "${key}": subnets must be an array of IP addresses or CIDRs, got ${describe(subnetsValue)}`);
    const list = subnetsValue as unknown[];
    if (list.length > MAX_SOURCES_PER_TOPIC) fail(lineWith(lines, at, 'subnets'), `topic "${key}" lists ${list.length} subnets; at most ${MAX_SOURCES_PER_TOPIC} allowed`);
    const sources: Cidr[] = [];
    for (const s of list) {
      if (typeof s !== 'string') {
        fail(lineWith(lines, at, 'subnets'), `topic "${key}": subnets must be strings, got ${describe(s)}`);
        continue;
      }
      const c = parseCidr(s);
      if (!c.ok) fail(lineWith(lines, at, JSON.stringify(s).slice(1, -1)), `topic "${key}": ${c.message}`);
      else sources.push(c.value);
    }
    out.topics.push({ topic, sources, forwardSocket });
  }
  if (out.topics.length > MAX_TOPICS) fail(undefined, `${out.topics.length} topics; at most ${MAX_TOPICS} allowed`);
  return out;
}

/** Reads and parses the file; every failure (missing, unreadable, malformed) is a TopicFileError. */
export async function loadTopicFile(path: string): Promise<TopicFileConfig> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new TopicFileError(`${path}: cannot read the topic config file: ${why}`);
  }
  if (buf.length > MAX_TOPIC_FILE_BYTES) throw new TopicFileError(`${path}: ${buf.length} bytes is far too large for a topic config file`);
  return parseTopicFile(buf.toString('utf8'), path);
}
