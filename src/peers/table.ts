// The table of known peers (Micelio's knownPeers), bounded in size and aged out by last_seen, with
// the peer-exchange rules of the reference: which records are advertised, which received entries are
// merged, and the discovery backoff. Every change is written through to the PeerStore.
import { create } from '@bufbuild/protobuf';
import type { Clock } from '../base/clock.ts';
import { unixSeconds } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { fromHex, toHex } from '../base/bytes.ts';
import { nodeIdOf } from '../identity/identity.ts';
import { isDialableAddress } from '../link/endpoint.ts';
import { PeerInfoSchema, type PeerInfo } from '../wire/gen/micelio_pb.ts';
import { validatePeerRecord, type PeerRecord, type PeerStore } from './store.ts';

export interface PeerTableOptions {
  selfId: string;
  clock: Clock;
  logger: Logger;
  store: PeerStore;
  /** Most records kept; when full, the record seen longest ago (and not connected) makes room. */
  maxEntries: number;
  /** Records not seen for this long are dropped (Micelio keeps them forever). */
  ttlMs: number;
  /** Records of connected peers are never evicted. */
  isConnected: (nodeId: string) => boolean;
  /** Collects store write promises so the owner can wait for them. */
  track: (p: void | Promise<void>) => void;
}

/** Result of merging one PeerExchange. */
export interface MergeResult {
  added: number;
  updated: number;
  ignored: number;
  /** Valid entries, whose keys may be learned at "gossip" trust. */
  learned: { nodeId: string; publicKey: Uint8Array }[];
}

/**
 * A record whose only change is a later last_seen counts as changed for peer exchange once it has
 * moved this much since it last counted. last_seen ages records out after peer_ttl (7 days) and
 * orders them when a table is full; a copy up to an hour behind per hop is nothing against a week, and
 * discovery never reads it. Counting every move (a connected peer's moves every exchange) would make
 * every periodic exchange a full list again.
 */
export const PX_RESEND_LAST_SEEN_ADVANCE_S = 3600;

/** Entries changed since a peer's cursor, and the cursor to keep once they are sent. */
export interface ExchangeDelta {
  entries: PeerInfo[];
  upTo: number;
}

/** Discovery backoff after `failCount` failures: min(2^(n−1) s, max). */
export function discoveryBackoffMs(failCount: number, maxMs: number): number {
  if (failCount <= 0) return 0;
  return Math.min(2 ** Math.min(failCount - 1, 40) * 1000, maxMs);
}

export class PeerTable {
  private readonly o: PeerTableOptions;
  private readonly log: Logger;
  private readonly records = new Map<string, PeerRecord>();
  /**
   * Per record, the change counter value of its last exchange-worthy change (new, new address or
   * reachability, last_seen moved by PX_RESEND_LAST_SEEN_ADVANCE_S) and the last_seen it had then.
   * Each peer then needs only one number: the counter value it has been sent up to.
   */
  private readonly changes = new Map<string, { seq: number; lastSeen: number; addr: string; reachable: boolean }>();
  private changeSeq = 0;
  /** Records pushed out because the table was full, and records aged out by the TTL. */
  evictedFull = 0;
  evictedExpired = 0;

  constructor(o: PeerTableOptions) {
    this.o = o;
    this.log = o.logger;
  }

  get size(): number {
    return this.records.size;
  }

  get(nodeId: string): PeerRecord | undefined {
    return this.records.get(nodeId);
  }

  all(): PeerRecord[] {
    return [...this.records.values()];
  }

  private nowS(): number {
    return unixSeconds(this.o.clock);
  }

  private expired(r: { lastSeen: number }, nowS: number): boolean {
    return (nowS - r.lastSeen) * 1000 > this.o.ttlMs;
  }

  /** The change counter now: a peer sent everything up to it has been told every current record. */
  get changeCursor(): number {
    return this.changeSeq;
  }

  /** Notes an exchange-worthy change of `r`, if it is one. */
  private noteChange(r: PeerRecord): void {
    const c = this.changes.get(r.nodeId);
    if (!c || c.addr !== r.addr || c.reachable !== r.reachable || r.lastSeen - c.lastSeen >= PX_RESEND_LAST_SEEN_ADVANCE_S) {
      this.changes.set(r.nodeId, { seq: ++this.changeSeq, lastSeen: r.lastSeen, addr: r.addr, reachable: r.reachable });
    }
  }

