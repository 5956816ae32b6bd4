// The replicated state over HTTP (README "Replicated state"): list by prefix (paged), get, put and delete a
// key, and follow changes by long-poll (GET /hypha/state/_changes) or server-sent events (GET
// /hypha/state/_events). Keys are "<node_id>/<subkey>"; a bare subkey is this node's. In a URL the key is one
// path segment, so its slashes are sent as %2F. Values are bytes: see the StateItem schema for the JSON.
import type { StateStreamEvent } from '../hypha-services.ts';
import { defineRoute, eventStream, json, ref, text, textResponse, type ApiModule, type JsonSchema, type SseMessage } from '../route.ts';
import { cursorPageProperties, cursorQuery, cursorRequest, failure, type CursorParams } from './cursor.ts';

export const DEFAULT_STATE_LIST_LIMIT = 100;
export const MAX_STATE_LIST_LIMIT = 1000;
export const DEFAULT_STATE_CHANGES_LIMIT = 100;
export const MAX_STATE_CHANGES_LIMIT = 1000;
/** Longest key text accepted in a path or query (the configured max_key_bytes is checked by the node). */
const MAX_KEY_CHARS = 1024;
/** A value as text: the largest max_value_bytes the config allows. */
const MAX_VALUE_CHARS = 65_536;
const MAX_VALUE_B64_CHARS = 4 * Math.ceil(MAX_VALUE_CHARS / 3);
/** PUT bodies carry a value of up to 64 KiB, in base64 a third more. */
const PUT_BODY_LIMIT_BYTES = 128 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const keyProperty: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_KEY_CHARS,
  description: '"<node_id>/<subkey>", or a bare subkey for this node\'s; URL-encoded, so "/" is sent as %2F',
  examples: ['color', '56475aa75463b5d1e7fb1b1f0d2b86e1a1f5d4e07b0b38b1f5bd41e3c2d0a9f8%2Fcolor'],
};
const prefixProperty: JsonSchema = {
  type: 'string',
  maxLength: MAX_KEY_CHARS,
  description: 'only keys starting with this (full keys: "<node_id>/…" selects one node\'s)',
};

const schemas: Record<string, JsonSchema> = {
  StateItem: {
    type: 'object',
    description: 'One entry. Values are bytes: `valueB64` always has them (standard base64), `value` has them as text when they are valid UTF-8, else null. `ts` is the 64-bit hybrid-logical-clock timestamp as a decimal string.',
    required: ['key', 'owner', 'subkey', 'value', 'valueB64', 'ts', 'writtenAt', 'writtenAtMs', 'deleted', 'size'],
    properties: {
      key: { type: 'string', examples: ['56475aa75463b5d1e7fb1b1f0d2b86e1a1f5d4e07b0b38b1f5bd41e3c2d0a9f8/color'] },
      owner: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'the node that owns, and alone writes, the key' },
      subkey: { type: 'string', examples: ['color'] },
      value: { type: ['string', 'null'], description: 'the value as UTF-8 text; null when it is not valid UTF-8 (use valueB64)', examples: ['dark blue'] },
      valueB64: { type: 'string', description: 'the value\'s bytes, base64', examples: ['ZGFyayBibHVl'] },
      ts: { type: 'string', pattern: '^[0-9]+$', description: 'hybrid logical clock: (unix ms << 16) | counter', examples: ['111408049733632000'] },
      writtenAt: { type: 'string', description: 'the author\'s wall-clock time of the write, ISO 8601' },
      writtenAtMs: { type: 'integer', minimum: 0 },
      deleted: { type: 'boolean', description: 'a tombstone: the key was deleted at ts' },
      size: { type: 'integer', minimum: 0, description: 'bytes of the signed entry as stored and sent' },
    },
  },
  StateList: {
    type: 'object',
    required: ['node', 'items', 'next'],
    properties: {
      node: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'this node\'s id (a bare subkey is in its namespace)' },
      items: { type: 'array', items: ref('StateItem') },
      next: { type: ['string', 'null'], description: 'pass as `after` for the next page; null when this was the last' },
    },
  },
  StateChange: {
    type: 'object',
    required: ['seq', 'source', 'fromPeer', 'item'],
    properties: {
      seq: { type: 'integer', minimum: 1 },
      source: { type: 'string', enum: ['local', 'peer'], description: 'written on this node, or received from a peer' },
      fromPeer: { type: ['string', 'null'], description: 'the neighbour it came from (source "peer")' },
      item: ref('StateItem'),
    },
  },
  StateChanges: {
    type: 'object',
    required: ['changes', 'next', 'missed', 'reset', 'epoch'],
    properties: { changes: { type: 'array', items: ref('StateChange') }, ...cursorPageProperties },
  },
};

