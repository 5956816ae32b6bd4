// How a route of the HTTP API is written: one plain object with its method, path, JSON schemas and a handler
// that maps a validated request to a reply. The server (server.ts) registers it with fastify, which validates
// params, query and body against the schemas before the handler runs; the OpenAPI document (openapi.ts) is
// generated from the same objects. A handler never sees bad input and never touches fastify.
//
//   export const widgetModule: ApiModule = {
//     tag: 'widgets', description: '…', schemas: { Widget: {…} },
//     routes: (s) => [
//       defineRoute({
//         method: 'GET', path: '/widgets/{id}', operationId: 'getWidget', summary: '…',
//         params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
//         responses: { 200: { description: 'the widget', schema: ref('Widget') }, 404: textResponse('no such widget') },
//         handler: ({ params }) => { const w = s.widgets.get(params.id); return w ? json(w) : text(404, `no widget ${params.id}`); },
//       }),
//     ],
//   };
//
// then add the module to API_MODULES (modules.ts).
import type { NodeServices } from './services.ts';

/** A JSON Schema (draft 2020-12 subset that both ajv and OpenAPI 3.1 read). */
export type JsonSchema = Record<string, unknown>;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a handler receives: validated parts of the request. */
export interface ApiRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Aborted when the client goes away or the server stops: long-polls end on it. */
  signal: AbortSignal;
  /** The request headers (lower-case names), e.g. `last-event-id`. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** One message of a server-sent event stream (text/event-stream). */
export interface SseMessage {
  /** The event's id: a client that reconnects sends the last one back as Last-Event-ID. */
  id?: string;
  /** The event type (a client's addEventListener name); absent = "message". */
  event?: string;
  /** The payload (may span lines). */
  data?: string;
  /** A comment line: ignored by clients, keeps proxies and idle timeouts from closing the stream. */
  comment?: string;
}

/**
 * A handler's answer: JSON, a plain-text message (errors, as Mycelium sends them), no content, or a stream of
 * server-sent events that lasts until the iterable ends or the client goes away (the request's signal aborts;
 * the iterable should end on it).
 */
export type ApiReply =
  | { status: number; kind: 'json'; body: unknown }
  | { status: number; kind: 'text'; body: string }
  | { status: number; kind: 'empty' }
  | { status: number; kind: 'events'; events: AsyncIterable<SseMessage> };

export function json(body: unknown, status = 200): ApiReply {
  return { status, kind: 'json', body };
}

/** A plain-text reply; every error the API sends is one, with a message saying what is wrong. */
export function text(status: number, body: string): ApiReply {
  return { status, kind: 'text', body };
}

export function noContent(status = 204): ApiReply {
  return { status, kind: 'empty' };
}

/** A text/event-stream reply. */
export function eventStream(events: AsyncIterable<SseMessage>, status = 200): ApiReply {
  return { status, kind: 'events', events };
}

export interface ResponseSpec {
  description: string;
  /** JSON body schema (often ref('Name')); absent with `text` or for no content. */
  schema?: JsonSchema;
  /** The body is a text/plain message. */
  text?: boolean;
  /** The body is a text/event-stream (server-sent events); `description` says what the events are. */
  eventStream?: boolean;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  /** Under /api/v1, in OpenAPI template syntax: "/admin/peers/{endpoint}". */
  path: string;
  /** Unique; the OpenAPI operationId. */
  operationId: string;
  summary: string;
  description?: string;
  /** Object schemas; each property of `params` is a path parameter, of `query` a query parameter. */
  params?: JsonSchema;
  query?: JsonSchema;
  body?: JsonSchema;
  /** Largest request body in bytes (default DEFAULT_BODY_LIMIT_BYTES). */
  bodyLimit?: number;
  responses: Record<number, ResponseSpec>;
  handler(req: ApiRequest<P, Q, B>): ApiReply | Promise<ApiReply>;
}

/** Gives the handler the types of its validated parts; the schemas remain the source of truth at run time. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** A group of routes under one OpenAPI tag, with the named schemas its responses refer to. */
export interface ApiModule {
  tag: string;
  description: string;
  /** Component schemas, referred to with ref('Name'). Names are global: prefix them if in doubt. */
  schemas?: Record<string, JsonSchema>;
  routes(services: NodeServices): RouteSpec[];
}

/** A reference to a component schema of some module. */
export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

export function textResponse(description: string): ResponseSpec {
  return { description, text: true };
}

export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** "/admin/peers/{endpoint}" → "/admin/peers/:endpoint" (fastify's syntax). */
export function fastifyPath(path: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

/** The names of a path's {parameters}, in order. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}
