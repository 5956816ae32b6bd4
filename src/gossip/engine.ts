// The gossip engine (Micelio reference §3.3): every envelope the peer manager does not consume itself
// comes here. It is checked in Micelio's order — sizes, seen, keyring (auto-learning a key whose hash
// is the sender id), signature with the keyring key, the originator's token bucket, then marked seen —
// handed to the handlers of its msg_type, and, while hops remain, relayed to a random few neighbours.
// Unknown msg_types are relayed too, with their payload and any unknown envelope fields untouched.
//
// Better than Micelio, by design (§9): the seen cache, keyring and rate limiter are bounded and count
// their evictions; a hop_count above the maximum (a relay can set 2^32−1, it is not signed) is clamped;
// drop warnings are rate-limited so a flood cannot flood the log; a handler that throws is contained;
// a copy of one of our own messages that outlived the seen cache is dropped instead of re-delivered.
import { Buffer } from 'node:buffer';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { ed25519Verify } from '../crypto/ed25519.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import type { PeerManager } from '../peers/manager.ts';
import type { Envelope } from '../wire/gen/micelio_pb.ts';
import { DEFAULT_MAX_HOPS, DIRECT_HOPS, ED25519_SIGNATURE_BYTES, encodeEnvelope, envelopeSignBytes, isLinkLocalMsgType } from '../wire/micelio/envelope.ts';
import { DEFAULT_KEYRING_MAX_ENTRIES, KeyRing, TrustLevel, type KeyEntry, type KeyRingStats } from './keyring.ts';
import { DEFAULT_BURST, DEFAULT_LIMITER_IDLE_MS, DEFAULT_LIMITER_MAX_ENTRIES, DEFAULT_RATE_PER_S, RateLimiter, type RateLimiterStats } from './rate-limit.ts';
import { DEFAULT_SEEN_MAX_ENTRIES, DEFAULT_SEEN_TTL_MS, SeenCache, type SeenCacheStats } from './seen.ts';
import { newEnvelope } from '../crypto/envelope.ts';

/** Neighbours a relayed message goes to (Micelio DefaultFanout). Own messages go to every neighbour. */
export const DEFAULT_FANOUT = 3;
/** Largest payload accepted for relay or delivery (Micelio MaxGossipPayload, 64 KiB). */
export const MAX_GOSSIP_PAYLOAD_BYTES = 65_536;
/** Longest message_id and sender_id accepted, in UTF-8 bytes (Micelio MaxFieldLen). */
export const MAX_ID_BYTES = 128;
/** How often expired seen ids and idle originators are swept (Micelio: 1 min). */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
/** At most one WARN per drop reason in this window; the others are counted in the next one. */
export const DROP_LOG_INTERVAL_MS = 10_000;
/** Highest msg_type (the field is a uint32). */
export const MAX_MSG_TYPE = 0xffff_ffff;
/** First msg_type Micelio leaves to plugins. */
export const FIRST_PLUGIN_MSG_TYPE = 1000;

/** A message that passed every check, as handlers see it. */
export interface GossipMessage {
  msgType: number;
  /** Node id of the originator (Envelope.sender_id), whose key verified the signature. */
  senderId: string;
  /** The originator's key from the keyring (the one that verified the signature). */
  senderPublicKey: Uint8Array;
  /** The payload bytes exactly as signed; do not modify them. */
  payload: Uint8Array;
  /** hop_count as received, clamped to the maximum hops. 1 (or 0) for a direct message. */
  hopCount: number;
  messageId: string;
  /** Node id of the neighbour it arrived from; '' for our own. */
  fromPeer: string;
  /** Envelope.lamport_ts (Micelio always sends 0). */
  lamportTs: bigint;
}

export type GossipHandler = (msg: GossipMessage) => void;

