// Signing and verifying Micelio envelopes (reference §2.5) over the exact bytes wire/ defines.
import { randomUUID, type KeyObject } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { ed25519Sign, ed25519Verify } from './ed25519.ts';
import { EnvelopeSchema, type Envelope } from '../wire/gen/micelio_pb.ts';
import { DIRECT_HOPS, ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, envelopeSignBytes } from '../wire/micelio/envelope.ts';

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

