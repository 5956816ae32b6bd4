// What the message bus hands to its callers (the HTTP and JSON-RPC layers): typed errors, received
// messages, the status of a sent message, and the JSON shapes Mycelium's API uses for them (reference
// §5.5), so the API layer serialises without knowing the bus's internals.
import type { Result } from '../base/result.ts';

/** Stable codes the API layer maps to HTTP statuses and JSON-RPC error numbers. */
export type BusErrorCode =
  | 'bad-id' // not 16 hex characters
  | 'bad-destination' // not an IPv6 address in 400::/7
  | 'bad-public-key' // not 64 hex characters, or a key that gives no address
  | 'topic-too-large' // more than 255 bytes
  | 'message-too-large' // over the bus's message size limit
  | 'bad-deadline' // deadline or reply timeout out of range
  | 'outbox-full' // too many (or too many bytes of) messages waiting to be sent
  | 'not-found' // no message with that id
  | 'topic-not-found'
  | 'too-many-topics'
  | 'too-many-sources'
  | 'bad-subnet' // not an IP address or CIDR
  | 'bad-socket-path'
  | 'too-many-waiters' // too many concurrent long-polls / reply waits
  | 'stopped' // the bus is stopped (node shutting down)
  | 'store-failed'; // the database refused a write

export interface BusError {
  code: BusErrorCode;
  /** Says what was wrong, with the offending value: fit to show to a person as is. */
  message: string;
}

export type BusResult<T> = Result<T, BusError>;

export function busError(code: BusErrorCode, message: string): { ok: false; error: BusError } {
  return { ok: false, error: { code, message } };
}

/** A destination as API callers give it: an overlay IP, or the node's X25519 public key in hex. */
export type Destination = { ip: string } | { pk: string };

/** A message that arrived, was verified (BLAKE3) and accepted. */
export interface ReceivedMessage {
  /** 16 hex characters. */
  id: string;
  /** It answers a message we sent with the same id. */
  isReply: boolean;
  srcIp: string;
  /** Sender's X25519 public key, 64 hex characters. */
  srcPk: string;
  dstIp: string;
  dstPk: string;
  topic: Uint8Array;
  payload: Uint8Array;
  /** Clock time (ms) the message was accepted. */
  receivedAt: number;
}

/** Mycelium's InboundMessage JSON. */
export interface InboundMessageJson {
  id: string;
  srcIp: string;
  srcPk: string;
  dstIp: string;
  dstPk: string;
  /** Standard base64 with padding; omitted when the topic is empty. */
  topic?: string;
  payload: string;
}

export function inboundMessageJson(m: ReceivedMessage): InboundMessageJson {
  const head = { id: m.id, srcIp: m.srcIp, srcPk: m.srcPk, dstIp: m.dstIp, dstPk: m.dstPk };
  // Key order as Mycelium writes it: topic (only when set) before payload.
  return m.topic.length > 0 ? { ...head, topic: base64(m.topic), payload: base64(m.payload) } : { ...head, payload: base64(m.payload) };
}

/** Mycelium's transmission state of a sent message, as its JSON has it. */
export type TransmissionState = 'pending' | { sending: { pending: number; sent: number; acked: number } } | 'received' | 'read' | 'aborted';

/** Mycelium's MessageInfo JSON (GET /messages/status/{id}, getMessageInfo). */
export interface MessageInfo {
  dst: string;
  state: TransmissionState;
  /** Unix seconds. */
  created: number;
  /** Unix seconds: when the bus gives up (the deadline the caller asked for). */
  deadline: number;
  msgLen: number;
}

/** What push() returns: the id at once, or — when asked to wait — the reply, or the id after the wait ran out. */
export type PushOutcome =
  | { kind: 'sent'; id: string }
  | { kind: 'reply'; id: string; reply: ReceivedMessage }
  | { kind: 'timeout'; id: string };

export function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/**
 * Strict standard base64 (with or without padding), as the API receives topics and payloads; undefined
 * when the text is not base64 (Node's decoder would silently skip bad characters).
 */
export function fromBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return undefined;
  const unpadded = s.replace(/=+$/, '');
  if (s.length % 4 !== 0 && s.length !== unpadded.length) return undefined;
  return new Uint8Array(Buffer.from(unpadded, 'base64'));
}