/** Why an incoming envelope was dropped (each counted in GossipStats.dropped). */
export type GossipDropReason =
  /** message_id or sender_id empty or longer than MAX_ID_BYTES (step 0). */
  | 'invalid-id'
  /** payload longer than the maximum (step 0). */
  | 'payload-too-large'
  /** Already seen within the TTL (steps 1 and 5). */
  | 'duplicate'
  /** A copy of our own message that outlived the seen cache (not in Micelio, which would re-deliver it). */
  | 'own-message'
  /** No key for the sender, and no sender_pubkey whose SHA-256 is the sender id (step 2). */
  | 'unknown-sender'
  /** The signature does not verify with the keyring's key (step 3). */
  | 'bad-signature'
  /** The originator is over its token bucket (step 4); not marked seen, so a later copy may pass. */
  | 'rate-limited';

export const GOSSIP_DROP_REASONS: readonly GossipDropReason[] = [
  'invalid-id',
  'payload-too-large',
  'duplicate',
  'own-message',
  'unknown-sender',
  'bad-signature',
  'rate-limited',
];

/** What receive() did with one envelope. */
export type GossipVerdict =
  | { accepted: true; delivered: boolean; forwardedTo: number }
  | { accepted: false; reason: GossipDropReason };

export interface GossipStats {
  /** Unique messages from neighbours that passed every check. */
  received: number;
  /** Received messages handed to at least one handler. */
  delivered: number;
  /** Own messages sent by broadcast(). */
  originated: number;
  /** Neighbour sends of own broadcasts that were accepted (Micelio's Broadcast counter). */
  broadcast: number;
  /** Own direct messages accepted by the neighbour's queue (sendDirect). */
  direct: number;
  /** Received messages relayed onwards (hop_count > 1 and some neighbour to send to). */
  relayed: number;
  /** Neighbour sends of relayed messages that were accepted (Micelio's Forwarded counter). */
  forwarded: number;
  /** Neighbour sends refused because that neighbour's send queue was full (Micelio's Dropped counter). */
  sendDropped: number;
  /** Incoming envelopes dropped, by reason. */
  dropped: Record<GossipDropReason, number>;
  /** Received messages whose hop_count was above the maximum and was clamped. */
  hopsClamped: number;
  /** Handler calls that threw (the others still ran). */
  handlerErrors: number;
  /** Entries pushed out of a full map: seen + keyring + limiter. */
  evictions: number;
  seen: SeenCacheStats;
  keyring: KeyRingStats;
  limiter: RateLimiterStats;
  /** Per msg_type (as a decimal string; types past the first MAX_TYPES_COUNTED share "other"). */
  byType: Record<string, GossipTypeStats>;
}

export interface GossipTypeStats {
  /** Unique messages from neighbours that passed every check. */
  received: number;
  /** Own messages: broadcast() and sendDirect() calls. */
  originated: number;
  /** Received messages relayed onwards. */
  relayed: number;
  /** Encoded envelope bytes handed to links for this type (own and relayed, one count per neighbour). */
  bytesSent: number;
}

/** Distinct msg_types counted one by one; a peer inventing types cannot grow the table past this. */
const MAX_TYPES_COUNTED = 64;

/** What the engine needs of the peer manager (a PeerManager is one; tests may pass a stand-in). */
export type GossipPeers = Pick<PeerManager, 'on' | 'peers' | 'peer' | 'send' | 'broadcast'>;

export interface GossipEngineOptions {
  identity: NodeIdentity;
  peers: GossipPeers;
  clock: Clock;
  logger: Logger;
  /** Neighbours a relayed message goes to. Default 3. */
  fanout?: number;
  /** hop_count of own broadcasts, and the most any received message keeps. Default 10. */
  maxHops?: number;
  maxPayloadBytes?: number;
  seenTtlMs?: number;
  seenMaxEntries?: number;
  keyringMaxEntries?: number;
  /** Messages per second per originator, and the burst. Default 10 and 20. */
  ratePerS?: number;
  burst?: number;
  limiterIdleMs?: number;
  limiterMaxEntries?: number;
  sweepIntervalMs?: number;
  /** Randomness for choosing relay targets (tests pin it). */
  random?: () => number;
}

function idBytes(s: string): number {
  // Bytes ≥ UTF-16 units, so a long string is refused without measuring it.
  return s.length > MAX_ID_BYTES ? s.length : Buffer.byteLength(s, 'utf8');
}

