// Command-line flags generated from the config table: one flag per key that names one, with its help text,
// default and environment variable, and the reverse mapping from parsed flags to config paths. Values stay
// text here; the config loader parses and validates them with the file's values, so all problems are
// reported together.
import { Option, type Command } from 'commander';
import { listOptions, type OptionSpec, type SchemaSection, CONFIG_SCHEMA } from '../config/schema.ts';
import type { FlagValue } from '../config/load.ts';

function defaultText(spec: OptionSpec<unknown>): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  if (d === '' || (Array.isArray(d) && d.length === 0)) return 'none';
  if (Array.isArray(d)) return d.join(', ');
  return String(d);
}

/** The text --help shows for one key: help, default, environment variable and config key. */
export function describeOption(path: string, spec: OptionSpec<unknown>): string {
  const env = spec.env ? `, env ${spec.env}` : '';
  return `${spec.help} (default: ${defaultText(spec)}${env}; config ${path})`;
}

interface FlagBinding {
  path: string;
  option: Option;
  shape: 'value' | 'list' | 'switch';
}

/** Adds a flag for every keyed option of the schema; returns what is needed to read them back. */
export function addConfigFlags(command: Command, schema: SchemaSection = CONFIG_SCHEMA): FlagBinding[] {
  const bindings: FlagBinding[] = [];
  for (const { path, spec } of listOptions(schema)) {
    if (!spec.flag) continue;
    const shape = spec.type.flagShape;
    const short = spec.short ? `-${spec.short}, ` : '';
    const arg = shape === 'switch' ? '' : shape === 'list' ? ` <${spec.type.placeholder.replace(/^<|>\.\.\.$|>$/g, '')}...>` : ` ${spec.type.placeholder}`;
    const option = new Option(`${short}--${spec.flag}${arg}`, describeOption(path, spec));
    command.addOption(option);
    bindings.push({ path, option, shape });
  }
  return bindings;
}

/** The flags the user actually gave, keyed by config path (defaults are the loader's business). */
export function readConfigFlags(command: Command, bindings: readonly FlagBinding[]): Record<string, FlagValue> {
  const out: Record<string, FlagValue> = {};
  for (const b of bindings) {
    const attr = b.option.attributeName();
    if (command.getOptionValueSource(attr) !== 'cli') continue;
    const value = command.getOptionValue(attr) as unknown;
    // A switch's presence is the value; for "--no-x" commander stores false under "x", which still means "given".
    if (b.shape === 'switch') out[b.path] = true;
    else if (Array.isArray(value)) out[b.path] = value.map(String);
    else out[b.path] = String(value);
  }
  return out;
}
