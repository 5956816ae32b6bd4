// Config file + environment + flags → one validated Config. Precedence, lowest first: the table's default,
// the TOML file, the environment variable, the flag. Every problem is collected and reported together,
// each prefixed with its field path; nothing here throws anything but ConfigError.
import { readFile } from 'node:fs/promises';
import { hostname, homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml, TomlDate, TomlError } from 'smol-toml';
import {
  CONFIG_SCHEMA,
  CROSS_CHECKS,
  DATA_DIR_ENV,
  DEFAULT_DATA_DIR,
  isOption,
  listOptions,
  type Config,
  type ConfigOf,
  type CrossCheck,
  type OptionSpec,
  type SchemaSection,
} from './schema.ts';
import type { ConfigContext, Parsed } from './types.ts';

export const CONFIG_FILE_NAME = 'config.toml';
/** A config file is a few hundred bytes; refuse to read anything absurd. */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Deeper TOML nesting than this is never a Hypha config; it also keeps the parser's recursion shallow. */
const MAX_TOML_DEPTH = 16;

export interface ConfigIssue {
  /** Field path: "network.bootstrap[1]", or the file for syntax errors. */
  path: string;
  /** Where the bad value came from when not the file: "--max-peers", "HYPHA_LOG_LEVEL". */
  source?: string;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.path}${i.source ? ` (${i.source})` : ''}: ${i.message}`;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  /** The config file involved, if any. */
  readonly file: string | undefined;
  constructor(issues: readonly ConfigIssue[], file?: string) {
    const head = `invalid configuration${file ? ` (${file})` : ''}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`;
    super([head, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
    this.file = file;
  }
}

export type FlagValue = string | readonly string[] | boolean;

export interface ConfigSources {
  /** The config file's path (for messages) and text; omitted = no file. */
  file?: { path: string; text: string };
  /** Values from the command line by option path ("network.listen"), as given there. */
  flags?: Readonly<Record<string, FlagValue | undefined>>;
  /** Environment variables; only those named in the schema are read. */
  env?: Readonly<Record<string, string | undefined>>;
  context?: ConfigContext;
}

export function systemContext(): ConfigContext {
  let name = '';
  try {
    name = hostname();
  } catch {
    // No host name: the node name falls back to "hypha".
  }
  return { homeDir: homedir(), hostname: name };
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TomlDate);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** A known path close to an unknown one: a typo in the same section, or the same key in another section. */
function suggest(unknownPath: string, schema: SchemaSection): string | undefined {
  const known = [...listOptions(schema).map((o) => o.path), ...Object.keys(schema).filter((k) => !isOption(schema[k]))];
  const leaf = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    let score = editDistance(unknownPath.toLowerCase(), k);
    if (leaf(k) === leaf(unknownPath).toLowerCase().replace(/-/g, '_')) score = Math.min(score, 1.5);
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return bestScore <= Math.max(2, Math.floor(unknownPath.length / 4)) ? best : undefined;
}

/** Walks the parsed file: collects the value of each known option and reports every unknown key. */
function collectFileValues(table: Record<string, unknown>, schema: SchemaSection, root: SchemaSection, prefix: string,
  values: Map<string, unknown>, issues: ConfigIssue[]): void {
  for (const [key, value] of Object.entries(table)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (spec === undefined) {
      const hint = suggest(path, root);
      const what = isTable(value) ? 'unknown section' : 'unknown key';
      issues.push({ path, message: `${what}${hint ? ` (did you mean ${hint}?)` : ''}` });
    } else if (isOption(spec)) {
      values.set(path, value);
    } else if (!isTable(value)) {
      issues.push({ path, message: `expected a table ([${path}]), got a value` });
    } else {
      collectFileValues(value, spec, root, path, values, issues);
    }
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let obj = target;
  for (const p of parts.slice(0, -1)) {
    obj[p] ??= {};
    obj = obj[p] as Record<string, unknown>;
  }
  obj[parts[parts.length - 1]] = value;
}

function parseFile(file: { path: string; text: string }, issues: ConfigIssue[]): Record<string, unknown> | undefined {
  try {
    return parseToml(file.text, { maxDepth: MAX_TOML_DEPTH, integersAsBigInt: 'asNeeded' }) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const what = e.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      issues.push({ path: `${file.path}:${e.line}:${e.column}`, message: `TOML syntax error: ${what}` });
    } else {
      issues.push({ path: file.path, message: `cannot parse as TOML: ${e instanceof Error ? e.message : String(e)}` });
    }
    return undefined;
  }
}

function valueOf(spec: OptionSpec<unknown>, path: string, sources: ConfigSources, fileValues: Map<string, unknown>, ctx: ConfigContext):
  { parsed: Parsed<unknown>; source?: string } {
  const flag = sources.flags?.[path];
  if (flag !== undefined) return { parsed: spec.type.fromText(flag, ctx), source: spec.flag ? `--${spec.flag}` : 'flag' };
  const envValue = spec.env ? sources.env?.[spec.env] : undefined;
  if (spec.env && envValue !== undefined && envValue !== '') return { parsed: spec.type.fromText(envValue, ctx), source: spec.env };
  if (fileValues.has(path)) return { parsed: spec.type.fromToml(fileValues.get(path), ctx) };
  const def = typeof spec.default === 'function' ? (spec.default as (c: ConfigContext) => unknown)(ctx) : spec.default;
  return { parsed: spec.type.fromToml(def, ctx), source: 'default' };
}

/**
 * Builds the typed config of `schema` from its sources, or throws one ConfigError listing every problem.
 * Pure: no file or environment access beyond what `sources` holds.
 */
export function resolveConfig<S extends SchemaSection>(schema: S, sources: ConfigSources, crossChecks: readonly CrossCheck[] = []): ConfigOf<S> {
  const ctx = sources.context ?? systemContext();
  const issues: ConfigIssue[] = [];
  const fileValues = new Map<string, unknown>();
  try {
    if (sources.file) {
      const table = parseFile(sources.file, issues);
      if (table) collectFileValues(table, schema, schema, '', fileValues, issues);
    }
    const known = new Set(listOptions(schema).map((o) => o.path));
    for (const path of Object.keys(sources.flags ?? {})) {
      if (!known.has(path)) issues.push({ path, source: 'flag', message: 'unknown option' });
    }
    const result: Record<string, unknown> = {};
    const failed = new Set<string>();
    for (const { path, spec } of listOptions(schema)) {
      const { parsed, source } = valueOf(spec, path, sources, fileValues, ctx);
      if (parsed.ok) setPath(result, path, parsed.value);
      else {
        failed.add(path);
        for (const p of parsed.problems) issues.push({ path: `${path}${p.at ?? ''}`, source, message: p.message });
      }
    }
    for (const cc of crossChecks) {
      if (cc.paths.some((p) => failed.has(p))) continue;
      const problem = cc.check(result as unknown as Config);
      if (problem) issues.push(problem);
    }
    if (issues.length > 0) throw new ConfigError(issues, sources.file?.path);
    return result as ConfigOf<S>;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // A bug here must still surface as a configuration failure the CLI reports, never as a crash.
    throw new ConfigError([...issues, { path: '(config)', message: `internal error: ${e instanceof Error ? e.message : String(e)}` }], sources.file?.path);
  }
}

/** The Hypha configuration from its sources (see resolveConfig). */
export function buildConfig(sources: ConfigSources): Config {
  return resolveConfig(CONFIG_SCHEMA, sources, CROSS_CHECKS);
}

export interface LoadConfigOptions {
  /** --config: a file that must exist. Without it, <data_dir>/config.toml is read if present. */
  configPath?: string;
  flags?: ConfigSources['flags'];
  env?: ConfigSources['env'];
  context?: ConfigContext;
}

export interface LoadedConfig {
  config: Config;
  /** The file that was read, or undefined if none. */
  configFile: string | undefined;
}

/**
 * Reads the config file and resolves the config. The default file is looked for in the data dir given by
 * --data-dir or HYPHA_DATA_DIR (else ~/.hypha) — not Micelio's fixed ~/.micelio. An explicit --config that
 * is missing is an error; a missing default file is not.
 */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const ctx = opts.context ?? systemContext();
  const pathSpec = CONFIG_SCHEMA.node.data_dir;
  let configFile: string;
  let explicit = false;
  if (opts.configPath !== undefined) {
    const p = pathSpec.type.fromText(opts.configPath, ctx);
    if (!p.ok) throw new ConfigError([{ path: 'config', source: '--config', message: p.problems[0].message }]);
    configFile = p.value;
    explicit = true;
  } else {
    // An invalid data dir is reported by buildConfig below; the file is then looked for in the default one.
    const raw = opts.flags?.['node.data_dir'] ?? (opts.env?.[DATA_DIR_ENV] || undefined) ?? DEFAULT_DATA_DIR;
    const dir = pathSpec.type.fromText(raw, ctx);
    const fallback = pathSpec.type.fromText(DEFAULT_DATA_DIR, ctx);
    configFile = join(dir.ok ? dir.value : fallback.ok ? fallback.value : '.', CONFIG_FILE_NAME);
  }
  let text: string | undefined;
  try {
    const buf = await readFile(configFile);
    if (buf.length > MAX_CONFIG_FILE_BYTES) {
      throw new ConfigError([{ path: configFile, message: `${buf.length} bytes is far too large for a config file` }], configFile);
    }
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' && !explicit) text = undefined;
    else {
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
      throw new ConfigError([{ path: configFile, source: explicit ? '--config' : undefined, message: `cannot read the config file: ${why}` }], configFile);
    }
  }
  const config = buildConfig({
    file: text === undefined ? undefined : { path: configFile, text },
    flags: opts.flags,
    env: opts.env,
    context: ctx,
  });
  return { config, configFile: text === undefined ? undefined : configFile };
}
