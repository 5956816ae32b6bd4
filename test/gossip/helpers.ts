// A stand-in for the peer manager (what the gossip engine uses of it), and envelope makers, so the
// engine runs on a VirtualClock with exact control over who sends what and what goes out.
import { createHash, randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { silentLogger } from '../../src/base/log.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { Emitter } from '../../src/peers/events.ts';
import type { PeerHandle, PeerManagerEvents } from '../../src/peers/manager.ts';
import { EnvelopeSchema, type Envelope } from '../../src/wire/gen/micelio_pb.ts';
import { decodeEnvelope, encodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import type { GossipPeers } from '../../src/gossip/engine.ts';
import { newEnvelope, signEnvelope } from '../../src/crypto/envelope.ts';

const identities = new Map<number, NodeIdentity>();

/** Test identity number n (distinct for every n, the same on every run). */
export function ident(n: number): NodeIdentity {
  let id = identities.get(n);
  if (id === undefined) {
    id = identityFromSeed(new Uint8Array(createHash('sha256').update(`hypha gossip test ${n}`).digest()));
    identities.set(n, id);
  }
  return id;
}

export interface Sent {
  to: string;
  bytes: Uint8Array;
  env: Envelope;
}

export class FakePeers implements GossipPeers {
  readonly events = new Emitter<PeerManagerEvents>(silentLogger());
  readonly handles = new Map<string, PeerHandle>();
  readonly sent: Sent[] = [];
  /** Peers whose send queue is full: send() refuses. */
  readonly full = new Set<string>();

  on<K extends keyof PeerManagerEvents>(event: K, fn: (...args: PeerManagerEvents[K]) => void): () => void {
    return this.events.on(event, fn);
  }

  peers(): PeerHandle[] {
    return [...this.handles.values()];
  }

  peer(nodeId: string): PeerHandle | undefined {
    return this.handles.get(nodeId);
  }

  send(nodeId: string, envelope: Envelope | Uint8Array): boolean {
    if (!this.handles.has(nodeId) || this.full.has(nodeId)) return false;
    const bytes = envelope instanceof Uint8Array ? envelope : encodeEnvelope(envelope);
    const env = decodeEnvelope(bytes);
    if (!env.ok) throw new Error('engine sent bytes that do not decode');
    this.sent.push({ to: nodeId, bytes, env: env.value });
    return true;
  }

  broadcast(envelope: Envelope | Uint8Array, except?: string): { sent: number; total: number } {
    let sent = 0;
    let total = 0;
    for (const id of this.handles.keys()) {
      if (id === except) continue;
      total++;
      if (this.send(id, envelope)) sent++;
    }
    return { sent, total };
  }

  /** A neighbour connects: its handle appears and its hello key is announced as 'direct'. */
  connect(id: NodeIdentity | string): string {
    const nodeId = typeof id === 'string' ? id : id.nodeId;
    const pk = typeof id === 'string' ? new Uint8Array(32) : id.ed25519Public;
    const handle: PeerHandle = {
      nodeId,
      ed25519PublicKey: pk,
      version: 'hypha/test',
      tags: [],
      listenAddr: '',
      reachable: false,
      direction: 'inbound',
      remoteAddress: 'mem',
      isHypha: true,
      connectedAtMs: 0,
      linkId: this.handles.size + 1,
      connected: true,
      stats: () => ({ txBytes: 0, rxBytes: 0, txMessages: 0, rxMessages: 0, dropped: 0, lastRxMs: 0, lastTxMs: 0 }),
    };
    this.handles.set(nodeId, handle);
    if (typeof id !== 'string') this.events.emit('key', { nodeId, publicKey: pk, trust: 'direct', via: nodeId });
    this.events.emit('connected', handle);
    return nodeId;
  }

  /** An envelope arrives from neighbour `from`, as the peer manager hands it up. */
  deliver(from: string, env: Envelope): void {
    const h = this.handles.get(from);
    if (!h) throw new Error(`not connected: ${from}`);
    this.events.emit('envelope', h, env);
  }

  take(): Sent[] {
    return this.sent.splice(0);
  }
}

/** A gossiped envelope signed by `by` (sender_pubkey set unless told otherwise), as another node sends it. */
export function signed(
  by: NodeIdentity,
  o: { msgType?: number; payload?: Uint8Array | string; hopCount?: number; messageId?: string; withPubkey?: boolean } = {},
): Envelope {
  const payload = typeof o.payload === 'string' ? new TextEncoder().encode(o.payload) : (o.payload ?? new TextEncoder().encode('hello'));
  return newEnvelope({
    msgType: o.msgType ?? 3,
    payload,
    senderId: by.nodeId,
    signingKey: by.signingKey,
    hopCount: o.hopCount ?? 10,
    senderPubkey: o.withPubkey === false ? undefined : by.ed25519Public,
    messageId: o.messageId ?? randomUUID(),
  });
}

/** Re-signs an envelope with a different key (a forgery as far as its sender_id goes). */
export function resignedBy(env: Envelope, key: NodeIdentity): Envelope {
  const copy = create(EnvelopeSchema, { ...env });
  signEnvelope(copy, key.signingKey);
  return copy;
}
