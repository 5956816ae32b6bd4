// JSON-RPC 2.0 (https://www.jsonrpc.org/specification) independent of the transport: a request text in,
// the response text out (or nothing, for notifications). Methods are plain objects with typed parameters,
// taken by position or by name, each checked by its decoder before the handler runs, so a handler never
// sees bad input and every error says what was wrong:
//
//   -32700 parse error (not JSON)            -32601 no such method
//   -32600 invalid request (not a request)   -32602 invalid params (missing, extra, wrong type)
//   -32603 internal error (a bug; logged)    method-specific codes (Mycelium's, methods.ts)
//
// Batches run their calls concurrently (a waiting popMessage holds up nothing) and answer in one array.
import type { JsonSchema } from '../route.ts';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

/** Most calls one batch may hold. */
export const MAX_BATCH_CALLS = 256;

export interface RpcError {
  code: number;
  message: string;
}

export type RpcOutcome = { ok: true; value: unknown } | { ok: false; error: RpcError };

export function rpcOk(value: unknown): RpcOutcome {
  return { ok: true, value };
}

export function rpcError(code: number, message: string): RpcOutcome {
  return { ok: false, error: { code, message } };
}

export type Decoded = { ok: true; value: unknown } | { ok: false; message: string };

export interface RpcParam {
  /** The name OpenRPC documents and named calls use. */
  name: string;
  /** Other names a named call may use for it (e.g. Mycelium's code and its docs differ). */
  aliases?: readonly string[];
  required: boolean;
  schema: JsonSchema;
  description?: string;
  /** Checks a given value (never undefined; null only for optional parameters is turned into "absent" first). */
  decode(v: unknown): Decoded;
}

export interface RpcContext {
  /** Aborted when the caller goes away or the server stops: long waits end on it. */
  signal: AbortSignal;
}

export interface RpcMethod {
  name: string;
  summary: string;
  description?: string;
  params: readonly RpcParam[];
  result: { name: string; schema: JsonSchema };
  /** The method-specific errors, for the OpenRPC document. */
  errors?: readonly RpcError[];
  /** `args[i]` is the decoded value of `params[i]`, or undefined when an optional one is absent. */
  handler(args: unknown[], ctx: RpcContext): RpcOutcome | Promise<RpcOutcome>;
}

export type RpcId = string | number | null;

interface Response {
  jsonrpc: '2.0';
  id: RpcId;
  result?: unknown;
  error?: RpcError;
}

