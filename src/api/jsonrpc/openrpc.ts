// The OpenRPC 1.2.6 document of the JSON-RPC API (what rpc.discover returns), generated from the method
// table itself, so it cannot drift from what the server accepts. Component schemas are the HTTP API's
// (same JSON shapes in both APIs).
import type { JsonSchema } from '../route.ts';
import type { RpcMethod } from './protocol.ts';
import { INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR } from './protocol.ts';

export interface OpenRpcInfo {
  title: string;
  version: string;
  description?: string;
}

/** Schemas referenced by "#/components/schemas/Name" anywhere inside `v`. */
function refsIn(v: unknown, out: Set<string>): void {
  if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/')) out.add(x.slice('#/components/schemas/'.length));
      else refsIn(x, out);
    }
  }
}

export function openRpcDocument(info: OpenRpcInfo, methods: Iterable<RpcMethod>, schemas: Record<string, JsonSchema>): Record<string, unknown> {
  const list = [...methods];
  // Only the schemas the methods use, and the ones those use.
  const used = new Set<string>();
  refsIn(list.map((m) => [m.params.map((p) => p.schema), m.result.schema]), used);
  const components: Record<string, JsonSchema> = {};
  for (let todo = [...used]; todo.length > 0;) {
    const name = todo.pop()!;
    if (Object.hasOwn(components, name) || !Object.hasOwn(schemas, name)) continue;
    components[name] = schemas[name];
    const more = new Set<string>();
    refsIn(schemas[name], more);
    todo.push(...more);
  }
  return {
    openrpc: '1.2.6',
    info: {
      ...info,
      'x-error-codes': {
        [PARSE_ERROR]: 'parse error: the request is not JSON',
        [INVALID_REQUEST]: 'invalid request: not a JSON-RPC 2.0 request object, or an empty or oversized batch',
        [METHOD_NOT_FOUND]: 'no such method',
        [INVALID_PARAMS]: 'invalid params: missing, extra, or of the wrong type (the message names it)',
        [INTERNAL_ERROR]: 'internal error (a bug; logged by the node)',
      },
    },
    methods: list.map((m) => ({
      name: m.name,
      summary: m.summary,
      ...(m.description ? { description: m.description } : {}),
      paramStructure: 'either',
      params: m.params.map((p) => ({ name: p.name, required: p.required, schema: p.schema, ...(p.description ? { description: p.description } : {}) })),
      result: { name: m.result.name, schema: m.result.schema },
      ...(m.errors && m.errors.length > 0 ? { errors: m.errors.map((e) => ({ code: e.code, message: e.message })) } : {}),
    })),
    components: { schemas: components },
  };
}
