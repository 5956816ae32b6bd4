// A stand-in for src/gossip/engine.ts (being written on the gossip branch), with the agreed public shape:
// handle / broadcast / sendDirect / publicKeyOf. It follows Micelio's gossip rules (reference §3.3):
// seen cache, keyring with auto-learn from sender_pubkey, envelope verification, a per-originator rate
// limit (10/s, burst 20), delivery, then forwarding to 3 random neighbours while hop_count > 1. It also
// counts the bytes it sends per msg_type, which the state benchmarks read.
//
// TEMPORARY: src/node/parts.ts uses it until the real engine is merged; the lead switches that import.
import { createHash, type KeyObject } from 'node:crypto';
import type { Clock } from '../../src/base/clock.ts';
import type { Logger } from '../../src/base/log.ts';
import { BoundedMap } from '../../src/base/bounded-map.ts';
import type { NodeIdentity } from '../../src/identity/identity.ts';
import type { PeerHandle, PeerManager } from '../../src/peers/manager.ts';
import type { Envelope } from '../../src/wire/gen/micelio_pb.ts';
import { DEFAULT_MAX_HOPS, encodeEnvelope, envelopeSignBytes } from '../../src/wire/micelio/envelope.ts';
import { ed25519PublicKeyObject, ed25519Verify } from '../../src/crypto/ed25519.ts';
import { newEnvelope } from '../../src/crypto/envelope.ts';

export interface GossipMessage {
  msgType: number;
  senderId: string;
  senderPublicKey: Uint8Array;
  payload: Uint8Array;
  hopCount: number;
  messageId: string;
  /** Neighbour node id it arrived from; '' for own. */
  fromPeer: string;
}

export type GossipHandler = (msg: GossipMessage) => void;

export interface GossipEngineOptions {
  peers: PeerManager;
  identity: NodeIdentity;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  fanout?: number;
  ratePerS?: number;
  burst?: number;
}

const MAX_PAYLOAD_BYTES = 65_536;
const MAX_ID_BYTES = 128;
const SEEN_TTL_MS = 5 * 60_000;
const SEEN_ENTRIES = 100_000;

export class GossipEngine {
  private readonly peers: PeerManager;
  private readonly id: NodeIdentity;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly fanout: number;
  private readonly ratePerS: number;
  private readonly burst: number;
  private readonly handlers = new Map<number, GossipHandler>();
  private readonly keyring = new Map<string, { key: Uint8Array; trust: number; obj?: KeyObject }>();
  private readonly seen = new BoundedMap<string, number>(SEEN_ENTRIES);
  private readonly limiter = new BoundedMap<string, { tokens: number; atMs: number }>(10_000);
  private readonly off: (() => void)[] = [];
  /** Encoded envelope bytes this node sent (originated or forwarded), by msg_type. */
  readonly bytesSent = new Map<number, number>();
  readonly messagesSent = new Map<number, number>();
  dropped = { duplicate: 0, unknownSender: 0, badSignature: 0, rateLimited: 0, invalid: 0 };

  constructor(o: GossipEngineOptions) {
    this.peers = o.peers;
    this.id = o.identity;
    this.clock = o.clock;
    this.log = o.logger.child({ component: 'gossip' });
    this.random = o.random ?? Math.random;
    this.fanout = o.fanout ?? 3;
    this.ratePerS = o.ratePerS ?? 10;
    this.burst = o.burst ?? 20;
    this.keyring.set(this.id.nodeId, { key: this.id.ed25519Public, trust: 0 });
  }

  start(): void {
    this.off.push(this.peers.on('envelope', (from, env) => this.onEnvelope(from, env)));
    this.off.push(this.peers.on('key', (k) => this.learn(k.nodeId, k.publicKey, k.trust === 'direct' ? 0 : 1)));
  }

  stop(): void {
    for (const f of this.off.splice(0)) f();
  }

  handle(msgType: number, handler: GossipHandler): () => void {
    this.handlers.set(msgType, handler);
    return () => {
      if (this.handlers.get(msgType) === handler) this.handlers.delete(msgType);
    };
  }

