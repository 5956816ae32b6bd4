// A strict checker for the JSON Schema subset the API's documents use (type, required, properties, items, enum,
// const, oneOf, $ref, pattern, minimum, maximum, minLength, maxLength, additionalProperties as a schema).
// Strict: an object may hold only the properties its schema lists, so "the shape is exactly Mycelium's" is
// checked against the OpenAPI document.

type Schema = Record<string, unknown>;

export function checkJson(value: unknown, schema: Schema, components: Record<string, Schema>, at = '$'): string[] {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    const target = components[name];
    if (target === undefined) return [`${at}: unresolved $ref ${ref}`];
    return checkJson(value, target, components, at);
  }
  if (Array.isArray(schema.oneOf)) {
    const ok = (schema.oneOf as Schema[]).filter((s) => checkJson(value, s, components, at).length === 0).length;
    return ok === 1 ? [] : [`${at}: matches ${ok} of the oneOf schemas, expected exactly 1 (value ${JSON.stringify(value)})`];
  }
  if ('const' in schema && value !== schema.const) return [`${at}: expected ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  const types = schema.type === undefined ? undefined : [schema.type].flat() as string[];
  if (types !== undefined && !types.some((t) => isType(value, t))) return [`${at}: expected ${types.join('|')}, got ${JSON.stringify(value)}`];
  const out: string[] = [];
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) out.push(`${at}: ${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) out.push(`${at}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) out.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) out.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((v, i) => out.push(...checkJson(v, schema.items as Schema, components, `${at}[${i}]`)));
  }
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties as Schema : undefined;
  if (isType(value, 'object') && (schema.properties !== undefined || schema.required !== undefined || extra !== undefined)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) out.push(`${at}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) out.push(...checkJson(v, props[k], components, `${at}.${k}`));
      else if (extra !== undefined) out.push(...checkJson(v, extra, components, `${at}.${k}`));
      else out.push(`${at}: unexpected property ${k}`);
    }
  }
  return out;
}

function isType(v: unknown, t: string): boolean {
  switch (t) {
    case 'null': return v === null;
    case 'array': return Array.isArray(v);
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    default: return false;
  }
}

/** Every $ref anywhere inside `doc`. */
export function collectRefs(doc: unknown, out: string[] = []): string[] {
  if (Array.isArray(doc)) for (const x of doc) collectRefs(x, out);
  else if (typeof doc === 'object' && doc !== null) {
    for (const [k, v] of Object.entries(doc)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}