function validId(s: string): boolean {
  return s !== '' && idBytes(s) <= MAX_ID_BYTES;
}

function short(id: string): string {
  return id.slice(0, 12);
}

function checkMsgType(msgType: number): void {
  if (!Number.isInteger(msgType) || msgType < 0 || msgType > MAX_MSG_TYPE) {
    throw new RangeError(`msg_type must be an integer in 0..${MAX_MSG_TYPE}, got ${msgType}`);
  }
  if (isLinkLocalMsgType(msgType)) {
    throw new RangeError(`msg_type ${msgType} is consumed by the peer manager (hello, ack, peer exchange, keepalive, overlay) and never reaches gossip`);
  }
}

export class GossipEngine {
  readonly nodeId: string;
  readonly fanout: number;
  readonly maxHops: number;
  readonly maxPayloadBytes: number;
  private readonly identity: NodeIdentity;
  private readonly peers: GossipPeers;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly sweepIntervalMs: number;
  private readonly seen: SeenCache;
  private readonly keyring: KeyRing;
  private readonly limiter: RateLimiter;
  private readonly byType = new Map<string, GossipTypeStats>();
  private readonly handlers = new Map<number, Set<GossipHandler>>();
  private readonly unsubscribe: (() => void)[] = [];
  private sweepTimer: Timer | undefined;
  private running = false;
  private readonly dropLog = new Map<GossipDropReason, { atMs: number; suppressed: number }>();
  private readonly counters = {
    received: 0,
    delivered: 0,
    originated: 0,
    broadcast: 0,
    direct: 0,
    relayed: 0,
    forwarded: 0,
    sendDropped: 0,
    hopsClamped: 0,
    handlerErrors: 0,
  };
  private readonly dropped: Record<GossipDropReason, number> = Object.fromEntries(GOSSIP_DROP_REASONS.map((r) => [r, 0])) as Record<
    GossipDropReason,
    number
  >;