interface KeyParam {
  key: string;
}

function decodeValue(body: { value?: unknown; valueB64?: unknown }): { ok: true; value: Uint8Array } | { ok: false; message: string } {
  const hasText = body.value !== undefined;
  const hasB64 = body.valueB64 !== undefined;
  if (hasText === hasB64) return { ok: false, message: 'give the value as exactly one of "value" (text) or "valueB64" (bytes, base64)' };
  if (hasText) return { ok: true, value: new TextEncoder().encode(body.value as string) };
  const b64 = body.valueB64 as string;
  if (b64.length % 4 !== 0 || !BASE64.test(b64)) return { ok: false, message: 'valueB64 is not standard base64 (A–Z, a–z, 0–9, +, /, padded with = to a multiple of 4 characters)' };
  return { ok: true, value: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** "epoch:seq" (an SSE event id) → its parts. */
function parseEventId(id: string | undefined): { after?: number; epoch?: string } {
  if (id === undefined) return {};
  const m = /^([A-Za-z0-9_-]{1,32}):(\d{1,15})$/.exec(id.trim());
  return m ? { epoch: m[1], after: Number(m[2]) } : {};
}

function sseOf(e: StateStreamEvent): SseMessage {
  switch (e.kind) {
    case 'change':
      return { id: `${e.epoch}:${e.change.seq}`, event: 'change', data: JSON.stringify(e.change) };
    case 'missed':
      return { id: `${e.epoch}:${e.next}`, event: 'missed', data: JSON.stringify({ missed: e.missed, reset: e.reset, next: e.next, epoch: e.epoch }) };
    case 'keepalive':
      return { comment: 'keepalive' };
  }
}

async function* sse(events: AsyncIterable<StateStreamEvent>): AsyncIterable<SseMessage> {
  for await (const e of events) yield sseOf(e);
}

export const hyphaStateModule: ApiModule = {
  tag: 'state',
  description: 'Hypha: the replicated state map (keys "<node_id>/<subkey>", each node writes only its own).',
  schemas,
  routes: (s) => [
    defineRoute<Record<string, never>, { prefix?: string; after?: string; limit?: number; deleted?: boolean }>({
      method: 'GET',
      path: '/hypha/state',
      operationId: 'listState',
      summary: 'List entries in key order, optionally under a prefix, a page at a time',
      query: {
        type: 'object',
        properties: {
          prefix: prefixProperty,
          after: { type: 'string', maxLength: MAX_KEY_CHARS, description: 'the `next` of the previous page: keys after this one' },
          limit: { type: 'integer', minimum: 1, maximum: MAX_STATE_LIST_LIMIT, default: DEFAULT_STATE_LIST_LIMIT, description: `entries per page (default ${DEFAULT_STATE_LIST_LIMIT})` },
          deleted: { type: 'boolean', default: false, description: 'include tombstones (deleted keys still remembered)' },
        },
      },
      responses: { 200: { description: 'a page of entries', schema: ref('StateList') } },
      handler: ({ query }) => {
        const r = s.state.list({ prefix: query.prefix, after: query.after, limit: query.limit ?? DEFAULT_STATE_LIST_LIMIT, includeDeleted: query.deleted === true });
        return r.ok ? json(r.value) : failure(r);
      },
    }),
    defineRoute<Record<string, never>, CursorParams & { prefix?: string }>({
      method: 'GET',
      path: '/hypha/state/_changes',
      operationId: 'getStateChanges',
      summary: 'Changes of the state (long-poll)',
      description: 'Without `after`: waits up to `timeout` seconds for changes from now on. With `after` (and the `epoch` of the answer it came from): the changes after it, waiting if there are none yet. The node keeps the last 1,024 changes; a reader that falls further behind is told how many it `missed` and should list again.',
      query: cursorQuery(DEFAULT_STATE_CHANGES_LIMIT, MAX_STATE_CHANGES_LIMIT, 'changes', { prefix: prefixProperty }),
      responses: {
        200: { description: 'the changes, oldest first, and the cursor to go on with', schema: ref('StateChanges') },
        503: textResponse('too many readers are waiting, or the state is not running'),
      },
      handler: async ({ query, signal }) => {
        const r = await s.state.changes({ ...cursorRequest(query, DEFAULT_STATE_CHANGES_LIMIT, signal), ...(query.prefix === undefined ? {} : { prefix: query.prefix }) });
        return r.ok ? json(r.value) : failure(r);
      },
    }),
    defineRoute<Record<string, never>, { prefix?: string; after?: number; epoch?: string }>({
      method: 'GET',
      path: '/hypha/state/_events',
      operationId: 'streamStateChanges',
      summary: 'Changes of the state as server-sent events',
      description: 'A text/event-stream that stays open: an event "change" (data: a StateChange, id "<epoch>:<seq>") per change, "missed" (data: {missed, reset, next, epoch}) when changes were dropped because the reader fell behind, and a comment every 15 s. A client that reconnects with Last-Event-ID (or `after` and `epoch`) continues where it stopped.',
      query: {
        type: 'object',
        properties: {
          prefix: prefixProperty,
          after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'start after this change (the seq of an event id)' },
          epoch: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'the epoch `after` belongs to' },
        },
      },
      responses: {
        200: { description: 'events "change" and "missed"', eventStream: true },
        503: textResponse('too many readers are waiting, or the state is not running'),
      },
      handler: ({ query, signal, headers }) => {
        const last = headers['last-event-id'];
        const resume = query.after === undefined ? parseEventId(typeof last === 'string' ? last : undefined) : { after: query.after, epoch: query.epoch };
        const r = s.state.follow({ prefix: query.prefix, ...resume, signal });
        return r.ok ? eventStream(sse(r.value)) : failure(r);
      },
    }),
    defineRoute<KeyParam, { deleted?: boolean }>({
      method: 'GET',
      path: '/hypha/state/{key}',
      operationId: 'getStateKey',
      summary: 'One entry',
      params: { type: 'object', required: ['key'], properties: { key: keyProperty } },
      query: { type: 'object', properties: { deleted: { type: 'boolean', default: false, description: 'answer with the tombstone of a deleted key instead of 404' } } },
      responses: {
        200: { description: 'the entry', schema: ref('StateItem') },
        400: textResponse('not a valid key'),
        404: textResponse('no such key (or it was deleted)'),
      },
      handler: ({ params, query }) => {
        const r = s.state.get(params.key, query.deleted === true);
        return r.ok ? json(r.value) : failure(r);
      },
    }),
    defineRoute<KeyParam, Record<string, never>, { value?: string; valueB64?: string }>({
      method: 'PUT',
      path: '/hypha/state/{key}',
      operationId: 'putStateKey',
      summary: 'Write a key of this node\'s namespace',
      description: 'Answers once the entry is durable here; it then spreads through the mesh (gossip, and anti-entropy if gossip loses it). The value is given as text ("value") or as bytes ("valueB64"), not both.',
      params: { type: 'object', required: ['key'], properties: { key: keyProperty } },
      body: {
        type: 'object',
        properties: {
          value: { type: 'string', maxLength: MAX_VALUE_CHARS, description: 'the value as text (stored as UTF-8)' },
          valueB64: { type: 'string', maxLength: MAX_VALUE_B64_CHARS, description: 'the value\'s bytes, standard base64' },
        },
      },
      bodyLimit: PUT_BODY_LIMIT_BYTES,
      responses: {
        200: { description: 'written', schema: ref('StateItem') },
        400: textResponse('bad key or value, or over a limit of [state] (the message names it)'),
        403: textResponse('the key belongs to another node, or is reserved for the node itself ("_…")'),
        503: textResponse('the state is not running'),
      },
      handler: async ({ params, body }) => {
        const v = decodeValue(body);
        if (!v.ok) return text(400, v.message);
        const r = await s.state.put(params.key, v.value);
        return r.ok ? json(r.value) : failure(r);
      },
    }),
    defineRoute<KeyParam>({
      method: 'DELETE',
      path: '/hypha/state/{key}',
      operationId: 'deleteStateKey',
      summary: 'Delete a key of this node\'s namespace',
      description: 'Writes a tombstone, which spreads like a value and is forgotten after [state] tombstone_ttl.',
      params: { type: 'object', required: ['key'], properties: { key: keyProperty } },
      responses: {
        200: { description: 'deleted: the tombstone', schema: ref('StateItem') },
        400: textResponse('not a valid key'),
        403: textResponse('the key belongs to another node, or is reserved for the node itself'),
        404: textResponse('the key holds no value'),
        503: textResponse('the state is not running'),
      },
      handler: async ({ params }) => {
        const r = await s.state.delete(params.key);
        return r.ok ? json(r.value) : failure(r);
      },
    }),
  ],
};
