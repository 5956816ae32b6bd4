// The signed Envelope every Micelio message travels in: message types, the exact bytes that are
// signed, and decode / encode. Signing and verifying live in crypto/envelope.ts.
import type { Result } from '../../base/result.ts';
import { EnvelopeSchema, type Envelope } from '../gen/micelio_pb.ts';
import { decodeMessage, encodeMessage } from './codec.ts';

/** Micelio msg_type values. 6–99 are reserved for core, 1000+ for plugins. */
export const MsgType = {
  PeerHello: 1,
  PeerHelloAck: 2,
  Chat: 3,
  PeerExchange: 4,
  Keepalive: 5,
  StateUpdate: 6,
  StateSyncRequest: 7,
  StateSyncResponse: 8,
  /** Hypha only, between Hypha peers: one Babel control packet of the overlay (overlay.ts). */
  OverlayControl: 90,
  /** Hypha only, between Hypha peers: one Mycelium data packet of the overlay (overlay.ts). */
  OverlayData: 91,
} as const;

/** msg_types the link layer consumes itself (the overlay's go to the overlay); every other type goes up to gossip. */
export function isLinkLocalMsgType(t: number): boolean {
  return (
    t === MsgType.PeerHello ||
    t === MsgType.PeerHelloAck ||
    t === MsgType.PeerExchange ||
    t === MsgType.Keepalive ||
    t === MsgType.OverlayControl ||
    t === MsgType.OverlayData
  );
}

/** hop_count Micelio gives to gossiped messages it originates. */
export const DEFAULT_MAX_HOPS = 10;
/** hop_count of direct (never relayed) messages. */
export const DIRECT_HOPS = 1;
export const ED25519_SIGNATURE_BYTES = 64;
export const ED25519_PUBLIC_KEY_BYTES = 32;

/** Envelope{msg_type: 5}: no id, no sender, no signature. */
export const KEEPALIVE_ENVELOPE_BYTES: Uint8Array = Uint8Array.of(0x28, 0x05);

export interface SignedFields {
  messageId: string;
  senderId: string;
  lamportTs: bigint;
  msgType: number;
  payload: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * utf8(message_id) ‖ utf8(sender_id) ‖ u64_BE(lamport_ts) ‖ u32_BE(msg_type) ‖ payload — no lengths,
 * no separators, no domain tag. hop_count, signature and sender_pubkey are not covered.
 */
export function envelopeSignBytes(env: SignedFields): Uint8Array {
  const id = utf8.encode(env.messageId);
  const sender = utf8.encode(env.senderId);
  const out = new Uint8Array(id.length + sender.length + 12 + env.payload.length);
  out.set(id, 0);
  out.set(sender, id.length);
  const view = new DataView(out.buffer);
  let o = id.length + sender.length;
  view.setBigUint64(o, BigInt.asUintN(64, env.lamportTs));
  o += 8;
  view.setUint32(o, env.msgType >>> 0);
  o += 4;
  out.set(env.payload, o);
  return out;
}

export function decodeEnvelope(bytes: Uint8Array): Result<Envelope> {
  return decodeMessage(EnvelopeSchema, bytes);
}

export function encodeEnvelope(env: Envelope): Uint8Array {
  return encodeMessage(EnvelopeSchema, env);
}
