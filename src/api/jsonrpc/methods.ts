// The JSON-RPC methods of Mycelium's API (reference §5.7) on top of NodeServices: the same names, positional
// parameters (by name too), results and error codes as its Rust code, so its clients work unchanged. Where
// Mycelium answers a bare code with the message "Server error", Hypha's message says what was wrong.
//
// Hypha additions, ignored by Mycelium's clients: pushMessage and pushMessageReply take an optional last
// parameter `deadline` (seconds the message is tried, default 300), and a few codes of its own:
//   -32040 busy (outbox full, too many waiting calls, shutting down): try again later
//   -32041 limit reached (too many topics, or sources of a topic)
//   -32050 not supported by this node (the SOCKS proxy probe)
import { isIPv4, isIPv6 } from 'node:net';
import { toHex } from '../../base/bytes.ts';
import { inboundMessageJson, parseMessageId, base64, type BusError, type BusResult } from '../../messages/index.ts';
import { parseIpv6 } from '../../wire/ipv6.ts';
import { decodeSendInfo, decodeTopic, MAX_WAIT_SECONDS, waitMs, type SendInfo } from '../message-json.ts';
import type { JsonSchema } from '../route.ts';
import type { NodeServices, PeerChange } from '../services.ts';
import { INTERNAL_ERROR, INVALID_PARAMS, rpcError, rpcOk, type Decoded, type RpcError, type RpcMethod, type RpcOutcome, type RpcParam } from './protocol.ts';

// Mycelium's codes (mycelium-api/src/rpc.rs).
export const RPC_BAD_IP = -32007;
export const RPC_PUBKEY_NOT_FOUND = -32008;
export const RPC_ADD_PEER_BAD_ENDPOINT = -32009;
export const RPC_PEER_EXISTS = -32010;
export const RPC_PEER_NOT_FOUND = -32011;
export const RPC_DELETE_PEER_BAD_ENDPOINT = -32012;
export const RPC_POP_BAD_TOPIC = -32013;
export const RPC_PUSH_FAILED = -32015;
export const RPC_REPLY_BAD_ID = -32018;
export const RPC_MESSAGE_NOT_FOUND = -32019;
export const RPC_INFO_BAD_ID = -32020;
export const RPC_BAD_TOPIC = -32021;
export const RPC_BAD_SUBNET = -32023;
export const RPC_TOPIC_NOT_FOUND = -32030;
export const RPC_PROXY_CONNECT_FAILED = -32032;
// Hypha's.
export const RPC_BUSY = -32040;
export const RPC_LIMIT = -32041;
export const RPC_NOT_SUPPORTED = -32050;