  publicKeyOf(nodeId: string): Uint8Array | undefined {
    return this.keyring.get(nodeId)?.key;
  }

  broadcast(msgType: number, payload: Uint8Array): { messageId: string; sent: number; total: number } {
    const env = newEnvelope({ msgType, payload, senderId: this.id.nodeId, signingKey: this.id.signingKey, hopCount: DEFAULT_MAX_HOPS, senderPubkey: this.id.ed25519Public });
    this.seen.set(env.messageId, this.clock.now() + SEEN_TTL_MS);
    const bytes = encodeEnvelope(env);
    let sent = 0;
    const peers = this.peers.peers();
    for (const p of peers) if (this.send(p.nodeId, msgType, bytes)) sent++;
    return { messageId: env.messageId, sent, total: peers.length };
  }

  sendDirect(peerNodeId: string, msgType: number, payload: Uint8Array): boolean {
    const env = newEnvelope({ msgType, payload, senderId: this.id.nodeId, signingKey: this.id.signingKey, hopCount: 1 });
    return this.send(peerNodeId, msgType, encodeEnvelope(env));
  }

  private send(peer: string, msgType: number, bytes: Uint8Array): boolean {
    const ok = this.peers.send(peer, bytes);
    if (ok) {
      this.bytesSent.set(msgType, (this.bytesSent.get(msgType) ?? 0) + bytes.length);
      this.messagesSent.set(msgType, (this.messagesSent.get(msgType) ?? 0) + 1);
    }
    return ok;
  }

  private learn(nodeId: string, key: Uint8Array, trust: number): void {
    const have = this.keyring.get(nodeId);
    if (have && have.trust <= trust) return;
    this.keyring.set(nodeId, { key, trust });
  }

  private allow(origin: string): boolean {
    const now = this.clock.now();
    const b = this.limiter.get(origin);
    if (!b) {
      this.limiter.set(origin, { tokens: this.burst - 1, atMs: now });
      return true;
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.atMs) / 1000) * this.ratePerS);
    b.atMs = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private onEnvelope(from: PeerHandle, env: Envelope): void {
    if (env.messageId === '' || env.senderId === '' || env.messageId.length > MAX_ID_BYTES || env.senderId.length > MAX_ID_BYTES || env.payload.length > MAX_PAYLOAD_BYTES) {
      this.dropped.invalid++;
      return;
    }
    const now = this.clock.now();
    const until = this.seen.get(env.messageId);
    if (until !== undefined && until > now) {
      this.dropped.duplicate++;
      return;
    }
    let k = this.keyring.get(env.senderId);
    if (!k && env.senderPubkey.length === 32 && createHash('sha256').update(env.senderPubkey).digest('hex') === env.senderId) {
      this.learn(env.senderId, env.senderPubkey, 1);
      k = this.keyring.get(env.senderId);
    }
    if (!k) {
      this.dropped.unknownSender++;
      return;
    }
    const key = k.key;
    k.obj ??= ed25519PublicKeyObject(key);
    if (env.signature.length !== 64 || !ed25519Verify(k.obj, envelopeSignBytes(env), env.signature)) {
      this.dropped.badSignature++;
      return;
    }
    if (!this.allow(env.senderId)) {
      this.dropped.rateLimited++;
      return;
    }
    this.seen.set(env.messageId, now + SEEN_TTL_MS);
    const h = this.handlers.get(env.msgType);
    if (h) {
      try {
        h({ msgType: env.msgType, senderId: env.senderId, senderPublicKey: key, payload: env.payload, hopCount: env.hopCount, messageId: env.messageId, fromPeer: from.nodeId });
      } catch (e) {
        this.log.error({ msgType: env.msgType, err: e instanceof Error ? e.message : String(e) }, 'gossip handler threw');
      }
    }
    if (env.hopCount <= 1) return;
    env.hopCount -= 1;
    const bytes = encodeEnvelope(env);
    const targets = this.peers.peers().filter((p) => p.nodeId !== from.nodeId);
    for (let i = targets.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [targets[i], targets[j]] = [targets[j], targets[i]];
    }
    for (const p of targets.slice(0, this.fanout)) this.send(p.nodeId, env.msgType, bytes);
  }
}
