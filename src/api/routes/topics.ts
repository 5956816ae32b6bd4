// The topic routes of Mycelium's HTTP API (reference §5.5/§5.6), as its Rust code answers them: the default
// action, the configured topics, each topic's allowed sources and its forward socket. Topics travel in base64
// (URL-encoded in paths), except in POST /messages/topics, whose body Mycelium reads as a JSON array of byte
// values; Hypha also takes a base64 string there (what Mycelium's api.yaml documents). Removing something that
// is not there is a 204, as in Mycelium; setting the forward socket of a topic that is not configured is a 404
// (Mycelium answers 204 and does nothing).
import { base64, type BusError, type BusResult } from '../../messages/index.ts';
import { MAX_TOPIC_BYTES } from '../../wire/mycelium/message.ts';
import { busErrorStatus, decodeTopic, MAX_TOPIC_B64_CHARS } from '../message-json.ts';
import { defineRoute, json, noContent, text, textResponse, type ApiModule, type ApiReply, type JsonSchema } from '../route.ts';

/** Longest subnet text in a path or body ("ffff:…/128" is 43 characters). */
const MAX_SUBNET_CHARS = 64;
/** Longest forward socket path accepted in a body; the bus checks the real limit (108 bytes). */
const MAX_SOCKET_PATH_CHARS = 1024;

const topicProperty: JsonSchema = {
  type: 'string',
  maxLength: MAX_TOPIC_B64_CHARS,
  description: 'the topic in base64, URL-encoded ("/" → %2F, "+" → %2B, "=" → %3D)',
  examples: ['ZXhhbXBsZS50b3BpYw%3D%3D'],
};
const topicParams: JsonSchema = { type: 'object', required: ['topic'], properties: { topic: topicProperty } };
const subnetProperty: JsonSchema = { type: 'string', minLength: 1, maxLength: MAX_SUBNET_CHARS, description: 'an IP address or CIDR', examples: ['503:5478:df06:d79a::/64', '400::1'] };

const schemas: Record<string, JsonSchema> = {
  DefaultTopicAction: {
    type: 'object',
    required: ['accept'],
    properties: { accept: { type: 'boolean', description: 'whether messages on topics that are not configured are accepted' } },
  },
};

function failure(e: BusError): ApiReply {
  return text(busErrorStatus(e.code), e.message);
}

/** Runs `f` on the decoded topic of the path, or answers 400 saying why it is not one. */
async function withTopic(b64: string, f: (topic: Uint8Array) => ApiReply | Promise<ApiReply>): Promise<ApiReply> {
  const t = decodeTopic(b64, 'the topic in the path');
  if (!t.ok) return text(400, t.message);
  return f(t.value);
}

/** A removal: gone, or never there, is a 204. */
function removed(r: BusResult<void>): ApiReply {
  if (r.ok || r.error.code === 'topic-not-found') return noContent();
  return failure(r.error);
}

