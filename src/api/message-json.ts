// What the message routes (routes/messages.ts, routes/topics.ts) and the JSON-RPC methods (jsonrpc/) share:
// the JSON schemas of Mycelium's message API (reference §5.5), the checks that turn a request's JSON into
// bus arguments with a message saying what is wrong, and the waits in seconds as Mycelium's clients give
// them. Both APIs must accept and answer exactly the same things.
import { DEFAULT_MESSAGE_BUS_LIMITS, fromBase64, MAX_WAIT_MS, type BusErrorCode, type Destination } from '../messages/index.ts';
import { MAX_TOPIC_BYTES } from '../wire/mycelium/message.ts';
import type { JsonSchema } from './route.ts';

/** Characters of the base64 text of `bytes` bytes, with padding. */
export function base64Chars(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** A request body that carries the largest message the bus takes, in base64, with room for the rest. */
export const MAX_MESSAGE_BODY_BYTES = base64Chars(DEFAULT_MESSAGE_BUS_LIMITS.maxMessageBytes) + 64 * 1024;
/** Base64 text of the longest topic. */
export const MAX_TOPIC_B64_CHARS = base64Chars(MAX_TOPIC_BYTES);
/** Longest wait in whole seconds; longer ones (Mycelium's CLI asks for a year) are cut to it. */
export const MAX_WAIT_SECONDS = MAX_WAIT_MS / 1000;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/**
 * Mycelium's MessageSendInfo. `dst` is described as an object of one key rather than a oneOf, so a
 * validation error names the field that is wrong; decodeSendInfo checks the rest.
 */
export function pushMessageBodySchema(): JsonSchema {
  return {
    type: 'object',
    required: ['dst', 'payload'],
    properties: {
      dst: {
        type: 'object',
        description: 'exactly one of: {"ip": "<overlay IPv6>"} or {"pk": "<64 hex public key>"}',
        minProperties: 1,
        maxProperties: 1,
        properties: {
          ip: { type: 'string', maxLength: 64, examples: ['548:c783:d7ce:74a3:9ba1:a0cb:ae21:338d'] },
          pk: { type: 'string', maxLength: 64, examples: ['a47c1d6f2a15b2c670d3a88fbe0aeb301ced12f7bcb4c8e3aa877b20f8559c02'] },
        },
      },
      topic: { type: ['string', 'null'], maxLength: MAX_TOPIC_B64_CHARS, description: `optional topic, base64 (at most ${MAX_TOPIC_BYTES} bytes)` },
      payload: { type: 'string', description: 'the message, base64 (standard alphabet, padded)' },
    },
  };
}

/** The schemas both documents (OpenAPI, OpenRPC) list, by name. */
export const MESSAGE_SCHEMAS: Record<string, JsonSchema> = {
  MessageId: { type: 'string', pattern: '^[0-9a-fA-F]{16}$', description: 'message id: 16 hex characters', examples: ['0123456789abcdef'] },
  PushMessageBody: pushMessageBodySchema(),
  InboundMessage: {
    type: 'object',
    description: 'a message received (or a reply): topic and payload in base64; no topic key when the topic is empty',
    required: ['id', 'srcIp', 'srcPk', 'dstIp', 'dstPk', 'payload'],
    properties: {
      id: ref('MessageId'),
      srcIp: { type: 'string', description: 'overlay address of the sender' },
      srcPk: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'public key of the sender' },
      dstIp: { type: 'string', description: 'overlay address it was sent to (ours)' },
      dstPk: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      topic: { type: 'string', description: 'base64' },
      payload: { type: 'string', description: 'base64' },
    },
  },
  PushMessageResponseId: { type: 'object', required: ['id'], properties: { id: ref('MessageId') } },
  TransmissionState: {
    description: 'pending → sending (chunks never sent / sent, not acknowledged / acknowledged) → received → read, or aborted',
    oneOf: [
      { type: 'string', enum: ['pending', 'received', 'read', 'aborted'] },
      {
        type: 'object',
        required: ['sending'],
        properties: {
          sending: {
            type: 'object',
            required: ['pending', 'sent', 'acked'],
            properties: { pending: { type: 'integer', minimum: 0 }, sent: { type: 'integer', minimum: 0 }, acked: { type: 'integer', minimum: 0 } },
          },
        },
      },
    ],
  },
  MessageInfo: {
    type: 'object',
    required: ['dst', 'state', 'created', 'deadline', 'msgLen'],
    properties: {
      dst: { type: 'string', description: 'overlay address the message goes to' },
      state: ref('TransmissionState'),
      created: { type: 'integer', description: 'Unix seconds' },
      deadline: { type: 'integer', description: 'Unix seconds: the message is aborted if not received by then' },
      msgLen: { type: 'integer', minimum: 0, description: 'bytes' },
    },
  },
};