export interface RpcDispatcher {
  methods: ReadonlyMap<string, RpcMethod>;
  /** Called with a handler's exception (a bug): the caller sees -32603 only. */
  onInternalError(method: string, e: unknown): void;
}

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v).slice(0, 40)}`;
};

function signature(m: RpcMethod): string {
  return `${m.name}(${m.params.map((p) => (p.required ? p.name : `${p.name}?`)).join(', ')})`;
}

/** The decoded arguments of a call, or why they are not acceptable. */
export function bindParams(m: RpcMethod, params: unknown): { ok: true; args: unknown[] } | { ok: false; message: string } {
  const raw: unknown[] = new Array<unknown>(m.params.length).fill(undefined);
  if (Array.isArray(params)) {
    if (params.length > m.params.length) {
      return { ok: false, message: `${m.name} takes ${m.params.length === 0 ? 'no parameters' : `at most ${m.params.length}: ${signature(m)}`}, got ${params.length}` };
    }
    params.forEach((v, i) => (raw[i] = v));
  } else if (params !== undefined && params !== null) {
    if (typeof params !== 'object') return { ok: false, message: `params must be an array (by position) or an object (by name), got ${describe(params)}` };
    const byName = params as Record<string, unknown>;
    for (const key of Object.keys(byName)) {
      const i = m.params.findIndex((p) => p.name === key || (p.aliases ?? []).includes(key));
      if (i < 0) return { ok: false, message: `${m.name} has no parameter "${key.slice(0, 40)}": ${signature(m)}` };
      if (raw[i] !== undefined) return { ok: false, message: `parameter "${m.params[i].name}" is given twice` };
      raw[i] = byName[key];
    }
  }
  const args: unknown[] = [];
  for (let i = 0; i < m.params.length; i++) {
    const p = m.params[i];
    const v = raw[i];
    if (v === undefined || (v === null && !p.required)) {
      if (p.required) return { ok: false, message: `missing parameter "${p.name}" (position ${i}): ${signature(m)}` };
      args.push(undefined);
      continue;
    }
    const d = p.decode(v);
    if (!d.ok) return { ok: false, message: `parameter "${p.name}": ${d.message}` };
    args.push(d.value);
  }
  return { ok: true, args };
}

function isId(v: unknown): v is RpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** One call of a request or batch: its response, or undefined for a notification. */
async function call(d: RpcDispatcher, req: unknown, ctx: RpcContext): Promise<Response | undefined> {
  const fail = (id: RpcId, code: number, message: string): Response => ({ jsonrpc: '2.0', id, error: { code, message } });
  if (req === null || typeof req !== 'object' || Array.isArray(req)) {
    return fail(null, INVALID_REQUEST, `invalid request: expected an object {"jsonrpc": "2.0", "method": …, "params": …, "id": …}, got ${describe(req)}`);
  }
  const r = req as Record<string, unknown>;
  const hasId = Object.hasOwn(r, 'id');
  if (hasId && !isId(r.id)) return fail(null, INVALID_REQUEST, `invalid request: "id" must be a string, a number or null, got ${describe(r.id)}`);
  const id: RpcId = hasId ? (r.id as RpcId) : null;
  if (r.jsonrpc !== '2.0') return fail(id, INVALID_REQUEST, `invalid request: "jsonrpc" must be "2.0", got ${r.jsonrpc === undefined ? 'nothing' : describe(r.jsonrpc)}`);
  if (typeof r.method !== 'string') return fail(id, INVALID_REQUEST, `invalid request: "method" must be a string, got ${r.method === undefined ? 'nothing' : describe(r.method)}`);
  if (Object.hasOwn(r, 'params') && (r.params === null || typeof r.params !== 'object')) {
    return fail(id, INVALID_REQUEST, `invalid request: "params" must be an array or an object, got ${describe(r.params)}`);
  }
  const m = d.methods.get(r.method);
  let out: Response;
  if (m === undefined) {
    out = fail(id, METHOD_NOT_FOUND, `method not found: ${JSON.stringify(r.method.slice(0, 60))} (rpc.discover lists the methods)`);
  } else {
    const bound = bindParams(m, r.params);
    if (!bound.ok) out = fail(id, INVALID_PARAMS, `invalid params: ${bound.message}`);
    else {
      let o: RpcOutcome;
      try {
        o = await m.handler(bound.args, ctx);
      } catch (e) {
        d.onInternalError(m.name, e);
        o = rpcError(INTERNAL_ERROR, `internal error in ${m.name} (logged by the node)`);
      }
      out = o.ok ? { jsonrpc: '2.0', id, result: o.value === undefined ? null : o.value } : { jsonrpc: '2.0', id, error: o.error };
    }
  }
  return hasId ? out : undefined;
}

/**
 * Answers one JSON-RPC text (a request or a batch): the response text, or undefined when there is
 * nothing to send back (notifications only).
 */
export async function handleRpcText(d: RpcDispatcher, text: string, ctx: RpcContext): Promise<string | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: PARSE_ERROR, message: `parse error: the request is not JSON (${(e as Error).message})` } });
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: INVALID_REQUEST, message: 'invalid request: an empty batch' } });
    if (parsed.length > MAX_BATCH_CALLS) {
      return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: INVALID_REQUEST, message: `invalid request: a batch of ${parsed.length} calls; at most ${MAX_BATCH_CALLS} allowed` } });
    }
    const out = (await Promise.all(parsed.map((r) => call(d, r, ctx)))).filter((r) => r !== undefined);
    return out.length === 0 ? undefined : JSON.stringify(out);
  }
  const out = await call(d, parsed, ctx);
  return out === undefined ? undefined : JSON.stringify(out);
}
