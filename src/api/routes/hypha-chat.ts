// The partyline for programs: POST /api/v1/hypha/chat says a line as a nick (shown to the SSH sessions here,
// gossiped to the mesh like a typed line), GET /api/v1/hypha/chat reads the recent lines (local and from the
// mesh), by cursor, waiting for new ones if asked (long-poll).
import { defineRoute, json, ref, text, textResponse, type ApiModule, type JsonSchema } from '../route.ts';
import { cursorPageProperties, cursorQuery, cursorRequest, failure, type CursorParams } from './cursor.ts';

/** Nick and line bounds: the partyline's (README "Partyline"). */
const MAX_NICK_CHARS = 32;
const MAX_TEXT_CHARS = 4096;
export const DEFAULT_CHAT_LIMIT = 100;
export const MAX_CHAT_LIMIT = 512;

const schemas: Record<string, JsonSchema> = {
  ChatLine: {
    type: 'object',
    description: 'One partyline line as sessions saw it: control characters removed, bounded.',
    required: ['seq', 'origin', 'via', 'nick', 'text', 'nodeId', 'nodeName', 'time', 'timeMs'],
    properties: {
      seq: { type: 'integer', minimum: 1, description: 'position in this node\'s recent-lines log; pass the last one seen as `after`' },
      origin: { type: 'string', enum: ['local', 'remote'], description: 'said on this node, or arrived from the mesh' },
      via: { type: 'string', enum: ['ssh', 'api', 'mesh'] },
      nick: { type: 'string', examples: ['alice'] },
      text: { type: 'string', examples: ['hello mesh'] },
      nodeId: { type: 'string', description: 'the node the line comes from (64 hex for Hypha and Micelio nodes)' },
      nodeName: { type: ['string', 'null'], description: 'that node\'s name, if it sent one' },
      time: { type: 'string', description: 'when this node showed it, ISO 8601', examples: ['2025-01-02T03:04:05.678Z'] },
      timeMs: { type: 'integer', minimum: 0, description: 'the same, unix ms' },
    },
  },
  ChatPage: {
    type: 'object',
    required: ['lines', 'next', 'missed', 'reset', 'epoch'],
    properties: { lines: { type: 'array', items: ref('ChatLine') }, ...cursorPageProperties },
  },
  ChatSent: {
    type: 'object',
    required: ['line', 'mesh'],
    properties: {
      line: ref('ChatLine'),
      mesh: { type: 'string', enum: ['sent', 'no-peers', 'no-mesh'], description: '"sent": gossiped to the connected peers; "no-peers": none is connected; "no-mesh": chat over the mesh is off' },
    },
  },
};

export const hyphaChatModule: ApiModule = {
  tag: 'chat',
  description: 'Hypha: the partyline (SSH chat) of the mesh, for programs.',
  schemas,
  routes: (s) => [
    defineRoute<Record<string, never>, Record<string, never>, { nick: string; text: string }>({
      method: 'POST',
      path: '/hypha/chat',
      operationId: 'sendChatLine',
      summary: 'Say a line on the partyline as a nick',
      description: `Shown to this node's SSH sessions as "[nick] text" and gossiped to the mesh like a typed line. Control characters are removed; the nick has at most ${MAX_NICK_CHARS} characters, the text ${MAX_TEXT_CHARS}. A node sends at most 10 lines per second to the mesh (bursts of 20); a line over that is refused with 429 and not shown.`,
      body: {
        type: 'object',
        required: ['nick', 'text'],
        properties: {
          nick: { type: 'string', minLength: 1, maxLength: MAX_NICK_CHARS, examples: ['bot'] },
          text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_CHARS, examples: ['hello mesh'] },
        },
      },
      responses: {
        200: { description: 'said', schema: ref('ChatSent') },
        400: textResponse('nick or text empty once control characters are removed, or too long'),
        429: textResponse('over the rate lines go to the mesh at; the message says when to try again'),
        503: textResponse('the partyline is not running'),
      },
      handler: ({ body }) => {
        const r = s.chat.send(body.nick, body.text);
        if (r.ok) return json(r.value);
        return text(r.code === 'paced' ? 429 : r.code === 'bad-input' ? 400 : 503, r.message);
      },
    }),
    defineRoute<Record<string, never>, CursorParams>({
      method: 'GET',
      path: '/hypha/chat',
      operationId: 'getChatLines',
      summary: 'Recent partyline lines, local and from the mesh',
      description: `Without \`after\`: the latest \`limit\` lines. With \`after\` (and the \`epoch\` of the answer it came from): the lines after it, waiting up to \`timeout\` seconds for one if there are none yet. The node keeps the last ${MAX_CHAT_LIMIT} lines.`,
      query: cursorQuery(DEFAULT_CHAT_LIMIT, MAX_CHAT_LIMIT, 'lines'),
      responses: {
        200: { description: 'the lines, oldest first, and the cursor to go on with', schema: ref('ChatPage') },
        503: textResponse('too many readers are waiting, or the partyline is not running'),
      },
      handler: async ({ query, signal }) => {
        const r = await s.chat.recent(cursorRequest(query, DEFAULT_CHAT_LIMIT, signal));
        return r.ok ? json(r.value) : failure(r);
      },
    }),
  ],
};
