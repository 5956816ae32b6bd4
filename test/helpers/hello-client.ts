// A raw peer that completes Noise and then sends whatever hello (or frames) a test wants.
import { create } from '@bufbuild/protobuf';
import type { NodeIdentity } from '../../src/identity/identity.ts';
import { PeerHelloSchema } from '../../src/wire/gen/micelio_pb.ts';
import { encodeMessage } from '../../src/wire/micelio/codec.ts';
import { MsgType, encodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { rawNoiseClient, waitFor, type RawNoiseClient } from './noise-client.ts';
import { newEnvelope } from '../../src/crypto/envelope.ts';

export interface HelloTweaks {
  /** Identity whose key goes in the hello and signs it (default: the Noise identity). */
  helloIdentity?: NodeIdentity;
  nodeId?: string;
  senderId?: string;
  corruptSignature?: boolean;
  msgType?: number;
  version?: string;
}

export function helloEnvelope(id: NodeIdentity, t: HelloTweaks = {}): Uint8Array {
  const who = t.helloIdentity ?? id;
  const hello = create(PeerHelloSchema, {
    nodeId: t.nodeId ?? who.nodeId,
    version: t.version ?? '0.1.0',
    ed25519Pubkey: who.ed25519Public,
  });
  const env = newEnvelope({
    msgType: t.msgType ?? MsgType.PeerHello,
    payload: encodeMessage(PeerHelloSchema, hello),
    senderId: t.senderId ?? t.nodeId ?? who.nodeId,
    signingKey: who.signingKey,
  });
  if (t.corruptSignature) env.signature[10] ^= 0x01;
  return encodeEnvelope(env);
}

/** Completes Noise as `id`, sends a (possibly tweaked) hello; with `awaitAck` waits for the ack. */
export async function helloClient(address: string, id: NodeIdentity, t: HelloTweaks = {}, awaitAck = false): Promise<RawNoiseClient> {
  const c = await rawNoiseClient(address, id);
  c.sendFrame(helloEnvelope(id, t));
  if (awaitAck) await waitFor(() => c.received.length >= 1, 'hello ack');
  return c;
}
