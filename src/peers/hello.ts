// The PeerHello / PeerHelloAck exchange that binds a Noise session to an Ed25519 identity. Building
// and checking are pure functions; the manager drives the exchange over a link.
import { create } from '@bufbuild/protobuf';
import { bytesEqual } from '../base/bytes.ts';
import { err, ok, type Result } from '../base/result.ts';
import { ed25519PublicToX25519 } from '../crypto/ed25519.ts';
import { nodeIdOf, type NodeIdentity } from '../identity/identity.ts';
import { PeerHelloSchema } from '../wire/gen/micelio_pb.ts';
import type { MsgType } from '../wire/micelio/envelope.ts';
import { decodeMessage, encodeMessage } from '../wire/micelio/codec.ts';
import { ED25519_PUBLIC_KEY_BYTES, decodeEnvelope, encodeEnvelope } from '../wire/micelio/envelope.ts';
import { newEnvelope, verifyEnvelope } from '../crypto/envelope.ts';

/** What a node says about itself in its hello. */
export interface HelloContent {
  /** Hypha sends `hypha/<semver>`; Micelio sends "0.1.0". */
  version: string;
  tags: readonly string[];
  /** The advertised address, or '' (then reachable is false). */
  listenAddr: string;
}

/** A hello whose seven identity checks passed. */
export interface VerifiedHello {
  nodeId: string;
  ed25519PublicKey: Uint8Array;
  version: string;
  tags: string[];
  reachable: boolean;
  listenAddr: string;
}

export type HelloType = typeof MsgType.PeerHello | typeof MsgType.PeerHelloAck;

/** The framed-payload bytes (an Envelope) of a hello (msg_type 1) or ack (2): signed, hop 1, no sender_pubkey. */
export function buildHello(id: NodeIdentity, content: HelloContent, msgType: HelloType, messageId?: string): Uint8Array {
  const hello = create(PeerHelloSchema, {
    nodeId: id.nodeId,
    version: content.version,
    tags: [...content.tags],
    reachable: content.listenAddr !== '',
    listenAddr: content.listenAddr,
    ed25519Pubkey: id.ed25519Public,
  });
  const env = newEnvelope({
    msgType,
    payload: encodeMessage(PeerHelloSchema, hello),
    senderId: id.nodeId,
    signingKey: id.signingKey,
    messageId,
  });
  return encodeEnvelope(env);
}

/**
 * Micelio's checks, in its order: (1) the envelope decodes, (2) msg_type is the one expected,
 * (3) the payload is a PeerHello, (4) the envelope is signed by the hello's 32-byte key, (5)
 * sender_id equals the hello's node_id; then (6) node_id is the SHA-256 of the key and (7) the key,
 * converted to X25519, is the static key the Noise handshake proved.
 */
export function verifyHello(msg: Uint8Array, expected: HelloType, noiseStatic: Uint8Array | undefined): Result<VerifiedHello> {
  const env = decodeEnvelope(msg);
  if (!env.ok) return err('malformed-envelope', `hello: ${env.error.message}`);
  const e = env.value;
  if (e.msgType !== expected) return err('unexpected-type', `expected msg_type ${expected}, got ${e.msgType}`);
  const hello = decodeMessage(PeerHelloSchema, e.payload);
  if (!hello.ok) return err('malformed-hello', hello.error.message);
  const h = hello.value;
  if (h.ed25519Pubkey.length !== ED25519_PUBLIC_KEY_BYTES) {
    return err('bad-key', `hello key is ${h.ed25519Pubkey.length} bytes, not ${ED25519_PUBLIC_KEY_BYTES}`);
  }
  if (!verifyEnvelope(e, h.ed25519Pubkey)) return err('bad-signature', 'hello signature invalid');
  if (e.senderId !== h.nodeId) return err('sender-mismatch', 'hello sender_id does not match node_id');
  if (h.nodeId !== nodeIdOf(h.ed25519Pubkey)) return err('id-mismatch', 'hello node_id is not the hash of its key');
  if (!noiseStatic) return err('no-static', 'link did not authenticate a static key');
  const x = ed25519PublicToX25519(h.ed25519Pubkey);
  if (!x) return err('bad-key', 'hello key is not a valid Ed25519 point');
  if (!bytesEqual(x, noiseStatic)) return err('static-mismatch', 'hello key does not match Noise static key');
  return ok({
    nodeId: h.nodeId,
    ed25519PublicKey: h.ed25519Pubkey,
    version: h.version,
    tags: h.tags,
    reachable: h.reachable,
    listenAddr: h.listenAddr,
  });
}
