// The signed Envelope every Micelio message travels in: message types, the exact bytes that are
// signed, and sign / verify / decode helpers.
import { randomUUID, type KeyObject } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { ed25519Sign, ed25519Verify } from '../../crypto/ed25519.ts';
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

export function signEnvelope(env: Envelope, key: KeyObject): void {
  env.signature = ed25519Sign(key, envelopeSignBytes(env));
}

/** False unless the key is 32 bytes, the signature 64 bytes, and the signature verifies. */
export function verifyEnvelope(env: Envelope, publicKey: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || env.signature.length !== ED25519_SIGNATURE_BYTES) return false;
  return ed25519Verify(publicKey, envelopeSignBytes(env), env.signature);
}

export interface NewEnvelope {
  msgType: number;
  payload: Uint8Array;
  senderId: string;
  /** Signs when given; keepalives are the only unsigned envelopes. */
  signingKey?: KeyObject;
  hopCount?: number;
  /** Set on gossiped messages so receivers can learn the originator's key. */
  senderPubkey?: Uint8Array;
  /** A fresh UUIDv4 unless given (tests pin it). */
  messageId?: string;
  lamportTs?: bigint;
}

export function newEnvelope(o: NewEnvelope): Envelope {
  const env = create(EnvelopeSchema, {
    messageId: o.messageId ?? randomUUID(),
    senderId: o.senderId,
    lamportTs: o.lamportTs ?? 0n,
    hopCount: o.hopCount ?? DIRECT_HOPS,
    msgType: o.msgType,
    payload: o.payload,
    senderPubkey: o.senderPubkey ?? new Uint8Array(0),
  });
  if (o.signingKey) signEnvelope(env, o.signingKey);
  return env;
}

export function decodeEnvelope(bytes: Uint8Array): Result<Envelope> {
  return decodeMessage(EnvelopeSchema, bytes);
}

export function encodeEnvelope(env: Envelope): Uint8Array {
  return encodeMessage(EnvelopeSchema, env);
}
