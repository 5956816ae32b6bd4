// The HTTP API server: fastify on --api-addr (default 127.0.0.1:8989), every route under /api/v1, each
// registered from a RouteSpec (route.ts) whose schemas fastify validates before the handler runs.
//
// What every route gets for free:
// - bad input (params, query, body, JSON syntax, media type, size, URL encoding) is a 4xx with a text/plain
//   message saying what is wrong, never a 500; a 500 means a bug and is logged as an ERROR;
// - an optional bearer token: with one, a request without `Authorization: Bearer <token>` gets 401;
// - an AbortSignal that fires when the client goes away or the server stops (long-polls end on it);
// - a line in the OpenAPI document served at /api/v1/openapi.json.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../base/log.ts';
import { addressText, listenError, sameToken } from './listen.ts';
import { API_MODULES } from './modules.ts';
import { API_PREFIX, openApiDocument } from './openapi.ts';
import { DEFAULT_BODY_LIMIT_BYTES, defineRoute, fastifyPath, json, type ApiModule, type ApiReply, type JsonSchema, type RouteSpec, type SseMessage } from './route.ts';
import type { NodeServices } from './services.ts';

/** Longest path parameter (a URL-encoded endpoint fits easily). */
const MAX_PARAM_CHARS = 1024;
/** A request that takes longer than this to arrive (headers and body) is cut off: slow clients hold no socket. */
const REQUEST_TIMEOUT_MS = 30_000;
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export interface ApiServerOptions {
  services: NodeServices;
  logger: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token every request must carry; undefined = no authentication (Mycelium's behaviour). */
  token?: string;
  /** The route groups; API_MODULES by default. */
  modules?: readonly ApiModule[];
  /** Shown in the OpenAPI document. */
  version: string;
}

/** Coerces the text values of query strings and path parameters to the types their schema declares. */
function coerce(values: unknown, schema: JsonSchema | undefined): void {
  if (schema === undefined || values === null || typeof values !== 'object') return;
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const obj = values as Record<string, unknown>;
  for (const [name, prop] of Object.entries(props)) {
    const v = obj[name];
    if (typeof v !== 'string') continue;
    const types = Array.isArray(prop.type) ? (prop.type as string[]) : [prop.type as string];
    if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(v)) obj[name] = Number(v);
    else if (types.includes('boolean') && (v === 'true' || v === 'false')) obj[name] = v === 'true';
  }
}


/** One server-sent event in the wire format: field lines, then a blank line. */
export function formatSse(m: SseMessage): string {
  let out = '';
  const lines = (field: string, v: string) => {
    for (const l of v.split(/\r\n|\r|\n/)) out += `${field}: ${l}\n`;
  };
  if (m.comment !== undefined) lines('', m.comment);
  // An id or event name is one line by definition; anything after a line break would forge another field.
  if (m.id !== undefined) out += `id: ${m.id.replace(/[\r\n\0]/g, '')}\n`;
  if (m.event !== undefined) out += `event: ${m.event.replace(/[\r\n]/g, '')}\n`;
  if (m.data !== undefined) lines('data', m.data);
  return `${out}\n`;
}

/** Writes a stream of server-sent events until the iterable ends or the client goes away. */
async function streamEvents(reply: FastifyReply, status: number, events: AsyncIterable<SseMessage>, log: Logger): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(status, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  if (reply.request.method === 'HEAD') {
    // The headers say what a GET would stream; a HEAD gets no body, so there is nothing to wait for.
    raw.end();
    void events[Symbol.asyncIterator]().return?.();
    return;
  }
  // Headers go out at once, so a client knows the stream is open before the first event.
  raw.write(': stream open\n\n');
  const gone = () => raw.destroyed || raw.writableEnded;
  try {
    for await (const m of events) {
      if (gone()) break;
      if (!raw.write(formatSse(m))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            raw.off('drain', done);
            raw.off('close', done);
            resolve();
          };
          raw.on('drain', done);
          raw.on('close', done);
        });
      }
    }
  } catch (e) {
    log.error({ url: reply.request.url, err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'API event stream failed');
  } finally {
    if (!gone()) raw.end();
  }
}

function sendReply(reply: FastifyReply, r: Exclude<ApiReply, { kind: 'events' }>): FastifyReply {
  reply.code(r.status);
  if (r.kind === 'empty') return reply.send();
  if (r.kind === 'text') return reply.type(TEXT).send(r.body.endsWith('\n') ? r.body : `${r.body}\n`);
  // Serialized here, not by fastify, so `null` and strings go out as JSON too.
  return reply.type(JSON_TYPE).send(JSON.stringify(r.body));
}

function sendText(reply: FastifyReply, status: number, message: string): FastifyReply {
  return sendReply(reply, { status, kind: 'text', body: message });
}

/** The message for an error fastify raised before the handler ran (or a 500 for anything else). */
function describeError(e: FastifyError): { status: number; message: string } {
  if (e.validation) return { status: 400, message: `invalid request: ${e.message}` };
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: `unsupported body type: send JSON with "Content-Type: application/json" (${e.message})` };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'the body is empty but Content-Type says JSON: send a JSON body' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, message: `the body is not valid JSON: ${e.message}` };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: `the body is too large: ${e.message}` };
    case 'FST_ERR_BAD_URL':
      return { status: 400, message: `the URL is not valid (bad percent-encoding?): ${e.message}` };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, message: `a path parameter is longer than ${MAX_PARAM_CHARS} characters` };
  }
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, message: e.message };
  return { status: 500, message: 'internal error (logged by the node)' };
}

