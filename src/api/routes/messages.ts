// The message routes of Mycelium's HTTP API (reference §5.5), with the JSON shapes and status codes of its
// Rust code: receive (a long-poll that holds nothing else up), push (optionally waiting for the reply),
// reply, and the status of a sent message. Hypha extension: `deadline=<seconds>` on a push or a reply sets
// how long the message is tried (Mycelium always tries for 5 minutes); clients that do not send it get
// Mycelium's behaviour.
import { inboundMessageJson, parseMessageId, type BusError } from '../../messages/index.ts';
import {
  busErrorStatus,
  decodeSendInfo,
  decodeTopic,
  MAX_MESSAGE_BODY_BYTES,
  MAX_TOPIC_B64_CHARS,
  MAX_WAIT_SECONDS,
  MESSAGE_SCHEMAS,
  pushMessageBodySchema,
  waitMs,
} from '../message-json.ts';
import { defineRoute, json, noContent, ref, text, textResponse, type ApiModule, type ApiReply, type JsonSchema } from '../route.ts';

/** Longest deadline a caller may give, in seconds (the bus's limit). */
const MAX_DEADLINE_SECONDS = MAX_WAIT_SECONDS;

const seconds = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description });
const deadlineParam: JsonSchema = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: MAX_DEADLINE_SECONDS,
  description: `Hypha extension: try to deliver the message for this many seconds (default 300, at most ${MAX_DEADLINE_SECONDS}); `
    + 'past it the status becomes "aborted" and the receiver drops what it has. Mycelium ignores it.',
};
const idParam: JsonSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, description: 'message id, 16 hex characters', examples: ['0123456789abcdef'] } },
};

function busFailure(e: BusError): ApiReply {
  return text(busErrorStatus(e.code), e.message);
}

interface PopQuery {
  peek?: boolean;
  timeout?: number;
  topic?: string;
}

interface PushQuery {
  reply_timeout?: number;
  deadline?: number;
}

export const messagesModule: ApiModule = {
  tag: 'message',
  description: 'Send and receive messages over the overlay (Mycelium\'s message API).',
  schemas: MESSAGE_SCHEMAS,
  routes: (s) => [
    defineRoute<Record<string, never>, PopQuery>({
      method: 'GET',
      path: '/messages',
      operationId: 'popMessage',
      summary: 'Take (or peek at) the oldest received message, waiting for one up to `timeout` seconds',
      description: 'A waiting call holds nothing else up: other calls, and other waits, go on. Waits over '
        + `${MAX_WAIT_SECONDS} s are cut to that. The topic filter is an exact match.`,
      query: {
        type: 'object',
        properties: {
          peek: { type: 'boolean', description: 'leave the message in the inbox (default false)' },
          timeout: seconds('seconds to wait for a message when none is there (default 0: answer at once)'),
          topic: { type: 'string', maxLength: MAX_TOPIC_B64_CHARS, description: 'only a message with exactly this topic (base64, URL-encoded)' },
        },
      },
      responses: {
        200: { description: 'the message', schema: ref('InboundMessage') },
        204: { description: 'no message (within the timeout)' },
        400: textResponse('bad topic or parameter'),
        503: textResponse('too many calls are waiting already, or the node is shutting down'),
      },
      handler: async ({ query, signal }) => {
        let topic: Uint8Array | undefined;
        if (query.topic !== undefined) {
          const t = decodeTopic(query.topic);
          if (!t.ok) return text(400, t.message);
          topic = t.value;
        }
        const r = await s.messages.pop({ peek: query.peek === true, timeoutMs: waitMs(query.timeout ?? 0), topic, signal });
        if (!r.ok) return busFailure(r.error);
        return r.value === null ? noContent() : json(inboundMessageJson(r.value));
      },
    }),
    defineRoute<Record<string, never>, PushQuery, unknown>({
      method: 'POST',
      path: '/messages',
      operationId: 'pushMessage',
      summary: 'Send a message; with `reply_timeout`, wait that many seconds for the reply',
      description: 'Answers once the message is stored (a restart does not lose it). The body is Mycelium\'s: '
        + 'dst, optional topic and payload in base64.',
      query: {
        type: 'object',
        properties: {
          reply_timeout: seconds(`wait this many seconds for the reply and return it (at most ${MAX_WAIT_SECONDS}; longer waits are cut)`),
          deadline: deadlineParam,
        },
      },
      body: pushMessageBodySchema(),
      bodyLimit: MAX_MESSAGE_BODY_BYTES,
      responses: {
        201: { description: 'stored and being sent (no reply asked for)', schema: ref('PushMessageResponseId') },
        200: { description: 'the reply', schema: ref('InboundMessage') },
        408: { description: 'no reply within reply_timeout; the message is still being sent', schema: ref('PushMessageResponseId') },
        400: textResponse('bad destination, topic, payload, size or deadline'),
        503: textResponse('the outbox is full or too many pushes are waiting for replies; try later'),
      },
      handler: async ({ query, body, signal }) => {
        const m = decodeSendInfo(body, 'body');
        if (!m.ok) return text(400, m.message);
        const wait = query.reply_timeout;
        const r = await s.messages.push({
          ...m.value,
          deadlineMs: query.deadline === undefined ? undefined : query.deadline * 1000,
          replyTimeoutMs: wait === undefined ? undefined : waitMs(wait),
          signal,
        });
        if (!r.ok) return busFailure(r.error);
        const o = r.value;
        if (o.kind === 'reply') return json(inboundMessageJson(o.reply));
        // Mycelium: asked to wait (even 0 s) and no reply came → 408 with the id.
        if (wait !== undefined) return json({ id: o.id }, 408);
        return json({ id: o.id }, 201);
      },
    }),
    defineRoute<{ id: string }, Pick<PushQuery, 'deadline'>, unknown>({
      method: 'POST',
      path: '/messages/reply/{id}',
      operationId: 'pushMessageReply',
      summary: 'Reply to a received message (same body as a push; the topic is ignored)',
      params: idParam,
      query: { type: 'object', properties: { deadline: deadlineParam } },
      body: pushMessageBodySchema(),
      bodyLimit: MAX_MESSAGE_BODY_BYTES,
      responses: {
        204: { description: 'the reply is stored and being sent' },
        400: textResponse('bad id, destination, payload or deadline'),
        409: textResponse('a reply to this message is being sent already'),
        503: textResponse('the outbox is full; try later'),
      },
      handler: async ({ params, query, body }) => {
        const id = parseMessageId(params.id);
        if (!id.ok) return text(400, id.error.message);
        const m = decodeSendInfo(body, 'body');
        if (!m.ok) return text(400, m.message);
        const r = await s.messages.reply(params.id, m.value.dst, m.value.payload, { deadlineMs: query.deadline === undefined ? undefined : query.deadline * 1000 });
        if (r.ok) return noContent();
        // The id parsed, so a bad-id from the bus means a reply with this id is under way.
        return r.error.code === 'bad-id' ? text(409, r.error.message) : busFailure(r.error);
      },
    }),
    defineRoute<{ id: string }>({
      method: 'GET',
      path: '/messages/status/{id}',
      operationId: 'getMessageInfo',
      summary: 'The transmission state of a sent message',
      params: idParam,
      responses: {
        200: { description: 'its state', schema: ref('MessageInfo') },
        400: textResponse('not a message id'),
        404: textResponse('no message with this id was sent (statuses are kept for an hour after a message finishes)'),
      },
      handler: ({ params }) => {
        const r = s.messages.status(params.id);
        return r.ok ? json(r.value) : busFailure(r.error);
      },
    }),
  ],
};