  constructor(opts: GossipEngineOptions) {
    this.identity = opts.identity;
    this.nodeId = opts.identity.nodeId;
    this.peers = opts.peers;
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'gossip' });
    this.random = opts.random ?? Math.random;
    this.fanout = opts.fanout ?? DEFAULT_FANOUT;
    this.maxHops = opts.maxHops ?? DEFAULT_MAX_HOPS;
    this.maxPayloadBytes = opts.maxPayloadBytes ?? MAX_GOSSIP_PAYLOAD_BYTES;
    this.sweepIntervalMs = opts.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (!(this.fanout >= 1) || !(this.maxHops >= 1) || !(this.maxPayloadBytes >= 0)) {
      throw new RangeError('fanout and maxHops must be at least 1, maxPayloadBytes at least 0');
    }
    this.seen = new SeenCache({ clock: this.clock, ttlMs: opts.seenTtlMs ?? DEFAULT_SEEN_TTL_MS, maxEntries: opts.seenMaxEntries ?? DEFAULT_SEEN_MAX_ENTRIES });
    this.keyring = new KeyRing({ maxEntries: opts.keyringMaxEntries ?? DEFAULT_KEYRING_MAX_ENTRIES });
    this.limiter = new RateLimiter({
      clock: this.clock,
      ratePerS: opts.ratePerS ?? DEFAULT_RATE_PER_S,
      burst: opts.burst ?? DEFAULT_BURST,
      idleMs: opts.limiterIdleMs ?? DEFAULT_LIMITER_IDLE_MS,
      maxEntries: opts.limiterMaxEntries ?? DEFAULT_LIMITER_MAX_ENTRIES,
    });
    // Micelio puts the node's own key in the keyring at start.
    this.keyring.add(this.nodeId, opts.identity.ed25519Public, TrustLevel.Direct);
  }

  /** Subscribes to the peer manager (envelopes and keys) and starts the sweeps. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe.push(
      this.peers.on('envelope', (from, env) => {
        this.receive(from.nodeId, env);
      }),
      this.peers.on('key', (k) => {
        this.learnKey(k.nodeId, k.publicKey, k.trust === 'direct' ? TrustLevel.Direct : TrustLevel.Gossip);
      }),
    );
    // Peers connected before the engine started: their hello-proven keys.
    for (const p of this.peers.peers()) this.learnKey(p.nodeId, p.ed25519PublicKey, TrustLevel.Direct);
    this.sweepTimer = this.clock.setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.log.debug({ fanout: this.fanout, maxHops: this.maxHops }, 'gossip engine started');
  }

  /** Unsubscribes and stops the sweeps. Handlers stay registered; start() may be called again. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
  }

  /**
   * Registers a handler for one msg_type (core 3, 6–99, plugins 1000+); several per type are allowed and
   * run in registration order. Returns the function that unregisters it. Types 1, 2, 4, 5, 90 and 91 never reach
   * gossip and are refused with a RangeError.
   */
  handle(msgType: number, handler: GossipHandler): () => void {
    checkMsgType(msgType);
    let set = this.handlers.get(msgType);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(msgType, set);
    }
    // Wrapped, so the same function registered twice runs twice and each unsubscribe removes one.
    const entry: GossipHandler = (m) => handler(m);
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.handlers.get(msgType) === set) this.handlers.delete(msgType);
    };
  }

  /**
   * Originates a gossiped message: signed, sender_pubkey set, hop_count = maxHops, a fresh UUIDv4; marked
   * seen, then sent to every connected neighbour. `sent` of `total` neighbours accepted it. Like Micelio,
   * it is not delivered to this node's own handlers: the caller applies its own message itself.
   */
  broadcast(msgType: number, payload: Uint8Array): { messageId: string; sent: number; total: number } {
    checkMsgType(msgType);
    this.checkPayload(payload);
    const env = newEnvelope({
      msgType,
      payload,
      senderId: this.nodeId,
      signingKey: this.identity.signingKey,
      hopCount: this.maxHops,
      senderPubkey: this.identity.ed25519Public,
    });
    this.seen.check(env.messageId);
    this.counters.originated++;
    const stats = this.typeStats(msgType);
    stats.originated++;
    const bytes = encodeEnvelope(env);
    const { sent, total } = this.peers.broadcast(bytes);
    stats.bytesSent += sent * bytes.length;
    this.counters.broadcast += sent;
    this.counters.sendDropped += total - sent;
    return { messageId: env.messageId, sent, total };
  }

  /**
   * Sends a signed message to one neighbour with hop_count 1, so it is delivered there and never relayed.
   * False if that neighbour is not connected or its queue is full. The receiver's handlers see
   * `fromPeer` = this node and should check `senderId === fromPeer` themselves.
   */
  sendDirect(peerNodeId: string, msgType: number, payload: Uint8Array): boolean {
    checkMsgType(msgType);
    this.checkPayload(payload);
    if (this.peers.peer(peerNodeId)?.connected !== true) return false;
    const env = newEnvelope({
      msgType,
      payload,
      senderId: this.nodeId,
      signingKey: this.identity.signingKey,
      hopCount: DIRECT_HOPS,
      // Not needed by a neighbour (it has our key from the hello), but it lets a receiver whose keyring
      // evicted us verify without a lookup elsewhere; Micelio ignores it once it knows the key.
      senderPubkey: this.identity.ed25519Public,
    });
    this.seen.check(env.messageId);
    const stats = this.typeStats(msgType);
    stats.originated++;
    const bytes = encodeEnvelope(env);
    const ok = this.peers.send(peerNodeId, bytes);
    if (ok) {
      this.counters.direct++;
      stats.bytesSent += bytes.length;
    }
    else this.counters.sendDropped++;
    return ok;
  }

  /** The key the keyring holds for a node (connected peers' hello keys included). */
  publicKeyOf(nodeId: string): Uint8Array | undefined {
    return this.keyFor(nodeId)?.publicKey;
  }

  /** The trust the keyring gives a node's key: 0 direct, 1 gossip-learned; undefined if unknown. */
  trustOf(nodeId: string): TrustLevel | undefined {
    return this.keyring.peek(nodeId)?.trust;
  }

  /** Adds a key (as the peer manager's `key` events do). */
  learnKey(nodeId: string, publicKey: Uint8Array, trust: TrustLevel): void {
    const r = this.keyring.add(nodeId, publicKey, trust);
    if (r === 'rejected') this.log.warn({ sender: short(nodeId) }, 'refused a key whose hash is not the node id');
  }

  /** Which msg_types have handlers. */
  handledTypes(): number[] {
    return [...this.handlers.keys()].sort((a, b) => a - b);
  }

  stats(): GossipStats {
    const seen = this.seen.stats();
    const keyring = this.keyring.stats();
    const limiter = this.limiter.stats();
    return {
      ...this.counters,
      dropped: { ...this.dropped },
      evictions: seen.evictions + keyring.evictions + limiter.evictions,
      seen,
      keyring,
      limiter,
      byType: Object.fromEntries([...this.byType].map(([t, c]) => [t, { ...c }])),
    };
  }

  private typeStats(msgType: number): GossipTypeStats {
    let key = String(msgType);
    let c = this.byType.get(key);
    if (c === undefined) {
      if (this.byType.size >= MAX_TYPES_COUNTED) key = 'other';
      c = this.byType.get(key);
      if (c === undefined) {
        c = { received: 0, originated: 0, relayed: 0, bytesSent: 0 };
        this.byType.set(key, c);
      }
    }
    return c;
  }

  /** Removes expired seen ids and idle originators (runs every sweepIntervalMs once started). */
  sweep(): void {
    const ids = this.seen.sweep();
    const senders = this.limiter.sweep();
    if (ids > 0 || senders > 0) this.log.debug({ seenExpired: ids, idleSenders: senders }, 'gossip sweep');
  }

  /**
   * One envelope from neighbour `fromPeer` (the peer manager's `envelope` event calls this). Runs the
   * checks in Micelio's order, delivers, relays. Never throws for anything the envelope holds.
   */
  receive(fromPeer: string, env: Envelope): GossipVerdict {
    // 0. Sizes, before anything costs memory or CPU.
    if (!validId(env.messageId) || !validId(env.senderId)) {
      return this.drop('invalid-id', env, fromPeer, { messageIdBytes: idBytes(env.messageId), senderIdBytes: idBytes(env.senderId) });
    }
    if (env.payload.length > this.maxPayloadBytes) return this.drop('payload-too-large', env, fromPeer, { payloadBytes: env.payload.length });
    // 1. Seen (read-only: an envelope dropped below is not marked, so a good copy can still pass).
    if (this.seen.has(env.messageId)) return this.drop('duplicate', env, fromPeer);
    if (env.senderId === this.nodeId) return this.drop('own-message', env, fromPeer);
    // 2. Keyring, or learn the key from sender_pubkey when its hash is the sender id.
    let key = this.keyFor(env.senderId);
    let learned = false;
    if (key === undefined && env.senderPubkey.length > 0) {
      key = this.keyring.prepare(env.senderId, env.senderPubkey, TrustLevel.Gossip);
      learned = key !== undefined;
    }
    if (key === undefined) return this.drop('unknown-sender', env, fromPeer);
    // 3. Signature, with the keyring's key (never the envelope's, once one is known).
    if (env.signature.length !== ED25519_SIGNATURE_BYTES || !ed25519Verify(key.keyObject, envelopeSignBytes(env), env.signature)) {
      return this.drop('bad-signature', env, fromPeer);
    }
    if (learned) {
      // Kept only now that it verified a signature (Micelio keeps it even when the signature fails).
      this.keyring.put(key);
      this.log.debug({ sender: short(env.senderId) }, 'auto-learned key');
    }
    // 4. The originator's bucket, one per msg_type: a node's state updates or sync traffic never eat into
    // the budget of its chat (Micelio has one bucket per originator for everything).
    if (!this.limiter.allow(`${env.senderId}/${env.msgType}`)) return this.drop('rate-limited', env, fromPeer);
    // 5. Test-and-set.
    if (this.seen.check(env.messageId)) return this.drop('duplicate', env, fromPeer);
    this.counters.received++;
    this.typeStats(env.msgType).received++;
    let hops = env.hopCount;
    if (hops > this.maxHops) {
      // hop_count is not signed: a relay may have raised it. Never carry a message further than we would.
      this.counters.hopsClamped++;
      hops = this.maxHops;
    }
    // 6. Deliver.
    const delivered = this.deliver(env, key, hops, fromPeer);
    // 7. Relay while hops remain: hop_count − 1, to min(fanout, n) neighbours other than the one it came from.
    if (hops <= 1) return { accepted: true, delivered, forwardedTo: 0 };
    return { accepted: true, delivered, forwardedTo: this.relay({ ...env, hopCount: hops - 1 }, fromPeer) };
  }

  // ---------------------------------------------------------------------------------------------

  private checkPayload(payload: Uint8Array): void {
    if (payload.length > this.maxPayloadBytes) {
      throw new RangeError(`gossip payload of ${payload.length} bytes is over the ${this.maxPayloadBytes}-byte limit every node enforces`);
    }
  }

  /** Keyring lookup; a connected neighbour's hello key is re-learned if the keyring evicted it. */
  private keyFor(nodeId: string): KeyEntry | undefined {
    const k = this.keyring.lookup(nodeId);
    if (k !== undefined) return k;
    const peer = this.peers.peer(nodeId);
    if (peer === undefined || !peer.connected) return undefined;
    this.keyring.add(nodeId, peer.ed25519PublicKey, TrustLevel.Direct);
    return this.keyring.lookup(nodeId);
  }

  private deliver(env: Envelope, key: KeyEntry, hops: number, fromPeer: string): boolean {
    const set = this.handlers.get(env.msgType);
    if (set === undefined || set.size === 0) return false;
    const msg: GossipMessage = {
      msgType: env.msgType,
      senderId: env.senderId,
      senderPublicKey: key.publicKey,
      payload: env.payload,
      hopCount: hops,
      messageId: env.messageId,
      fromPeer,
      lamportTs: env.lamportTs,
    };
    for (const h of set.size === 1 ? set : [...set]) {
      try {
        h(msg);
      } catch (e) {
        this.counters.handlerErrors++;
        this.log.error({ msgType: env.msgType, sender: short(env.senderId), err: e instanceof Error ? e.message : String(e) }, 'gossip handler threw');
      }
    }
    this.counters.delivered++;
    return true;
  }

  private relay(env: Envelope, fromPeer: string): number {
    const candidates = this.peers.peers().filter((p) => p.nodeId !== fromPeer && p.connected);
    if (candidates.length === 0) return 0;
    const n = Math.min(this.fanout, candidates.length);
    // Partial Fisher–Yates: the first n are a uniform random subset.
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.random() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    const bytes = encodeEnvelope(env);
    let sent = 0;
    for (let i = 0; i < n; i++) if (this.peers.send(candidates[i].nodeId, bytes)) sent++;
    this.counters.relayed++;
    const stats = this.typeStats(env.msgType);
    stats.relayed++;
    stats.bytesSent += sent * bytes.length;
    this.counters.forwarded += sent;
    this.counters.sendDropped += n - sent;
    return sent;
  }

  private drop(reason: GossipDropReason, env: Envelope, fromPeer: string, extra: Record<string, unknown> = {}): GossipVerdict {
    this.dropped[reason]++;
    if (reason === 'duplicate' || reason === 'own-message') return { accepted: false, reason };
    // One WARN per reason per window, so a flood of bad envelopes cannot flood the log.
    const now = this.clock.now();
    const last = this.dropLog.get(reason);
    if (last !== undefined && now - last.atMs < DROP_LOG_INTERVAL_MS) {
      last.suppressed++;
      return { accepted: false, reason };
    }
    const suppressed = last?.suppressed ?? 0;
    this.dropLog.set(reason, { atMs: now, suppressed: 0 });
    const ids = reason === 'invalid-id' ? {} : { msgId: env.messageId, sender: short(env.senderId) };
    this.log.warn({ reason, from: short(fromPeer), msgType: env.msgType, ...ids, ...extra, ...(suppressed > 0 ? { alsoDroppedSinceLastWarn: suppressed } : {}) }, `dropping gossip message: ${reason}`);
    return { accepted: false, reason };
  }
}