export class ApiServer {
  readonly app: FastifyInstance;
  /** The OpenAPI document, built from the registered routes. */
  readonly document: Record<string, unknown>;
  /** Every registered route, the OpenAPI route included. */
  readonly routes: readonly RouteSpec[];
  /** What fastify actually serves ("GET /api/v1/admin", HEAD routes excluded): the OpenAPI test checks both agree. */
  readonly served: string[] = [];
  private readonly opts: ApiServerOptions;
  private readonly log: Logger;
  private bound: AddressInfo | undefined;

  constructor(opts: ApiServerOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ component: 'api' });
    const app = Fastify({
      logger: false,
      bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Stopping the node must not wait for keep-alive connections or long-polls.
      forceCloseConnections: true,
      routerOptions: { maxParamLength: MAX_PARAM_CHARS },
      // Bodies are validated as they are (no "5" → 5, no ["x"] → "x"); query strings and path parameters are
      // text and are coerced by the route's preValidation hook instead. Unknown body fields are ignored, as
      // serde does in Mycelium.
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
      frameworkErrors: (error, _request, reply) => {
        const d = describeError(error as FastifyError);
        sendText(reply, d.status, d.message);
      },
    });
    this.app = app;
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') this.served.push(`${m} ${r.url}`);
    });

    const token = opts.token;
    app.addHook('onRequest', async (request, reply) => {
      if (token === undefined) return;
      const header = request.headers.authorization;
      const given = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
      if (given !== undefined && sameToken(given, token)) return;
      reply.header('WWW-Authenticate', 'Bearer realm="hypha"');
      return sendText(reply, 401, given === undefined
        ? 'this node requires an API token: send "Authorization: Bearer <token>" (the hypha CLI does with --api-token-file)'
        : 'wrong API token');
    });
    app.addHook('onResponse', async (request, reply) => {
      this.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api request');
    });
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const d = describeError(error);
      if (d.status >= 500) this.log.error({ method: request.method, url: request.url, err: error.stack ?? error.message }, 'API handler failed');
      return sendText(reply, d.status, d.message);
    });
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0];
      // A state key is one path segment: the most likely cause of a 404 there is a key with a raw "/".
      const hint = path.startsWith(`${API_PREFIX}/hypha/state/`) && path.slice(`${API_PREFIX}/hypha/state/`.length).includes('/')
        ? '; a state key is one path segment: send its "/" as %2F' : '';
      return sendText(reply, 404, `no route ${request.method} ${path} (the routes are listed at ${API_PREFIX}/openapi.json)${hint}`);
    });

    const modules = opts.modules ?? API_MODULES;
    let document: Record<string, unknown> = {};
    const meta: ApiModule = {
      tag: 'meta',
      description: 'About the API itself.',
      routes: () => [
        defineRoute({
          method: 'GET',
          path: '/openapi.json',
          operationId: 'getOpenApiDocument',
          summary: 'This API as an OpenAPI 3.1 document',
          responses: { 200: { description: 'the OpenAPI document', schema: { type: 'object' } } },
          handler: () => json(document),
        }),
      ],
    };
    const groups = [...modules, meta].map((module) => ({ module, routes: module.routes(opts.services) }));
    const ids = new Set<string>();
    for (const { routes } of groups) {
      for (const r of routes) {
        if (ids.has(r.operationId)) throw new Error(`API operationId ${r.operationId} is used twice`);
        ids.add(r.operationId);
        this.register(r);
      }
    }
    this.routes = groups.flatMap((g) => g.routes);
    document = openApiDocument({ title: 'Hypha HTTP API', version: opts.version, description: 'Mycelium-compatible node API; every error is a text/plain message.' }, groups);
    this.document = document;
  }

  private register(route: RouteSpec): void {
    const schema: Record<string, JsonSchema> = {};
    if (route.params) schema.params = route.params;
    if (route.query) schema.querystring = route.query;
    if (route.body) schema.body = route.body;
    this.app.route({
      method: route.method,
      url: `${API_PREFIX}${fastifyPath(route.path)}`,
      schema,
      bodyLimit: route.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES,
      preValidation: async (request: FastifyRequest) => {
        coerce(request.query, route.query);
        coerce(request.params, route.params);
      },
      handler: async (request, reply) => {
        const abort = new AbortController();
        reply.raw.once('close', () => abort.abort());
        const r = await route.handler({ params: request.params, query: request.query, body: request.body, signal: abort.signal, headers: request.headers });
        if (r.kind === 'events') return streamEvents(reply, r.status, r.events, this.log);
        return sendReply(reply, r);
      },
    });
  }

  /** Binds the address; rejects with a message that says what to change if it cannot. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = this.opts;
    try {
      await this.app.listen({ host, port });
    } catch (e) {
      throw listenError(e, host, port, { what: 'the HTTP API', flag: '--api-addr', off: 'the API' });
    }
    this.bound = this.app.server.address() as AddressInfo;
    this.log.info({ url: this.url, auth: this.opts.token === undefined ? 'none' : 'bearer token' }, 'HTTP API listening');
    return this.bound;
  }

  /** "127.0.0.1:8989" once listening. */
  get address(): string | undefined {
    return addressText(this.bound);
  }

  get url(): string | undefined {
    return this.address === undefined ? undefined : `http://${this.address}${API_PREFIX}`;
  }

  /** Stops listening and drops every open connection (long-polls are aborted). */
  async close(): Promise<void> {
    await this.app.close();
  }
}