export interface SendInfo {
  dst: Destination;
  topic: Uint8Array | undefined;
  payload: Uint8Array;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v).slice(0, 40)}`;
};

/**
 * A topic as the APIs carry it: base64 of at most 255 bytes. A space is read as "+": a query string
 * decodes "+" to a space, and Mycelium's CLI puts the topic in the URL without encoding it.
 */
export function decodeTopic(text: unknown, what = 'topic'): Checked<Uint8Array> {
  if (typeof text !== 'string') return { ok: false, message: `${what} must be a base64 string, got ${describe(text)}` };
  if (text.length > MAX_TOPIC_B64_CHARS) return { ok: false, message: `${what} is ${text.length} base64 characters; a topic has at most ${MAX_TOPIC_BYTES} bytes (${MAX_TOPIC_B64_CHARS} characters)` };
  const bytes = fromBase64(text.replaceAll(' ', '+'));
  if (bytes === undefined) return { ok: false, message: `${what} ${JSON.stringify(text.slice(0, 60))} is not base64 (standard alphabet A-Z a-z 0-9 + /, "=" padding); URL-encode it in a path or query` };
  if (bytes.length > MAX_TOPIC_BYTES) return { ok: false, message: `${what} is ${bytes.length} bytes; at most ${MAX_TOPIC_BYTES} allowed` };
  return { ok: true, value: bytes };
}

function decodeDestination(v: unknown): Checked<Destination> {
  const shape = 'dst must be {"ip": "<overlay IPv6>"} or {"pk": "<64 hex public key>"}';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: `${shape}, got ${describe(v)}` };
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1 || (keys[0] !== 'ip' && keys[0] !== 'pk')) return { ok: false, message: `${shape} (exactly one key), got the keys ${JSON.stringify(keys.slice(0, 5))}` };
  const val = o[keys[0]];
  if (typeof val !== 'string') return { ok: false, message: `dst.${keys[0]} must be a string, got ${describe(val)}` };
  return { ok: true, value: keys[0] === 'ip' ? { ip: val } : { pk: val } };
}

/** Mycelium's MessageSendInfo: `{"dst": {...}, "topic"?: b64 | null, "payload": b64}`; other keys are ignored, as serde does. */
export function decodeSendInfo(v: unknown, what = 'message'): Checked<SendInfo> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: `${what} must be an object {"dst": …, "topic": …, "payload": …}, got ${describe(v)}` };
  const o = v as Record<string, unknown>;
  if (!Object.hasOwn(o, 'dst')) return { ok: false, message: `${what} has no "dst": give {"ip": "<overlay IPv6>"} or {"pk": "<64 hex>"}` };
  const dst = decodeDestination(o.dst);
  if (!dst.ok) return { ok: false, message: `${what}: ${dst.message}` };
  let topic: Uint8Array | undefined;
  if (Object.hasOwn(o, 'topic') && o.topic !== null && o.topic !== undefined) {
    const t = decodeTopic(o.topic, `${what}.topic`);
    if (!t.ok) return t;
    topic = t.value;
  }
  if (!Object.hasOwn(o, 'payload')) return { ok: false, message: `${what} has no "payload" (the message, base64)` };
  if (typeof o.payload !== 'string') return { ok: false, message: `${what}.payload must be a base64 string, got ${describe(o.payload)}` };
  const payload = fromBase64(o.payload);
  if (payload === undefined) return { ok: false, message: `${what}.payload is not base64 (standard alphabet A-Z a-z 0-9 + /, "=" padding)` };
  return { ok: true, value: { dst: dst.value, topic, payload } };
}

/** A wait in seconds (Mycelium's u64) as milliseconds, cut to the longest the bus allows. */
export function waitMs(seconds: number): number {
  return Math.min(seconds, MAX_WAIT_SECONDS) * 1000;
}

/** The HTTP status for a bus error. */
export function busErrorStatus(code: BusErrorCode): number {
  switch (code) {
    case 'not-found':
    case 'topic-not-found':
      return 404;
    case 'too-many-topics':
    case 'too-many-sources':
      return 409;
    case 'outbox-full':
    case 'too-many-waiters':
    case 'stopped':
      return 503;
    case 'store-failed':
      return 500;
    default:
      return 400;
  }
}