export const topicsModule: ApiModule = {
  tag: 'topics',
  description: 'Which senders may send messages on which topic, and Unix sockets that topics are forwarded to.',
  schemas,
  routes: (s) => [
    defineRoute({
      method: 'GET',
      path: '/messages/topics/default',
      operationId: 'getDefaultTopicAction',
      summary: 'Whether messages on topics that are not configured are accepted',
      responses: { 200: { description: 'the default action', schema: { $ref: '#/components/schemas/DefaultTopicAction' } } },
      handler: () => json({ accept: s.messages.getDefaultTopicAccept() }),
    }),
    defineRoute<Record<string, never>, Record<string, never>, { accept: boolean }>({
      method: 'PUT',
      path: '/messages/topics/default',
      operationId: 'setDefaultTopicAction',
      summary: 'Accept or reject messages on topics that are not configured',
      body: { type: 'object', required: ['accept'], properties: { accept: { type: 'boolean' } } },
      responses: { 204: { description: 'set (and stored)' } },
      handler: async ({ body }) => {
        const r = await s.messages.setDefaultTopicAccept(body.accept);
        return r.ok ? noContent() : failure(r.error);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/messages/topics',
      operationId: 'getTopics',
      summary: 'The configured topics (base64)',
      responses: { 200: { description: 'the topics', schema: { type: 'array', items: { type: 'string' } } } },
      handler: () => json(s.messages.topics().map(base64)),
    }),
    defineRoute<Record<string, never>, Record<string, never>, number[] | string>({
      method: 'POST',
      path: '/messages/topics',
      operationId: 'addTopic',
      summary: 'Configure a topic, with no allowed sources yet (so it refuses every sender until some are added)',
      description: 'The body is the topic as a JSON array of byte values, as Mycelium reads it ([104, 105] is "hi"); '
        + 'a JSON string is read as base64 ("aGk=").',
      body: {
        oneOf: [
          { type: 'array', maxItems: MAX_TOPIC_BYTES, items: { type: 'integer', minimum: 0, maximum: 255 }, description: 'the topic\'s bytes' },
          { type: 'string', maxLength: MAX_TOPIC_B64_CHARS, description: 'the topic in base64' },
        ],
      },
      responses: {
        201: { description: 'configured (configuring it again changes nothing)' },
        400: textResponse('not a topic'),
        409: textResponse('too many topics are configured'),
      },
      handler: async ({ body }) => {
        let topic: Uint8Array;
        if (typeof body === 'string') {
          const t = decodeTopic(body, 'the topic');
          if (!t.ok) return text(400, t.message);
          topic = t.value;
        } else {
          topic = Uint8Array.from(body);
        }
        const r = await s.messages.addTopic(topic);
        return r.ok ? noContent(201) : failure(r.error);
      },
    }),
    defineRoute<{ topic: string }>({
      method: 'DELETE',
      path: '/messages/topics/{topic}',
      operationId: 'removeTopic',
      summary: 'Remove a topic\'s configuration: its messages follow the default action again',
      params: topicParams,
      responses: { 204: { description: 'removed (or it was not configured)' }, 400: textResponse('not a base64 topic') },
      handler: ({ params }) => withTopic(params.topic, async (t) => removed(await s.messages.removeTopic(t))),
    }),
    defineRoute<{ topic: string }>({
      method: 'GET',
      path: '/messages/topics/{topic}/sources',
      operationId: 'getTopicSources',
      summary: 'The senders (IPs and subnets) allowed to send on a topic',
      params: topicParams,
      responses: {
        200: { description: 'the sources', schema: { type: 'array', items: { type: 'string' } } },
        400: textResponse('not a base64 topic'),
        404: textResponse('the topic is not configured'),
      },
      handler: ({ params }) => withTopic(params.topic, (t) => {
        const r = s.messages.topicSources(t);
        return r.ok ? json(r.value) : failure(r.error);
      }),
    }),
    defineRoute<{ topic: string }, Record<string, never>, { subnet: string }>({
      method: 'POST',
      path: '/messages/topics/{topic}/sources',
      operationId: 'addTopicSource',
      summary: 'Allow an IP or subnet to send on a topic (configuring the topic if needed)',
      params: topicParams,
      body: { type: 'object', required: ['subnet'], properties: { subnet: subnetProperty } },
      responses: {
        201: { description: 'allowed' },
        400: textResponse('not a base64 topic, or not an IP or CIDR'),
        409: textResponse('too many topics or sources'),
      },
      handler: ({ params, body }) => withTopic(params.topic, async (t) => {
        const r = await s.messages.addTopicSource(t, body.subnet);
        return r.ok ? noContent(201) : failure(r.error);
      }),
    }),
    defineRoute<{ topic: string; subnet: string }>({
      method: 'DELETE',
      path: '/messages/topics/{topic}/sources/{subnet}',
      operationId: 'removeTopicSource',
      summary: 'No longer allow an IP or subnet to send on a topic',
      description: 'URL-encode the subnet: 400::/7 → 400%3A%3A%2F7.',
      params: { type: 'object', required: ['topic', 'subnet'], properties: { topic: topicProperty, subnet: subnetProperty } },
      responses: { 204: { description: 'removed (or it was not allowed)' }, 400: textResponse('not a base64 topic, or not an IP or CIDR') },
      handler: ({ params }) => withTopic(params.topic, async (t) => removed(await s.messages.removeTopicSource(t, params.subnet))),
    }),
    defineRoute<{ topic: string }>({
      method: 'GET',
      path: '/messages/topics/{topic}/forward',
      operationId: 'getTopicForwardSocket',
      summary: 'The Unix socket a topic\'s messages are forwarded to, or null',
      params: topicParams,
      responses: { 200: { description: 'the socket path, or null', schema: { type: ['string', 'null'] } }, 400: textResponse('not a base64 topic') },
      handler: ({ params }) => withTopic(params.topic, (t) => {
        const r = s.messages.topicForwardSocket(t);
        if (r.ok) return json(r.value);
        return r.error.code === 'topic-not-found' ? json(null) : failure(r.error);
      }),
    }),
    defineRoute<{ topic: string }, Record<string, never>, { socketPath?: string; socket_path?: string }>({
      method: 'PUT',
      path: '/messages/topics/{topic}/forward',
      operationId: 'setTopicForwardSocket',
      summary: 'Forward a topic\'s messages to a Unix socket; what the program there answers goes back as the reply',
      description: 'The body is {"socketPath": "/run/app.sock"} (Mycelium\'s code; its api.yaml says socket_path, also accepted). '
        + 'The topic must be configured first (POST /messages/topics).',
      params: topicParams,
      body: {
        type: 'object',
        minProperties: 1,
        properties: {
          socketPath: { type: 'string', minLength: 1, maxLength: MAX_SOCKET_PATH_CHARS },
          socket_path: { type: 'string', minLength: 1, maxLength: MAX_SOCKET_PATH_CHARS, description: 'the same, as api.yaml spells it' },
        },
      },
      responses: {
        204: { description: 'set' },
        400: textResponse('not a base64 topic, or not a usable socket path'),
        404: textResponse('the topic is not configured'),
      },
      handler: ({ params, body }) => withTopic(params.topic, async (t) => {
        const path = body.socketPath ?? body.socket_path;
        if (path === undefined) return text(400, 'the body must be {"socketPath": "/path/to/unix.sock"}');
        const r = await s.messages.setTopicForwardSocket(t, path);
        if (r.ok) return noContent();
        if (r.error.code === 'topic-not-found') return text(404, `${r.error.message}: configure it first with POST /api/v1/messages/topics`);
        return failure(r.error);
      }),
    }),
    defineRoute<{ topic: string }>({
      method: 'DELETE',
      path: '/messages/topics/{topic}/forward',
      operationId: 'removeTopicForwardSocket',
      summary: 'Stop forwarding a topic\'s messages (they go to the inbox again)',
      params: topicParams,
      responses: { 204: { description: 'removed (or there was none)' }, 400: textResponse('not a base64 topic') },
      handler: ({ params }) => withTopic(params.topic, async (t) => removed(await s.messages.setTopicForwardSocket(t, null))),
    }),
  ],
};