const MAX_TEXT_PARAM_CHARS = 1024;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v).slice(0, 40)}`;

function param(name: string, required: boolean, schema: JsonSchema, decode: (v: unknown) => Decoded, extra: Partial<RpcParam> = {}): RpcParam {
  return { name, required, schema, decode, ...extra };
}

const boolParam = (name: string, required: boolean, description: string): RpcParam =>
  param(name, required, { type: 'boolean' }, (v) => (typeof v === 'boolean' ? { ok: true, value: v } : { ok: false, message: `must be true or false, got ${describe(v)}` }), { description });

const secondsParam = (name: string, description: string, aliases?: string[]): RpcParam =>
  param(name, false, { type: 'integer', minimum: 0 }, (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 ? { ok: true, value: v } : { ok: false, message: `must be a whole number of seconds ≥ 0, got ${describe(v)}` },
  { description, ...(aliases ? { aliases } : {}) });

const textParam = (name: string, description: string, aliases?: string[]): RpcParam =>
  param(name, true, { type: 'string', maxLength: MAX_TEXT_PARAM_CHARS }, (v) =>
    typeof v !== 'string' ? { ok: false, message: `must be a string, got ${describe(v)}` }
      : v.length > MAX_TEXT_PARAM_CHARS ? { ok: false, message: `is ${v.length} characters; at most ${MAX_TEXT_PARAM_CHARS}` }
        : { ok: true, value: v },
  { description, ...(aliases ? { aliases } : {}) });

const deadlineParam: RpcParam = param('deadline', false, { type: 'number', exclusiveMinimum: 0, maximum: MAX_WAIT_SECONDS }, (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_WAIT_SECONDS
    ? { ok: true, value: v }
    : { ok: false, message: `must be a number of seconds above 0 and at most ${MAX_WAIT_SECONDS}, got ${describe(v)}` },
{ description: 'Hypha extension: try to deliver the message for this many seconds (default 300); past it the status is "aborted"' });

const messageParam: RpcParam = param('message', true, ref('PushMessageBody'), (v) => {
  const m = decodeSendInfo(v, 'message');
  return m.ok ? { ok: true, value: m.value } : { ok: false, message: m.message };
}, { description: 'destination, optional topic (base64) and payload (base64)' });

/** Topics are checked by the method, so a bad one gets Mycelium's code for that method. */
const topicParam = (description = 'the topic, base64'): RpcParam => textParam('topic', description);

const PARAMS_NONE: readonly RpcParam[] = [];

function method(name: string, summary: string, params: readonly RpcParam[], result: [string, JsonSchema], handler: RpcMethod['handler'], errors: RpcError[] = [], description?: string): RpcMethod {
  return { name, summary, params, result: { name: result[0], schema: result[1] }, handler, errors, ...(description ? { description } : {}) };
}

const TRUE: [string, JsonSchema] = ['success', { type: 'boolean', const: true }];

/** A bus error as a JSON-RPC error: `code` for what the caller got wrong, Hypha's codes for the rest. */
function busFailure(e: BusError, code: number): RpcOutcome {
  switch (e.code) {
    case 'outbox-full':
    case 'too-many-waiters':
    case 'stopped':
      return rpcError(RPC_BUSY, e.message);
    case 'too-many-topics':
    case 'too-many-sources':
      return rpcError(RPC_LIMIT, e.message);
    case 'store-failed':
      return rpcError(INTERNAL_ERROR, e.message);
    case 'topic-not-found':
      return rpcError(RPC_TOPIC_NOT_FOUND, e.message);
    case 'bad-subnet':
      return rpcError(RPC_BAD_SUBNET, e.message);
    case 'bad-socket-path':
      return rpcError(INVALID_PARAMS, `invalid params: ${e.message}`);
    default:
      return rpcError(code, e.message);
  }
}

function done(r: BusResult<void>, code: number): RpcOutcome {
  return r.ok ? rpcOk(true) : busFailure(r.error, code);
}

/** Like done, but removing what is not there succeeds, as in Mycelium. */
function removed(r: BusResult<void>): RpcOutcome {
  return r.ok || r.error.code === 'topic-not-found' ? rpcOk(true) : busFailure(r.error, RPC_BAD_TOPIC);
}

function withTopic(text: unknown, code: number, f: (t: Uint8Array) => RpcOutcome | Promise<RpcOutcome>): RpcOutcome | Promise<RpcOutcome> {
  const t = decodeTopic(text);
  return t.ok ? f(t.value) : rpcError(code, t.message);
}

function peerChange(r: PeerChange, badEndpoint: number, other: number): RpcOutcome {
  if (r.ok) return rpcOk(true);
  return rpcError(r.error.code === 'bad-endpoint' ? badEndpoint : other, r.error.message);
}

/** Every method, by name. `discover` answers rpc.discover (the OpenRPC document, built from these). */
export function rpcMethods(s: NodeServices, discover: () => unknown): Map<string, RpcMethod> {
  const list: RpcMethod[] = [
    // ---- admin
    method('getInfo', 'The node\'s overlay subnet, address, public key and start time', PARAMS_NONE, ['info', ref('Info')], () => rpcOk(s.admin.info())),
    method('getPublicKeyFromIp', 'The public key behind an overlay address', [textParam('ip', 'an overlay IPv6 address', ['mycelium_ip'])], ['pubkey', { type: 'string', pattern: '^[0-9a-f]{64}$' }], ([ip]) => {
      const text = ip as string;
      if (isIPv4(text)) return rpcError(RPC_PUBKEY_NOT_FOUND, `no public key for ${text}: overlay addresses are IPv6 (400::/7)`);
      const bytes = isIPv6(text) && !text.includes('%') ? parseIpv6(text) : undefined;
      if (bytes === undefined) return rpcError(RPC_BAD_IP, `${JSON.stringify(text.slice(0, 60))} is not an IP address`);
      const key = s.admin.publicKeyFor(bytes);
      return key === undefined ? rpcError(RPC_PUBKEY_NOT_FOUND, `no public key known for ${text} (no route to it)`) : rpcOk(toHex(key));
    }, [{ code: RPC_BAD_IP, message: 'not an IP address' }, { code: RPC_PUBKEY_NOT_FOUND, message: 'no public key known for this address' }]),
    method('getPeers', 'Every known Mycelium peer with its state and traffic', PARAMS_NONE, ['peers', { type: 'array', items: ref('PeerStats') }], () => rpcOk(s.admin.peers())),
    method('addPeer', 'Add a static peer and connect to it', [textParam('endpoint', 'tcp://IP:PORT or tcp://[IPv6]:PORT')], TRUE,
      ([ep]) => peerChange(s.admin.addPeer(ep as string), RPC_ADD_PEER_BAD_ENDPOINT, RPC_PEER_EXISTS),
      [{ code: RPC_ADD_PEER_BAD_ENDPOINT, message: 'not a valid endpoint' }, { code: RPC_PEER_EXISTS, message: 'a peer with this endpoint exists' }]),
    method('deletePeer', 'Remove a peer and close its link', [textParam('endpoint', 'as getPeers shows it, e.g. tcp://192.0.2.1:9651')], TRUE,
      ([ep]) => peerChange(s.admin.removePeer(ep as string), RPC_DELETE_PEER_BAD_ENDPOINT, RPC_PEER_NOT_FOUND),
      [{ code: RPC_DELETE_PEER_BAD_ENDPOINT, message: 'not a valid endpoint' }, { code: RPC_PEER_NOT_FOUND, message: 'no peer with this endpoint' }]),
    method('getSelectedRoutes', 'The route in use for each known subnet', PARAMS_NONE, ['routes', { type: 'array', items: ref('Route') }], () => rpcOk(s.admin.selectedRoutes())),
    method('getFallbackRoutes', 'Routes known but not selected', PARAMS_NONE, ['routes', { type: 'array', items: ref('Route') }], () => rpcOk(s.admin.fallbackRoutes())),
    method('getQueriedSubnets', 'Subnets a route request is out for', PARAMS_NONE, ['subnets', { type: 'array', items: ref('QueriedSubnet') }], () => rpcOk(s.admin.queriedSubnets())),
    method('getPacketStatistics', 'Packets and bytes routed, by source and by destination address', PARAMS_NONE, ['statistics', ref('PacketStatistics')], () => rpcOk(s.admin.packetStatistics())),
    // ---- SOCKS proxy: Hypha has none yet; the calls answer as a node with no proxies does.
    method('getProxies', 'Valid SOCKS5 proxies found by probing (Hypha does not probe: always empty)', PARAMS_NONE, ['proxies', { type: 'array', items: { type: 'string' } }], () => rpcOk([])),
    method('connectProxy', 'Connect a local SOCKS5 port to a remote proxy (not supported by Hypha)', [param('remote', false, { type: 'string' }, (v) => (typeof v === 'string' ? { ok: true, value: v } : { ok: false, message: `must be "[ip]:port", got ${describe(v)}` }))],
      ['socket', { type: 'string' }], () => rpcError(RPC_PROXY_CONNECT_FAILED, 'proxy connect failed: this node has no SOCKS5 proxy support'), [{ code: RPC_PROXY_CONNECT_FAILED, message: 'proxy connect failed' }]),
    method('disconnectProxy', 'Disconnect the SOCKS5 proxy (none is ever connected on Hypha)', PARAMS_NONE, TRUE, () => rpcOk(true)),
    method('startProxyProbe', 'Start probing for SOCKS5 proxies (not supported by Hypha)', PARAMS_NONE, TRUE, () => rpcError(RPC_NOT_SUPPORTED, 'this node has no SOCKS5 proxy support, so it does not probe for proxies'), [{ code: RPC_NOT_SUPPORTED, message: 'not supported' }]),
    method('stopProxyProbe', 'Stop probing for SOCKS5 proxies (never running on Hypha)', PARAMS_NONE, TRUE, () => rpcOk(true)),
    method('rpc.discover', 'This API as an OpenRPC document', PARAMS_NONE, ['OpenRPC document', { type: 'object' }], () => rpcOk(discover())),

    // ---- messages
    method('popMessage', 'Take (or peek at) the oldest received message, waiting up to `timeout` seconds; null if none',
      [
        boolParam('peek', false, 'leave the message in the inbox (default false)'),
        secondsParam('timeout', `seconds to wait (default 0; at most ${MAX_WAIT_SECONDS}, longer waits are cut)`),
        param('topic', false, { type: 'string' }, (v) => (typeof v === 'string' ? { ok: true, value: v } : { ok: false, message: `must be a base64 string, got ${describe(v)}` }), { description: 'only a message with exactly this topic (base64)' }),
      ],
      ['message', { oneOf: [ref('InboundMessage'), { type: 'null' }] }],
      async ([peek, timeout, topicText], ctx) => {
        let topic: Uint8Array | undefined;
        if (topicText !== undefined) {
          const t = decodeTopic(topicText);
          if (!t.ok) return rpcError(RPC_POP_BAD_TOPIC, t.message);
          topic = t.value;
        }
        const r = await s.messages.pop({ peek: peek === true, timeoutMs: waitMs((timeout as number | undefined) ?? 0), topic, signal: ctx.signal });
        if (!r.ok) return busFailure(r.error, RPC_POP_BAD_TOPIC);
        return rpcOk(r.value === null ? null : inboundMessageJson(r.value));
      },
      [{ code: RPC_POP_BAD_TOPIC, message: 'the topic is not base64 of at most 255 bytes' }],
      'A waiting call holds up nothing else: other calls, on this connection too, go on.'),
    method('pushMessage', 'Send a message; with reply_timeout, wait that many seconds for the reply and return it',
      [messageParam, secondsParam('reply_timeout', `seconds to wait for the reply (at most ${MAX_WAIT_SECONDS}); without it the id is returned at once`, ['replyTimeout']), deadlineParam],
      ['response', { oneOf: [ref('InboundMessage'), ref('PushMessageResponseId')] }],
      async ([message, replyTimeout, deadline], ctx) => {
        const m = message as SendInfo;
        const r = await s.messages.push({
          ...m,
          deadlineMs: deadline === undefined ? undefined : (deadline as number) * 1000,
          replyTimeoutMs: replyTimeout === undefined ? undefined : waitMs(replyTimeout as number),
          signal: ctx.signal,
        });
        if (!r.ok) return busFailure(r.error, RPC_PUSH_FAILED);
        return rpcOk(r.value.kind === 'reply' ? inboundMessageJson(r.value.reply) : { id: r.value.id });
      },
      [{ code: RPC_PUSH_FAILED, message: 'the message was refused (destination, topic, size or deadline)' }],
      'Returns once the message is stored. Without a reply in time the result is {"id"}, as without waiting.'),
    method('pushMessageReply', 'Reply to a received message', [textParam('id', 'the id of the message answered (16 hex characters)'), messageParam, deadlineParam], TRUE,
      async ([id, message, deadline]) => {
        const parsed = parseMessageId(id as string);
        if (!parsed.ok) return rpcError(RPC_REPLY_BAD_ID, parsed.error.message);
        const m = message as SendInfo;
        const r = await s.messages.reply(id as string, m.dst, m.payload, { deadlineMs: deadline === undefined ? undefined : (deadline as number) * 1000 });
        return r.ok ? rpcOk(true) : busFailure(r.error, RPC_PUSH_FAILED);
      },
      [{ code: RPC_REPLY_BAD_ID, message: 'not a message id' }, { code: RPC_PUSH_FAILED, message: 'the reply was refused' }]),
    method('getMessageInfo', 'The transmission state of a sent message', [textParam('id', 'message id (16 hex characters)')], ['info', ref('MessageInfo')], ([id]) => {
      const r = s.messages.status(id as string);
      if (r.ok) return rpcOk(r.value);
      return rpcError(r.error.code === 'not-found' ? RPC_MESSAGE_NOT_FOUND : RPC_INFO_BAD_ID, r.error.message);
    }, [{ code: RPC_INFO_BAD_ID, message: 'not a message id' }, { code: RPC_MESSAGE_NOT_FOUND, message: 'no message with this id was sent' }]),

    // ---- topics
    method('getDefaultTopicAction', 'Whether messages on topics that are not configured are accepted', PARAMS_NONE, ['accept', { type: 'boolean' }], () => rpcOk(s.messages.getDefaultTopicAccept())),
    method('setDefaultTopicAction', 'Accept or reject messages on topics that are not configured', [boolParam('accept', true, 'true = accept')], TRUE,
      async ([accept]) => done(await s.messages.setDefaultTopicAccept(accept as boolean), INTERNAL_ERROR)),
    method('getTopics', 'The configured topics (base64)', PARAMS_NONE, ['topics', { type: 'array', items: { type: 'string' } }], () => rpcOk(s.messages.topics().map(base64))),
    method('addTopic', 'Configure a topic, with no allowed sources yet (it refuses every sender until some are added)', [topicParam()], TRUE,
      ([t]) => withTopic(t, RPC_BAD_TOPIC, async (topic) => done(await s.messages.addTopic(topic), RPC_BAD_TOPIC)),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic of at most 255 bytes' }]),
    method('removeTopic', 'Remove a topic\'s configuration (its messages follow the default action again)', [topicParam()], TRUE,
      ([t]) => withTopic(t, RPC_BAD_TOPIC, async (topic) => removed(await s.messages.removeTopic(topic))),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic' }]),
    method('getTopicSources', 'The senders (IPs and subnets) allowed to send on a topic', [topicParam()], ['sources', { type: 'array', items: { type: 'string' } }],
      ([t]) => withTopic(t, RPC_BAD_TOPIC, (topic) => {
        const r = s.messages.topicSources(topic);
        return r.ok ? rpcOk(r.value) : busFailure(r.error, RPC_BAD_TOPIC);
      }),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic' }, { code: RPC_TOPIC_NOT_FOUND, message: 'the topic is not configured' }]),
    method('addTopicSource', 'Allow an IP or subnet to send on a topic (configuring the topic if needed)', [topicParam(), textParam('subnet', 'an IP address or CIDR')], TRUE,
      ([t, subnet]) => withTopic(t, RPC_BAD_TOPIC, async (topic) => done(await s.messages.addTopicSource(topic, subnet as string), RPC_BAD_TOPIC)),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic' }, { code: RPC_BAD_SUBNET, message: 'not an IP address or CIDR' }]),
    method('removeTopicSource', 'No longer allow an IP or subnet to send on a topic', [topicParam(), textParam('subnet', 'an IP address or CIDR')], TRUE,
      ([t, subnet]) => withTopic(t, RPC_BAD_TOPIC, async (topic) => removed(await s.messages.removeTopicSource(topic, subnet as string))),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic' }, { code: RPC_BAD_SUBNET, message: 'not an IP address or CIDR' }]),
    method('getTopicForwardSocket', 'The Unix socket a topic\'s messages are forwarded to, or null', [topicParam()], ['socket_path', { type: ['string', 'null'] }],
      ([t]) => withTopic(t, RPC_BAD_TOPIC, (topic) => {
        const r = s.messages.topicForwardSocket(topic);
        return r.ok ? rpcOk(r.value) : r.error.code === 'topic-not-found' ? rpcOk(null) : busFailure(r.error, RPC_BAD_TOPIC);
      }),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic' }]),
    method('setTopicForwardSocket', 'Forward a topic\'s messages to a Unix socket; what the program there answers goes back as the reply',
      [topicParam(), textParam('socket_path', 'path of the Unix socket', ['socketPath'])], TRUE,
      ([t, path]) => withTopic(t, RPC_BAD_TOPIC, async (topic) => done(await s.messages.setTopicForwardSocket(topic, path as string), RPC_BAD_TOPIC)),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic' }, { code: RPC_TOPIC_NOT_FOUND, message: 'the topic is not configured (Mycelium ignores the call)' }],
      'The topic must be configured first (addTopic).'),
    method('removeTopicForwardSocket', 'Stop forwarding a topic\'s messages (they go to the inbox again)', [topicParam()], TRUE,
      ([t]) => withTopic(t, RPC_BAD_TOPIC, async (topic) => removed(await s.messages.setTopicForwardSocket(topic, null))),
      [{ code: RPC_BAD_TOPIC, message: 'not a base64 topic' }]),
  ];
  return new Map(list.map((m) => [m.name, m]));
}