  private remove(nodeId: string): void {
    this.records.delete(nodeId);
    this.changes.delete(nodeId);
    this.unpersist(nodeId);
  }

  private persist(r: PeerRecord): void {
    try {
      this.o.track(this.o.store.put({ ...r }));
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e), nodeId: r.nodeId }, 'peer store write failed');
    }
  }

  private unpersist(nodeId: string): void {
    try {
      this.o.track(this.o.store.delete(nodeId));
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e), nodeId }, 'peer store delete failed');
    }
  }

  /** Loads stored records, skipping (and deleting) invalid and expired ones. Returns how many were kept. */
  load(records: PeerRecord[]): number {
    const nowS = this.nowS();
    let kept = 0;
    // Newest first, so that if the stored table is larger than the limit the freshest survive.
    const sorted = [...records].sort((a, b) => b.lastSeen - a.lastSeen);
    for (const r of sorted) {
      const v = validatePeerRecord(r);
      if (!v.ok) {
        this.log.warn({ reason: v.error.message }, 'skipping stored peer record');
        continue;
      }
      if (r.nodeId === this.o.selfId) continue;
      if (this.expired(r, nowS) || this.records.size >= this.o.maxEntries) {
        this.unpersist(r.nodeId);
        continue;
      }
      this.records.set(r.nodeId, { ...r });
      this.noteChange(r);
      kept++;
    }
    return kept;
  }

  /** Makes room for one new record seen at `lastSeen`; false if every record is newer or connected. */
  private makeRoom(lastSeen: number): boolean {
    if (this.records.size < this.o.maxEntries) return true;
    let victim: PeerRecord | undefined;
    for (const r of this.records.values()) {
      if (this.o.isConnected(r.nodeId)) continue;
      if (!victim || r.lastSeen < victim.lastSeen) victim = r;
    }
    if (!victim || victim.lastSeen > lastSeen) return false;
    this.remove(victim.nodeId);
    this.evictedFull++;
    return true;
  }

  /** A peer just completed its hello: last_seen = now, failures cleared (Micelio's onPeerConnected). */
  upsertConnected(nodeId: string, addr: string, reachable: boolean, publicKey: Uint8Array): PeerRecord {
    const rec: PeerRecord = {
      nodeId,
      addr: isDialableAddress(addr) ? addr : '',
      reachable: reachable && isDialableAddress(addr),
      publicKey: toHex(publicKey),
      lastSeen: this.nowS(),
      failCount: 0,
      lastFail: 0,
    };
    if (!this.records.has(nodeId)) this.makeRoom(rec.lastSeen);
    this.records.set(nodeId, rec);
    this.noteChange(rec);
    this.persist(rec);
    return rec;
  }

  /** Refreshes last_seen of a peer we are connected to, so the mesh keeps advertising it. */
  touch(nodeId: string): void {
    const r = this.records.get(nodeId);
    if (!r) return;
    r.lastSeen = this.nowS();
    this.noteChange(r);
    this.persist(r);
  }

  recordDialFailure(nodeId: string): void {
    const r = this.records.get(nodeId);
    if (!r) return;
    r.failCount++;
    r.lastFail = this.nowS();
    this.persist(r);
  }

  /**
   * Merges received entries (Micelio's mergeDiscoveredPeers): skip self, unreachable, bad or wildcard
   * addresses, keys that are not 32 bytes and ids that are not the hash of the key; insert unknown
   * peers, update known ones only when the entry is newer. Hypha also clamps last_seen to now (so a
   * peer cannot pin a record forever with a future time) and ignores entries already past the TTL.
   */
  merge(infos: readonly PeerInfo[], maxEntries: number): MergeResult {
    const res: MergeResult = { added: 0, updated: 0, ignored: 0, learned: [] };
    const nowS = this.nowS();
    const n = Math.min(infos.length, maxEntries);
    res.ignored += infos.length - n;
    for (let i = 0; i < n; i++) {
      const info = infos[i];
      if (info.nodeId === this.o.selfId || !info.reachable || !isDialableAddress(info.addr) || info.ed25519Pubkey.length !== 32) {
        res.ignored++;
        continue;
      }
      if (info.nodeId !== nodeIdOf(info.ed25519Pubkey)) {
        res.ignored++;
        this.log.warn({ nodeId: info.nodeId.slice(0, 64), reason: 'node_id is not the hash of its key' }, 'ignoring peer: mismatched node_id');
        continue;
      }
      res.learned.push({ nodeId: info.nodeId, publicKey: info.ed25519Pubkey });
      const seen = info.lastSeen > BigInt(nowS) ? nowS : Number(info.lastSeen);
      if (this.expired({ lastSeen: seen }, nowS)) {
        res.ignored++;
        continue;
      }
      const existing = this.records.get(info.nodeId);
      if (!existing) {
        if (!this.makeRoom(seen)) {
          res.ignored++;
          continue;
        }
        const rec: PeerRecord = { nodeId: info.nodeId, addr: info.addr, reachable: true, publicKey: toHex(info.ed25519Pubkey), lastSeen: seen, failCount: 0, lastFail: 0 };
        this.records.set(rec.nodeId, rec);
        this.noteChange(rec);
        this.persist(rec);
        res.added++;
      } else if (seen > existing.lastSeen) {
        existing.addr = info.addr;
        existing.reachable = true;
        existing.publicKey = toHex(info.ed25519Pubkey);
        existing.lastSeen = seen;
        this.noteChange(existing);
        this.persist(existing);
        res.updated++;
      }
    }
    return res;
  }

  /** Whether `r` may be advertised to `recipient`. */
  private advertisable(r: PeerRecord, recipient: string): boolean {
    if (r.nodeId === recipient || r.nodeId === this.o.selfId || !r.reachable || !isDialableAddress(r.addr)) return false;
    const key = fromHex(r.publicKey);
    return key !== undefined && key.length === 32;
  }

  private toInfo(r: PeerRecord): PeerInfo {
    return create(PeerInfoSchema, { nodeId: r.nodeId, addr: r.addr, reachable: true, ed25519Pubkey: fromHex(r.publicKey)!, lastSeen: BigInt(r.lastSeen) });
  }

  /**
   * The PeerExchange list for `recipient`: self first when we have an advertise address, then every
   * reachable record with a dialable address and a 32-byte key, except the recipient and self.
   * Micelio sends everything; Hypha sends the `max` most recently seen.
   */
  exchangeList(recipient: string, self: PeerInfo | undefined, max: number): PeerInfo[] {
    const out: PeerInfo[] = [];
    if (self) out.push(self);
    const rest = [...this.records.values()].filter((r) => this.advertisable(r, recipient));
    rest.sort((a, b) => b.lastSeen - a.lastSeen);
    for (const r of rest) {
      if (out.length >= max) break;
      out.push(this.toInfo(r));
    }
    return out;
  }

  /**
   * The entries for `recipient` that changed after cursor `since` (see changeCursor), oldest change
   * first, at most `max`. `upTo` is the cursor to keep once they are sent: the last one sent when
   * capped (the rest go next time), else the current cursor.
   */
  exchangeDelta(recipient: string, since: number, max: number): ExchangeDelta {
    const changed: { r: PeerRecord; seq: number }[] = [];
    for (const r of this.records.values()) {
      const c = this.changes.get(r.nodeId);
      if (c && c.seq > since && this.advertisable(r, recipient)) changed.push({ r, seq: c.seq });
    }
    if (changed.length <= max) return { entries: changed.map((x) => this.toInfo(x.r)), upTo: this.changeSeq };
    changed.sort((a, b) => a.seq - b.seq);
    const taken = changed.slice(0, Math.max(0, max));
    return { entries: taken.map((x) => this.toInfo(x.r)), upTo: taken.length > 0 ? taken[taken.length - 1].seq : since };
  }

  /** Records discovery may dial now (the caller still filters connected, dialing and bootstrap). */
  dialCandidates(backoffMaxMs: number): PeerRecord[] {
    const nowMs = this.o.clock.now();
    const out: PeerRecord[] = [];
    for (const r of this.records.values()) {
      if (r.nodeId === this.o.selfId || !r.reachable || r.addr === '') continue;
      if (nowMs < r.lastFail * 1000 + discoveryBackoffMs(r.failCount, backoffMaxMs)) continue;
      out.push(r);
    }
    return out;
  }

  /** Drops records unseen for longer than the TTL (never a connected peer). Returns how many. */
  evictExpired(): number {
    const nowS = this.nowS();
    let n = 0;
    for (const r of [...this.records.values()]) {
      if (!this.expired(r, nowS) || this.o.isConnected(r.nodeId)) continue;
      this.remove(r.nodeId);
      n++;
    }
    this.evictedExpired += n;
    return n;
  }
}
