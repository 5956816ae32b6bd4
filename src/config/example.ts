// A complete config.toml with every key at its default, generated from the table (README shows it, and a
// test keeps the two equal).
import { isOption, type OptionSpec, type SchemaSection, CONFIG_SCHEMA } from './schema.ts';

function tomlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function optionLines(key: string, spec: OptionSpec<unknown>): string[] {
  const where = [spec.flag ? `--${spec.flag}` : '', spec.env ? `env ${spec.env}` : ''].filter((w) => w !== '').join(', ');
  const lines = [`# ${spec.help}${where ? ` (${where})` : ''}`];
  if (typeof spec.default === 'function') lines.push(`# ${key} = ${JSON.stringify(`<${spec.defaultText ?? 'computed'}>`)}`);
  else lines.push(`${key} = ${tomlValue(spec.default)}`);
  return lines;
}

export function exampleConfigToml(schema: SchemaSection = CONFIG_SCHEMA): string {
  const out: string[] = [];
  const top = Object.entries(schema).filter(([, v]) => isOption(v));
  for (const [key, spec] of top) out.push(...optionLines(key, spec as OptionSpec<unknown>));
  for (const [name, section] of Object.entries(schema)) {
    if (isOption(section)) continue;
    if (out.length > 0) out.push('');
    out.push(`[${name}]`);
    for (const [key, spec] of Object.entries(section)) {
      if (isOption(spec)) out.push(...optionLines(key, spec));
    }
  }
  return `${out.join('\n')}\n`;
}
