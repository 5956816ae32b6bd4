// Babel routing as Mycelium does it (reference §3): Hello/IHU per neighbour and a link cost of
// smoothed RTT + static transport cost; a route per (subnet, neighbour) with at most one selected;
// the RFC 8966 feasibility condition over a source table; seqno requests with a dedup cache;
// reactive RouteRequests with generations; triggered updates and retractions; route expiry and dead
// neighbours. Every node announces only its own /64, and an Update is accepted only if its subnet
// contains the address derived from the announcing router id.
//
// Stricter than Mycelium: a retraction only ever touches the route of the neighbour that sent it
// (and keeps that route's origin), so a neighbour cannot withdraw someone else's path; every table
// and cache is bounded. A neighbour whose key its link authenticated (a native Noise link) may claim
// to originate a route — its own /64, or metric 0 — only under a router id carrying that very key.
//
// The router talks to neighbours only through the Neighbour interface (neighbour.ts), so links of any
// kind, with their own timer profiles, sit side by side.
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { BoundedMap } from '../base/bounded-map.ts';
import { bytesEqual } from '../base/bytes.ts';
import { overlayAddress } from '../identity/address.ts';
import { formatIpv6 } from '../wire/ipv6.ts';
import type { RouteRequestTlv, SeqnoRequestTlv, Tlv, UpdateTlv } from '../wire/mycelium/babel.ts';
import { makeRouterId, routerIdKey, routerIdPubkey, routerIdText } from '../wire/mycelium/router-id.ts';
import { METRIC_INFINITE, METRIC_MAX_FINITE, metricAdd, metricDelta, metricSub, seqnoAdd, seqnoGt, seqnoLt } from './metric.ts';
import type { Neighbour, NeighbourKind } from './neighbour.ts';
import { makeSubnet, subnetContains, subnetContainsSubnet, subnetFromPrefix, subnetText, subnetToPrefix, type Subnet } from './subnet.ts';
import {
  feasible,
  selectedOf,
  sourceKey,
  type FeasibilityDistance,
  type NeighbourState,
  type QueriedSubnet,
  type RouteEntry,
  type RouteRequestCacheEntry,
  type SeqnoCacheEntry,
  type SubnetRoutes,
} from './tables.ts';

/** Mycelium's protocol constants (reference §3.2); overridable for tests and faster link kinds. */
export interface RouterConstants {
  routeQueryTimeoutMs: number;
  rrCacheTtlMs: number;
  rrCacheCleanIntervalMs: number;
  seqnoDedupTtlMs: number;
  seqnoBumpIntervalMs: number;
  sourceGcMs: number;
  sourceSweepIntervalMs: number;
  retractedHoldMs: number;
  significantImprovement: number;
  bigMetricChange: number;
  maxRouteRequestGeneration: number;
  routeAlmostExpiredMs: number;
  initialRttMs: number;
  seqnoRequestHopCount: number;
  /** After a link-cost change re-ran selection, the next one for that neighbour waits at least this long. */
  linkCostHoldMs: number;
  /** After a selected route got much worse, the neighbours are asked for another at most this often per subnet. */
  alternativeRequestIntervalMs: number;
}

export const MYCELIUM_ROUTER_CONSTANTS: RouterConstants = Object.freeze({
  routeQueryTimeoutMs: 15_000,
  rrCacheTtlMs: 15_000,
  rrCacheCleanIntervalMs: 5_000,
  seqnoDedupTtlMs: 60_000,
  seqnoBumpIntervalMs: 4_000,
  sourceGcMs: 30 * 60_000,
  sourceSweepIntervalMs: 60_000,
  retractedHoldMs: 6_000,
  significantImprovement: 10,
  bigMetricChange: 10,
  maxRouteRequestGeneration: 16,
  routeAlmostExpiredMs: 15_000,
  initialRttMs: 1_000,
  seqnoRequestHopCount: 64,
  // Hypha's, not Mycelium's (which has no such reaction): as its seqno bump rate limit.
  linkCostHoldMs: 4_000,
  // Hypha's too: as the RouteRequest dedup window (rrCacheTtlMs), within which a request counts as the same.
  alternativeRequestIntervalMs: 15_000,
});

export interface RouterLimits {
  maxNeighbours: number;
  maxSubnets: number;
  maxSources: number;
  maxSeqnoCache: number;
  maxRouteRequestCache: number;
  maxQueried: number;
}

export const DEFAULT_ROUTER_LIMITS: RouterLimits = Object.freeze({
  maxNeighbours: 4_096,
  maxSubnets: 100_000,
  maxSources: 200_000,
  maxSeqnoCache: 50_000,
  maxRouteRequestCache: 50_000,
  maxQueried: 50_000,
});

export interface RouterEvents {
  /** A subnet now has a selected route: packets waiting for it can go. */
  routeAvailable?(subnet: Subnet): void;
  /** A subnet lost its selected route, or a query for it ran out without an answer. */
  routeUnavailable?(subnet: Subnet, reason: 'lost' | 'query-timeout'): void;
}

export interface RouterOptions {
  clock: Clock;
  logger: Logger;
  /** The node's X25519 public key: the router id starts with it and its /64 is our one route. */
  publicKey: Uint8Array;
  /** The 6 random bytes of the router id; fresh random bytes per start when absent. */
  routerIdTail?: Uint8Array;
  constants?: Partial<RouterConstants>;
  limits?: Partial<RouterLimits>;
  events?: RouterEvents;
}

export interface RouterStats {
  tlvsReceived: number;
  updatesDeniedByFilter: number;
  updatesDeniedOwnership: number;
  /** Updates from an authenticated (native) neighbour claiming to originate a route under another key. */
  updatesDeniedBinding: number;
  retractionsIgnored: number;
  triggeredUpdates: number;
  /** Link-cost changes that re-ran selection for the routes through a neighbour. */
  linkCostReactions: number;
  /** Significant link-cost changes left for later by the hold-off (a jittery link). */
  linkCostReactionsHeld: number;
  seqnoRequestsSent: number;
  seqnoRequestsForwarded: number;
  seqnoRequestsUnhandled: number;
  seqnoBumps: number;
  routeRequestsSent: number;
  /** Times a selected route got much worse and the other neighbours were asked for another (RouteRequests). */
  alternativeRequests: number;
  /** Such requests left out by the per-subnet rate limit (a jittery link). */
  alternativeRequestsHeld: number;
  routeRequestsForwarded: number;
  routeRequestsDropped: number;
  deadNeighbours: number;
  tableFull: number;
  sourcesEvicted: number;
  cacheEvictions: number;
}

/** A route as `hypha routes` and the API show it (Mycelium's JSON shape). */
export interface RouteInfo {
  subnet: string;
  nextHop: string;
  /** Metric as advertised by the next hop (link cost excluded), or "infinite". */
  metric: number | 'infinite';
  seqno: number;
  routerId: string;
}

export interface QueriedInfo {
  subnet: string;
  /** Whole seconds until the query gives up. */
  expiresInSeconds: number;
}

export interface NeighbourInfo {
  id: string;
  /** 'native' (a Hypha peer over a Noise link) or 'mycelium' (a Mycelium TCP/TLS link). */
  kind: NeighbourKind;
  label: string;
  /** Node id of a native peer (joins `hypha peers list` rows); absent for Mycelium links. */
  remoteId?: string;
  /** Static part of the link cost (by transport); linkCost = smoothedRttMs + staticCost. */
  staticCost: number;
  linkCost: number;
  smoothedRttMs: number;
  msSinceLastIhu: number;
}

/**
 * What the data plane needs to know about a destination or a sender. `routerId` is the route's own
 * array (the same object until the route changes), so callers may cache per-peer state by identity.
 */
export type RouteLookup =
  | { kind: 'local' }
  | { kind: 'selected'; subnet: Subnet; nextHop: Neighbour; pubkey: Uint8Array; routerId: Uint8Array; metric: number; expiresAt: number }
  | { kind: 'fallback'; subnet: Subnet; pubkey: Uint8Array; routerId: Uint8Array }
  | { kind: 'queried'; subnet: Subnet }
  | { kind: 'unknown' };

/** A selected route as a test sees it (for loop and feasibility checks). */
export interface SelectedRouteView {
  subnet: Subnet;
  nextHop: Neighbour;
  metric: number;
  seqno: number;
  routerIdKey: string;
  feasible: boolean;
}

const OWNERSHIP_CACHE_ENTRIES = 4_096;

function cs(ms: number): number {
  return Math.max(1, Math.min(0xffff, Math.round(ms / 10)));
}

export class Router {
  readonly routerId: Uint8Array;
  readonly routerIdKey: string;
  readonly publicKey: Uint8Array;
  /** Our overlay address and its /64, the one static route. */
  readonly address: Uint8Array;
  readonly subnet: Subnet;
  readonly stats: RouterStats = {
    tlvsReceived: 0,
    updatesDeniedByFilter: 0,
    updatesDeniedOwnership: 0,
    updatesDeniedBinding: 0,
    retractionsIgnored: 0,
    triggeredUpdates: 0,
    linkCostReactions: 0,
    linkCostReactionsHeld: 0,
    seqnoRequestsSent: 0,
    seqnoRequestsForwarded: 0,
    seqnoRequestsUnhandled: 0,
    seqnoBumps: 0,
    routeRequestsSent: 0,
    alternativeRequests: 0,
    alternativeRequestsHeld: 0,
    routeRequestsForwarded: 0,
    routeRequestsDropped: 0,
    deadNeighbours: 0,
    tableFull: 0,
    sourcesEvicted: 0,
    cacheEvictions: 0,
  };
  events: RouterEvents;

  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly c: RouterConstants;
  private readonly limits: RouterLimits;
  private readonly staticRoutes: Subnet[];
  private seqno = 0;
  private lastSeqnoBumpAt = Number.NEGATIVE_INFINITY;
  private readonly nbrs = new Map<Neighbour, NeighbourState>();
  private readonly table = new Map<string, SubnetRoutes>();
  /** Prefix lengths present in the table, longest first, for longest-prefix match. */
  private prefixLens: number[] = [];
  // Packets come in runs to one destination: the last longest-prefix match is kept until the table
  // gains or loses a subnet (tableEpoch), so a run does not build one key string per prefix length
  // per packet. Route selection inside a subnet is read fresh on every lookup.
  private tableEpoch = 0;
  private lpmEpoch = -1;
  private readonly lpmIp = new Uint8Array(16);
  private lpmHit: SubnetRoutes | undefined;
  private readonly prefixLenCount = new Map<number, number>();
  private readonly queried = new Map<string, QueriedSubnet>();
  private readonly sources = new Map<string, FeasibilityDistance>();
  private readonly seqnoCache = new Map<string, SeqnoCacheEntry>();
  private readonly rrCache = new Map<string, RouteRequestCacheEntry>();
  private readonly owned = new BoundedMap<string, Uint8Array>(OWNERSHIP_CACHE_ENTRIES);
  private readonly timers: Timer[] = [];
  private stopped = false;

  constructor(opts: RouterOptions) {
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'router' });
    this.c = { ...MYCELIUM_ROUTER_CONSTANTS, ...opts.constants };
    this.limits = { ...DEFAULT_ROUTER_LIMITS, ...opts.limits };
    this.events = opts.events ?? {};
    this.publicKey = Uint8Array.from(opts.publicKey);
    this.routerId = makeRouterId(this.publicKey, opts.routerIdTail ?? new Uint8Array(randomBytes(6)));
    this.routerIdKey = routerIdKey(this.routerId);
    this.address = overlayAddress(this.publicKey);
    this.subnet = makeSubnet(this.address, 64);
    this.staticRoutes = [this.subnet];
    this.timers.push(
      this.clock.setInterval(() => this.sweepSources(), this.c.sourceSweepIntervalMs),
      this.clock.setInterval(() => this.sweepSeqnoCache(), this.c.seqnoDedupTtlMs),
      this.clock.setInterval(() => this.sweepRouteRequestCache(), this.c.rrCacheCleanIntervalMs),
    );
    this.log.debug({ routerId: routerIdText(this.routerId), subnet: subnetText(this.subnet) }, 'router started');
  }

  /** Stops every timer and forgets every neighbour (without closing their links). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    for (const st of this.nbrs.values()) {
      st.alive = false;
      for (const t of st.timers) t.cancel();
    }
    this.nbrs.clear();
    for (const s of this.table.values()) for (const r of s.routes) r.expiry?.cancel();
    for (const q of this.queried.values()) q.timer.cancel();
  }

  // -------------------------------------------------------------------------------------------
  // Neighbours

  /** Starts Hello/IHU with a new neighbour and announces our subnet to it. */
  addNeighbour(n: Neighbour): void {
    if (this.stopped || this.nbrs.has(n)) return;
    if (this.nbrs.size >= this.limits.maxNeighbours) {
      this.log.warn({ neighbour: n.label, max: this.limits.maxNeighbours }, 'too many neighbours, refusing one');
      n.close(`too many neighbours (${this.limits.maxNeighbours})`);
      return;
    }
    const now = this.clock.now();
    const st: NeighbourState = {
      neighbour: n,
      authenticatedAddress: n.authenticatedKey === undefined ? undefined : overlayAddress(n.authenticatedKey),
      addedAt: now,
      alive: true,
      helloSeqno: 0,
      lastHelloSentAt: now,
      lastIhuAt: now,
      smoothedRttMs: this.c.initialRttMs,
      selectedWithCost: Math.min(METRIC_MAX_FINITE, this.c.initialRttMs + n.staticCost),
      announcedWithCost: Math.min(METRIC_MAX_FINITE, this.c.initialRttMs + n.staticCost),
      costReactionAt: Number.NEGATIVE_INFINITY,
      costAnnouncedAt: Number.NEGATIVE_INFINITY,
      timers: [],
    };
    this.nbrs.set(n, st);
    const t = n.timers;
    st.timers.push(
      this.clock.setInterval(() => this.sendHello(st), t.helloIntervalMs),
      this.clock.setInterval(() => this.checkDead(st), t.deadCheckIntervalMs),
      this.clock.setInterval(() => this.propagateStaticRoutes(st), t.updateIntervalMs),
    );
    this.log.debug({ neighbour: n.label }, 'neighbour added');
    this.propagateStaticRoutes(st);
    for (const q of this.queried.values()) {
      n.sendTlv({ kind: 'route-request', generation: 0, prefix: subnetToPrefix(q.subnet) });
    }
    if (t.helloOnConnect) this.sendHello(st);
  }

  /**
   * Forgets a neighbour whose link went away: its selected routes turn into retractions held for a
   * few seconds while another route is selected, its other routes go at once.
   */
  removeNeighbour(n: Neighbour, reason: string): void {
    const st = this.nbrs.get(n);
    if (st === undefined) return;
    st.alive = false;
    for (const t of st.timers) t.cancel();
    this.nbrs.delete(n);
    this.log.debug({ neighbour: n.label, reason }, 'neighbour removed');
    const reselect: SubnetRoutes[] = [];
    const now = this.clock.now();
    for (const s of [...this.table.values()]) {
      const r = s.routes.find((x) => x.neighbour === st);
      if (r === undefined) continue;
      if (r.selected) {
        r.metric = METRIC_INFINITE;
        this.setExpiry(r, now + this.c.retractedHoldMs);
        reselect.push(s);
      } else {
        this.removeRoute(s, r);
      }
    }
    for (const s of reselect) this.routeSelection(s);
  }

  /** Handles one TLV from a neighbour. */
  receiveTlv(n: Neighbour, tlv: Tlv): void {
    const st = this.nbrs.get(n);
    if (st === undefined || !st.alive) return;
    this.stats.tlvsReceived++;
    switch (tlv.kind) {
      case 'hello':
        this.handleHello(st);
        return;
      case 'ihu':
        this.handleIhu(st);
        return;
      case 'update':
        this.handleUpdate(st, tlv);
        return;
      case 'route-request':
        this.handleRouteRequest(st, tlv);
        return;
      case 'seqno-request':
        this.handleSeqnoRequest(st, tlv);
        return;
    }
  }

  /** Link cost to a neighbour: smoothed RTT + static transport cost. */
  linkCost(n: Neighbour): number {
    const st = this.nbrs.get(n);
    return st === undefined ? METRIC_INFINITE : this.cost(st);
  }

  private cost(st: NeighbourState): number {
    return Math.min(METRIC_MAX_FINITE, st.smoothedRttMs + st.neighbour.staticCost);
  }

  private sendHello(st: NeighbourState): void {
    if (!st.alive) return;
    const tlv: Tlv = { kind: 'hello', flags: 0x8000, seqno: st.helloSeqno, intervalCs: cs(st.neighbour.timers.helloIntervalMs) };
    st.helloSeqno = seqnoAdd(st.helloSeqno, 1);
    st.lastHelloSentAt = this.clock.now();
    st.neighbour.sendTlv(tlv);
  }

  private handleHello(st: NeighbourState): void {
    // Every Hello is answered, or the other side declares us dead. rxcost is informational.
    st.neighbour.sendTlv({ kind: 'ihu', rxCost: this.cost(st), intervalCs: cs(st.neighbour.timers.ihuIntervalMs), address: undefined });
  }

  private handleIhu(st: NeighbourState): void {
    const now = this.clock.now();
    const sample = Math.min(0xffff, Math.max(0, now - st.lastHelloSentAt));
    st.smoothedRttMs = Math.floor((st.smoothedRttMs * 9 + sample) / 10);
    st.lastIhuAt = now;
    this.reactToLinkCost(st);
  }

  /**
   * Mycelium re-selects only when an Update arrives, and on its reactive routing a relayed route may see
   * none until it expires, so a link that got much slower kept carrying traffic for minutes. Here:
   * - Selection: a link-cost change of more than bigMetricChange since the last re-run (the change
   *   Mycelium treats as significant in an Update's metric, and the smallest that can beat the
   *   significantImprovement hysteresis) re-runs selection, feasibility included, for every subnet with a
   *   route through this neighbour; a changed selection is announced as any other.
   * - Metric only: a selected route that stays through this neighbour is re-announced when the cost moved
   *   by more than bigMetricChange and a quarter of the cost last announced, at most once per
   *   linkCostHoldMs: a link's smoothed RTT drifts and jitters, and every announcement goes to every
   *   neighbour. A change held back is announced at a later IHU (it is measured against the last one).
   * - IHUs come one per Hello; a neighbour sending more cannot make us scan the table more often.
   */
  private reactToLinkCost(st: NeighbourState): void {
    const cost = this.cost(st);
    const big = this.c.bigMetricChange;
    const reselect = Math.abs(cost - st.selectedWithCost) > big;
    const drift = Math.abs(cost - st.announcedWithCost);
    const announce = drift > big && drift * 4 > st.announcedWithCost;
    if (!reselect && !announce) return;
    const now = this.clock.now();
    const announceNow = announce && now - st.costAnnouncedAt >= this.c.linkCostHoldMs;
    if (now - st.costReactionAt < st.neighbour.timers.helloIntervalMs / 2 || (!reselect && !announceNow)) {
      this.stats.linkCostReactionsHeld++;
      return;
    }
    this.log.debug({ neighbour: st.neighbour.label, from: st.selectedWithCost, to: cost }, 'link cost changed, re-running route selection');
    this.stats.linkCostReactions++;
    const rise = cost - st.selectedWithCost;
    st.costReactionAt = now;
    st.selectedWithCost = cost;
    if (announceNow) {
      st.announcedWithCost = cost;
      st.costAnnouncedAt = now;
    }
    for (const s of [...this.table.values()]) {
      const via = s.routes.find((r) => r.neighbour === st);
      if (via === undefined) continue;
      const current = selectedOf(s);
      if (this.findBest(s) !== current) {
        this.routeSelection(s);
        continue;
      }
      if (current !== via || via.metric === METRIC_INFINITE) continue;
      if (announceNow) this.triggerUpdate(s.subnet, undefined);
      if (rise > big) this.askForAlternatives(s, via);
    }
  }

  /**
   * The selected route `current` just got worse by more than bigMetricChange (its next hop announced a
   * higher metric, or the link to it got slower) and nothing we hold beats it. On reactive routing the
   * other neighbours may well have a better way and never told us (they only announce when asked or
   * when their own selection changes), so we would stay on the slow path until the route expires. Ask
   * them: a RouteRequest for the subnet (RFC 8966 §3.8.1.1 and Mycelium's route refresh do the same) to
   * every neighbour but the next hop, which answers with its selected route or forwards the request.
   * A SeqnoRequest would not do: it goes only to neighbours that already announced the subnet.
   * bigMetricChange is the change Mycelium deems worth telling every neighbour about, and it equals
   * significantImprovement, the smallest gap by which another route can take over. At most one
   * request per subnet per alternativeRequestIntervalMs, so a jittery link cannot flood.
   */
  private askForAlternatives(s: SubnetRoutes, current: RouteEntry): void {
    // A neighbour's own subnet over the link that got slower: our feasibility distance is that link's
    // old cost, which a detour cannot beat, so every answer would be unfeasible (only a newer seqno from
    // the neighbour could lift it). Asking would only cost Updates.
    if (current.metric === 0) return;
    const cost = metricAdd(current.metric, this.cost(current.neighbour));
    for (const r of s.routes) {
      if (r === current || r.metric === METRIC_INFINITE || !r.neighbour.alive || !this.routeFeasible(r)) continue;
      // A route held already is about as good: selection takes it if the path gets worse still.
      if (metricAdd(r.metric, this.cost(r.neighbour)) < cost) return;
    }
    const now = this.clock.now();
    if (now - s.alternativesAskedAt < this.c.alternativeRequestIntervalMs) {
      this.stats.alternativeRequestsHeld++;
      return;
    }
    s.alternativesAskedAt = now;
    this.stats.alternativeRequests++;
    this.log.debug({ subnet: subnetText(s.subnet), via: current.neighbour.neighbour.label, metric: cost }, 'selected route got worse, asking the other neighbours for another');
    const tlv: RouteRequestTlv = { kind: 'route-request', generation: 0, prefix: subnetToPrefix(s.subnet) };
    for (const n of this.nbrs.values()) {
      if (n === current.neighbour || !n.alive) continue;
      if (n.neighbour.sendTlv(tlv)) this.stats.routeRequestsSent++;
    }
  }

  private checkDead(st: NeighbourState): void {
    if (!st.alive) return;
    const silentMs = this.clock.now() - st.lastIhuAt;
    if (silentMs <= st.neighbour.timers.deadAfterMs) return;
    this.stats.deadNeighbours++;
    const reason = `no IHU for ${Math.round(silentMs / 1000)} s`;
    this.log.info({ neighbour: st.neighbour.label, reason }, 'neighbour is dead');
    this.removeNeighbour(st.neighbour, reason);
    st.neighbour.close(reason);
  }

  // -------------------------------------------------------------------------------------------
  // Updates

  private ownsSubnet(ridKey: string, rid: Uint8Array, subnet: Subnet): boolean {
    let addr = this.owned.get(ridKey);
    if (addr === undefined) {
      addr = overlayAddress(routerIdPubkey(rid));
      this.owned.set(ridKey, addr);
    }
    return subnetContains(subnet, addr);
  }

  /**
   * A neighbour whose key its link proved may announce routes of others (the ownership rule covers
   * them), but an Update that claims to originate at the neighbour itself — for a subnet holding the
   * neighbour's own address, or at metric 0, which no relay ever sends since every link costs at
   * least its static cost — must carry a router id with the neighbour's authenticated key.
   */
  private boundToNeighbour(st: NeighbourState, u: UpdateTlv, subnet: Subnet): boolean {
    const key = st.neighbour.authenticatedKey;
    if (key === undefined || st.authenticatedAddress === undefined) return true;
    const claimsOrigin = u.metric === 0 || subnetContains(subnet, st.authenticatedAddress);
    return !claimsOrigin || bytesEqual(routerIdPubkey(u.routerId), key);
  }

  private handleUpdate(st: NeighbourState, u: UpdateTlv): void {
    const subnet = subnetFromPrefix(u.prefix);
    const retraction = u.metric === METRIC_INFINITE;
    // Filters: inside 400::/7, at most a /64, and (unless a retraction) owned by the router id.
    if (subnet === undefined || !isOverlaySubnet(subnet)) {
      this.stats.updatesDeniedByFilter++;
      return;
    }
    const ridKey = routerIdKey(u.routerId);
    if (!retraction && !this.ownsSubnet(ridKey, u.routerId, subnet)) {
      this.stats.updatesDeniedOwnership++;
      this.log.debug({ neighbour: st.neighbour.label, subnet: subnetText(subnet) }, 'update for a subnet its router id does not own, ignored');
      return;
    }
    if (!retraction && !this.boundToNeighbour(st, u, subnet)) {
      this.stats.updatesDeniedBinding++;
      this.log.debug({ neighbour: st.neighbour.label, subnet: subnetText(subnet) }, 'update claims to originate at an authenticated neighbour under another key, ignored');
      return;
    }
    if (this.isStatic(subnet)) return;
    const now = this.clock.now();
    // Most updates arrive with no seqno request pending: skip building the long key then.
    const interested = this.seqnoCache.size === 0 ? undefined : this.seqnoCache.get(`${ridKey}|${subnet.key}|${u.seqno}`)?.sources;
    const fd = this.sources.get(sourceKey(subnet, ridKey));
    const updFeasible = feasible(fd, u.seqno, u.metric);

    let entry = this.table.get(subnet.key);
    if (entry === undefined) {
      if (!updFeasible || retraction) {
        if (!updFeasible) this.sendSeqnoRequest(subnet, u.routerId, st, undefined);
        if (retraction) this.stats.retractionsIgnored++;
        return;
      }
      if (this.table.size >= this.limits.maxSubnets) {
        this.stats.tableFull++;
        this.log.warn({ subnet: subnetText(subnet), max: this.limits.maxSubnets }, 'routing table full, update dropped');
        return;
      }
      entry = this.createSubnet(subnet);
    }

    const before = selectedOf(entry);
    const old = before === undefined ? undefined : { neighbour: before.neighbour, routerIdKey: before.routerIdKey, metric: before.metric };
    const existing = entry.routes.find((r) => r.neighbour === st);
    if (existing !== undefined) {
      if (existing.selected && !updFeasible && existing.routerIdKey === ridKey) {
        // An unfeasible update to the selected route is not applied; ask the origin for a newer seqno.
        this.sendSeqnoRequest(existing.subnet, existing.routerId, st, undefined);
        return;
      }
      if (retraction) {
        if (existing.metric === METRIC_INFINITE) return;
        // The sender withdraws its own route; the route keeps its origin (Mycelium overwrites it).
        existing.metric = METRIC_INFINITE;
      } else {
        existing.seqno = u.seqno;
        existing.metric = u.metric;
        existing.routerId = u.routerId;
        existing.routerIdKey = ridKey;
      }
      if (updFeasible) this.setExpiry(existing, now + this.holdTimeMs(u));
      if (!existing.selected && !updFeasible) return;
      if (existing.selected && !updFeasible) existing.selected = false;
    } else {
      if (retraction || !updFeasible) {
        if (!updFeasible && selectedOf(entry) === undefined) this.sendSeqnoRequest(subnet, u.routerId, st, undefined);
        // A retraction from a neighbour that never announced the route changes nothing.
        if (retraction) this.stats.retractionsIgnored++;
        if (entry.routes.length === 0) this.dropSubnet(entry);
        return;
      }
      const r: RouteEntry = {
        subnet: entry.subnet,
        routerId: u.routerId,
        routerIdKey: ridKey,
        neighbour: st,
        metric: u.metric,
        seqno: u.seqno,
        selected: false,
        expiresAt: 0,
        expiry: undefined,
      };
      entry.routes.push(r);
      this.setExpiry(r, now + this.holdTimeMs(u));
    }

    const best = this.findBest(entry);
    if (best !== undefined) {
      this.setSelected(entry, best);
    } else if (before !== undefined) {
      // No route left: ask everyone who announced it for a fresher one.
      this.sendSeqnoRequest(before.subnet, before.routerId, undefined, undefined);
      this.unselect(entry);
    }

    let trigger = false;
    let available = false;
    let lost = false;
    if (old !== undefined && best !== undefined) {
      if (old.metric === METRIC_INFINITE && best.metric !== METRIC_INFINITE) available = true;
      trigger = best.routerIdKey !== old.routerIdKey || metricDelta(best.metric, old.metric) > this.c.bigMetricChange;
    } else if (old === undefined && best !== undefined) {
      this.log.debug({ subnet: subnetText(entry.subnet), via: best.neighbour.neighbour.label }, 'acquired route');
      available = best.metric !== METRIC_INFINITE;
      trigger = true;
    } else if (old !== undefined && best === undefined) {
      this.log.debug({ subnet: subnetText(entry.subnet), via: old.neighbour.neighbour.label }, 'lost route');
      lost = true;
      trigger = true;
    }
    if (trigger) this.triggerUpdate(entry.subnet, undefined);
    else if (interested !== undefined) this.triggerUpdate(entry.subnet, interested);
    // The next hop announced a much higher metric for the route we keep: look for another way.
    if (old !== undefined && existing !== undefined && best === existing && old.neighbour === st && old.metric !== METRIC_INFINITE && existing.metric !== METRIC_INFINITE && existing.metric - old.metric > this.c.bigMetricChange) {
      this.askForAlternatives(entry, existing);
    }
    if (available) this.events.routeAvailable?.(entry.subnet);
    else if (lost) this.events.routeUnavailable?.(entry.subnet, 'lost');
  }

  private holdTimeMs(u: UpdateTlv): number {
    if (u.metric === METRIC_INFINITE) return this.c.retractedHoldMs;
    return u.intervalCs * 10 * 3.5;
  }

  private isStatic(subnet: Subnet): boolean {
    return this.staticRoutes.some((s) => s.key === subnet.key);
  }

  private routeFeasible(r: RouteEntry): boolean {
    return feasible(this.sources.get(sourceKey(r.subnet, r.routerIdKey)), r.seqno, r.metric);
  }

  /** Best feasible finite route, keeping the current one unless the other is clearly better. */
  private findBest(s: SubnetRoutes): RouteEntry | undefined {
    const current = selectedOf(s);
    let best: RouteEntry | undefined;
    let bestCost = METRIC_INFINITE;
    for (const r of s.routes) {
      if (r.metric === METRIC_INFINITE || !r.neighbour.alive || !this.routeFeasible(r)) continue;
      const c = metricAdd(r.metric, this.cost(r.neighbour));
      if (best === undefined || c < bestCost) {
        best = r;
        bestCost = c;
      }
    }
    if (best !== undefined && current !== undefined && best !== current && current.metric !== METRIC_INFINITE && current.neighbour.alive && this.routeFeasible(current)) {
      const currentCost = metricAdd(current.metric, this.cost(current.neighbour));
      if (!(bestCost < metricSub(currentCost, this.c.significantImprovement) || best.metric === 0)) return current;
    }
    return best;
  }

  private setSelected(s: SubnetRoutes, r: RouteEntry): void {
    for (const x of s.routes) x.selected = x === r;
  }

  private unselect(s: SubnetRoutes): void {
    for (const x of s.routes) x.selected = false;
  }

  /** Re-runs selection for a subnet (after a neighbour died) and tells the neighbours. */
  private routeSelection(s: SubnetRoutes): void {
    const current = selectedOf(s);
    const hadValid = current !== undefined && current.metric !== METRIC_INFINITE;
    const best = this.findBest(s);
    let available = false;
    let lost = false;
    if (best !== undefined) {
      if (best === current) return;
      this.setSelected(s, best);
      available = !hadValid;
    } else if (current !== undefined) {
      this.sendSeqnoRequest(current.subnet, current.routerId, undefined, undefined);
      this.unselect(s);
      lost = true;
    }
    this.triggerUpdate(s.subnet, undefined);
    if (available) this.events.routeAvailable?.(s.subnet);
    if (lost) this.events.routeUnavailable?.(s.subnet, 'lost');
  }

  private setExpiry(r: RouteEntry, at: number): void {
    r.expiresAt = at;
    r.expiry?.cancel();
    r.expiry = this.clock.setTimeout(() => this.routeExpired(r), Math.max(0, at - this.clock.now()));
  }

  private routeExpired(r: RouteEntry): void {
    const s = this.table.get(r.subnet.key);
    if (s === undefined || !s.routes.includes(r)) return;
    if (!r.selected) {
      this.removeRoute(s, r);
      return;
    }
    // A selected route that timed out becomes a retraction, held briefly so it propagates.
    r.metric = METRIC_INFINITE;
    this.setExpiry(r, this.clock.now() + this.c.retractedHoldMs);
    const best = this.findBest(s);
    if (best !== undefined) this.setSelected(s, best);
    else this.unselect(s);
    this.triggerUpdate(s.subnet, undefined);
    if (best === undefined) this.events.routeUnavailable?.(s.subnet, 'lost');
  }

  private createSubnet(subnet: Subnet): SubnetRoutes {
    const q = this.queried.get(subnet.key);
    if (q !== undefined) {
      q.timer.cancel();
      this.queried.delete(subnet.key);
    }
    const s: SubnetRoutes = { subnet, routes: [], alternativesAskedAt: Number.NEGATIVE_INFINITY };
    this.table.set(subnet.key, s);
    this.tableEpoch++;
    const n = this.prefixLenCount.get(subnet.len) ?? 0;
    this.prefixLenCount.set(subnet.len, n + 1);
    if (n === 0) this.prefixLens = [...this.prefixLenCount.keys()].sort((a, b) => b - a);
    return s;
  }

  private dropSubnet(s: SubnetRoutes): void {
    if (this.table.get(s.subnet.key) !== s) return;
    this.table.delete(s.subnet.key);
    this.tableEpoch++;
    const n = (this.prefixLenCount.get(s.subnet.len) ?? 1) - 1;
    if (n <= 0) {
      this.prefixLenCount.delete(s.subnet.len);
      this.prefixLens = [...this.prefixLenCount.keys()].sort((a, b) => b - a);
    } else {
      this.prefixLenCount.set(s.subnet.len, n);
    }
  }

  private removeRoute(s: SubnetRoutes, r: RouteEntry): void {
    r.expiry?.cancel();
    const i = s.routes.indexOf(r);
    if (i >= 0) s.routes.splice(i, 1);
    if (s.routes.length === 0) this.dropSubnet(s);
  }

  // -------------------------------------------------------------------------------------------
  // Sending updates and the source table

  private updateTlv(subnet: Subnet, seqno: number, metric: number, routerId: Uint8Array, to: NeighbourState): UpdateTlv {
    return { kind: 'update', flags: 0, intervalCs: cs(to.neighbour.timers.updateIntervalMs), seqno, metric, prefix: subnetToPrefix(subnet), routerId };
  }

  /** Records what we advertise: the feasibility distance only ever tightens (RFC 8966 §3.5.1). */
  private updateSourceTable(subnet: Subnet, ridKey: string, seqno: number, metric: number): void {
    if (metric === METRIC_INFINITE) return; // retractions never tighten a distance
    const key = sourceKey(subnet, ridKey);
    const now = this.clock.now();
    const fd = this.sources.get(key);
    if (fd !== undefined) {
      if (seqnoGt(seqno, fd.seqno) || (seqno === fd.seqno && metric < fd.metric)) {
        fd.seqno = seqno;
        fd.metric = metric;
      }
      fd.refreshedAt = now;
      return;
    }
    if (this.sources.size >= this.limits.maxSources) {
      const oldest = this.sources.keys().next();
      if (!oldest.done) this.sources.delete(oldest.value);
      this.stats.sourcesEvicted++;
    }
    this.sources.set(key, { seqno, metric, refreshedAt: now });
  }

  private sendUpdate(st: NeighbourState, u: UpdateTlv): void {
    if (!st.alive) return;
    st.neighbour.sendTlv(u);
  }

  private propagateStaticRoutes(st: NeighbourState): void {
    for (const sr of this.staticRoutes) {
      const u = this.updateTlv(sr, this.seqno, 0, this.routerId, st);
      this.updateSourceTable(sr, this.routerIdKey, this.seqno, 0);
      this.sendUpdate(st, u);
    }
  }

  private triggerUpdate(subnet: Subnet, targets: Iterable<NeighbourState> | undefined): void {
    this.stats.triggeredUpdates++;
    const s = this.table.get(subnet.key);
    const sel = s === undefined ? undefined : selectedOf(s);
    const list = targets ?? this.nbrs.values();
    if (sel !== undefined) {
      const metric = metricAdd(sel.metric, this.cost(sel.neighbour));
      this.updateSourceTable(subnet, sel.routerIdKey, sel.seqno, metric);
      for (const t of list) {
        // The next hop would never route through us: skip it.
        if (t === sel.neighbour) continue;
        this.sendUpdate(t, this.updateTlv(subnet, sel.seqno, metric, sel.routerId, t));
      }
    } else {
      this.log.debug({ subnet: subnetText(subnet) }, 'retracting route');
      for (const t of list) this.sendUpdate(t, this.updateTlv(subnet, this.seqno, METRIC_INFINITE, this.routerId, t));
    }
  }

  private sweepSources(): void {
    const limit = this.clock.now() - this.c.sourceGcMs;
    for (const [k, fd] of this.sources) if (fd.refreshedAt <= limit) this.sources.delete(k);
  }

  // -------------------------------------------------------------------------------------------
  // Seqno requests

  private cacheForward(key: string, target: NeighbourState, source: NeighbourState | undefined): void {
    const now = this.clock.now();
    let e = this.seqnoCache.get(key);
    if (e === undefined) {
      if (this.seqnoCache.size >= this.limits.maxSeqnoCache) {
        const oldest = this.seqnoCache.keys().next();
        if (!oldest.done) this.seqnoCache.delete(oldest.value);
        this.stats.cacheEvictions++;
      }
      e = { sources: new Set(), targets: new Set(), firstSentAt: now, lastSentAt: now };
      this.seqnoCache.set(key, e);
    }
    e.lastSentAt = now;
    e.targets.add(target);
    if (source !== undefined) e.sources.add(source);
  }

  /**
   * Asks for a newer seqno of (subnet, routerId): to `to`, or else to every neighbour that announced
   * the subnet (to all neighbours if nobody did and we originate the request).
   */
  private sendSeqnoRequest(subnet: Subnet, routerId: Uint8Array, to: NeighbourState | undefined, origin: NeighbourState | undefined): void {
    const ridKey = routerIdKey(routerId);
    const fd = this.sources.get(sourceKey(subnet, ridKey));
    const seqno = seqnoAdd(fd?.seqno ?? 0, 1);
    const key = `${ridKey}|${subnet.key}|${seqno}`;
    const info = this.seqnoCache.get(key);
    const now = this.clock.now();
    let targets: NeighbourState[];
    if (to !== undefined) {
      targets = [to];
    } else {
      const sent = info !== undefined && now - info.lastSentAt < this.c.seqnoBumpIntervalMs ? info.targets : undefined;
      const s = this.table.get(subnet.key);
      if (s === undefined && origin === undefined && !this.queried.has(subnet.key)) {
        targets = [...this.nbrs.values()];
      } else if (s !== undefined) {
        targets = s.routes.map((r) => r.neighbour).filter((n) => sent === undefined || !sent.has(n));
      } else {
        targets = [];
      }
    }
    const asked = info?.sources;
    const tlv: SeqnoRequestTlv = { kind: 'seqno-request', seqno, hopCount: this.c.seqnoRequestHopCount, routerId, prefix: subnetToPrefix(subnet) };
    for (const t of targets) {
      if (!t.alive || (asked !== undefined && asked.has(t))) continue;
      if (!t.neighbour.sendTlv(tlv)) continue;
      this.stats.seqnoRequestsSent++;
      this.cacheForward(key, t, origin);
    }
  }

  private handleSeqnoRequest(st: NeighbourState, r: SeqnoRequestTlv): void {
    const subnet = subnetFromPrefix(r.prefix);
    if (subnet === undefined) return;
    const ridKey = routerIdKey(r.routerId);
    const key = `${ridKey}|${subnet.key}|${r.seqno}`;
    const now = this.clock.now();
    const info = this.seqnoCache.get(key);
    if (info !== undefined && now - info.lastSentAt <= this.c.seqnoDedupTtlMs) {
      this.stats.seqnoRequestsUnhandled++;
      return;
    }
    const s = this.table.get(subnet.key);
    const sel = s === undefined ? undefined : selectedOf(s);
    if (sel !== undefined && sel.metric !== METRIC_INFINITE && (sel.routerIdKey !== ridKey || !seqnoLt(sel.seqno, r.seqno))) {
      // Our route is fresh enough (or from another origin): answer with it.
      const metric = metricAdd(sel.metric, this.cost(sel.neighbour));
      this.updateSourceTable(sel.subnet, sel.routerIdKey, sel.seqno, metric);
      this.sendUpdate(st, this.updateTlv(sel.subnet, sel.seqno, metric, sel.routerId, st));
      return;
    }
    if (ridKey === this.routerIdKey && seqnoGt(r.seqno, this.seqno) && this.isStatic(subnet)) {
      if (now - this.lastSeqnoBumpAt < this.c.seqnoBumpIntervalMs) return;
      this.seqno = seqnoAdd(this.seqno, 1);
      this.lastSeqnoBumpAt = now;
      this.stats.seqnoBumps++;
      for (const n of this.nbrs.values()) this.propagateStaticRoutes(n);
      return;
    }
    if (r.hopCount < 2 || ridKey === this.routerIdKey || s === undefined) {
      this.stats.seqnoRequestsUnhandled++;
      return;
    }
    const fwd: SeqnoRequestTlv = { ...r, hopCount: r.hopCount - 1 };
    const visited = info !== undefined && now - info.lastSentAt < this.c.seqnoBumpIntervalMs ? info.targets : undefined;
    const candidates = s.routes.filter((re) => (visited === undefined || !visited.has(re.neighbour)) && re.neighbour !== st && re.neighbour.alive && re.metric !== METRIC_INFINITE);
    // Feasible routes first, then any.
    for (const pass of [true, false]) {
      for (const re of candidates) {
        if (pass && !this.routeFeasible(re)) continue;
        if (!re.neighbour.neighbour.sendTlv(fwd)) continue;
        this.cacheForward(key, re.neighbour, st);
        this.stats.seqnoRequestsForwarded++;
        return;
      }
    }
    this.stats.seqnoRequestsUnhandled++;
  }

  private sweepSeqnoCache(): void {
    const limit = this.clock.now() - this.c.seqnoDedupTtlMs;
    for (const [k, e] of this.seqnoCache) if (e.firstSentAt < limit) this.seqnoCache.delete(k);
  }

  // -------------------------------------------------------------------------------------------
  // Route requests

  private markQueried(subnet: Subnet): void {
    if (this.table.has(subnet.key) || this.queried.has(subnet.key)) return;
    if (this.queried.size >= this.limits.maxQueried) {
      this.stats.cacheEvictions++;
      return;
    }
    const timer = this.clock.setTimeout(() => {
      const q = this.queried.get(subnet.key);
      if (q === undefined || q.timer !== timer) return;
      this.queried.delete(subnet.key);
      this.events.routeUnavailable?.(subnet, 'query-timeout');
    }, this.c.routeQueryTimeoutMs);
    this.queried.set(subnet.key, { subnet, expiresAt: this.clock.now() + this.c.routeQueryTimeoutMs, timer });
  }

  private rrCacheInfo(subnet: Subnet): RouteRequestCacheEntry | undefined {
    const e = this.rrCache.get(subnet.key);
    if (e === undefined || this.clock.now() - e.sentAt > this.c.rrCacheTtlMs) return undefined;
    return e;
  }

  private rrCacheSet(subnet: Subnet, generation: number): void {
    if (!this.rrCache.has(subnet.key) && this.rrCache.size >= this.limits.maxRouteRequestCache) {
      const oldest = this.rrCache.keys().next();
      if (!oldest.done) this.rrCache.delete(oldest.value);
      this.stats.cacheEvictions++;
    }
    this.rrCache.delete(subnet.key);
    this.rrCache.set(subnet.key, { generation, receivers: new Set(this.nbrs.values()), sentAt: this.clock.now() });
  }

  private sweepRouteRequestCache(): void {
    const limit = this.clock.now() - this.c.rrCacheTtlMs;
    for (const [k, e] of this.rrCache) if (e.sentAt <= limit) this.rrCache.delete(k);
  }

  /** Floods a RouteRequest (generation 0) for `subnet` and marks it queried. */
  private sendRouteRequest(subnet: Subnet): void {
    this.markQueried(subnet);
    const cached = this.rrCacheInfo(subnet);
    const skip = cached !== undefined && cached.generation === 0 ? cached.receivers : undefined;
    const tlv: RouteRequestTlv = { kind: 'route-request', generation: 0, prefix: subnetToPrefix(subnet) };
    for (const n of this.nbrs.values()) {
      if (skip !== undefined && skip.has(n)) continue;
      if (n.neighbour.sendTlv(tlv)) this.stats.routeRequestsSent++;
    }
    this.rrCacheSet(subnet, 0);
  }

  private handleRouteRequest(st: NeighbourState, rr: RouteRequestTlv): void {
    if (rr.prefix === undefined) {
      // Wildcard: every selected route we have (not back to its next hop), then our own.
      for (const s of this.table.values()) {
        const sel = selectedOf(s);
        if (sel === undefined || sel.neighbour === st) continue;
        const metric = metricAdd(sel.metric, this.cost(sel.neighbour));
        this.updateSourceTable(s.subnet, sel.routerIdKey, sel.seqno, metric);
        this.sendUpdate(st, this.updateTlv(s.subnet, sel.seqno, metric, sel.routerId, st));
      }
      this.propagateStaticRoutes(st);
      return;
    }
    const subnet = subnetFromPrefix(rr.prefix);
    // Nobody can ever answer for a prefix outside 400::/7 or wider than /64 (such Updates are
    // filtered everywhere), so flooding the request would only amplify it. Mycelium forwards it.
    if (subnet === undefined || !isOverlaySubnet(subnet)) {
      this.stats.routeRequestsDropped++;
      return;
    }
    const own = this.staticRoutes.find((sr) => subnetContainsSubnet(sr, subnet));
    if (own !== undefined) {
      this.updateSourceTable(own, this.routerIdKey, this.seqno, 0);
      this.sendUpdate(st, this.updateTlv(own, this.seqno, 0, this.routerId, st));
      return;
    }
    const s = this.table.get(subnet.key);
    if (s !== undefined) {
      const sel = selectedOf(s);
      // Routes but none selected: all unfeasible for now; say nothing rather than retract.
      if (sel === undefined || sel.neighbour === st) return;
      const metric = metricAdd(sel.metric, this.cost(sel.neighbour));
      this.updateSourceTable(s.subnet, sel.routerIdKey, sel.seqno, metric);
      this.sendUpdate(st, this.updateTlv(s.subnet, sel.seqno, metric, sel.routerId, st));
      return;
    }
    if (this.queried.has(subnet.key)) return;
    if (rr.generation + 1 >= this.c.maxRouteRequestGeneration) {
      this.stats.routeRequestsDropped++;
      return;
    }
    const generation = rr.generation + 1;
    this.markQueried(subnet);
    const cached = this.rrCacheInfo(subnet);
    const skip = cached !== undefined && !(generation < cached.generation) ? cached.receivers : undefined;
    const fwd: RouteRequestTlv = { kind: 'route-request', generation, prefix: subnetToPrefix(subnet) };
    for (const n of this.nbrs.values()) {
      if (n === st || (skip !== undefined && skip.has(n))) continue;
      if (n.neighbour.sendTlv(fwd)) this.stats.routeRequestsForwarded++;
    }
    this.rrCacheSet(subnet, generation);
  }

  // -------------------------------------------------------------------------------------------
  // For the data plane

  private lpm(ip: Uint8Array): SubnetRoutes | undefined {
    const last = this.lpmIp;
    if (this.lpmEpoch === this.tableEpoch) {
      let i = 0;
      while (i < 16 && last[i] === ip[i]) i++;
      if (i === 16) return this.lpmHit;
    }
    let hit: SubnetRoutes | undefined;
    for (const len of this.prefixLens) {
      hit = this.table.get(keyOfIp(ip, len));
      if (hit !== undefined) break;
    }
    for (let i = 0; i < 16; i++) last[i] = ip[i];
    this.lpmHit = hit;
    this.lpmEpoch = this.tableEpoch;
    return hit;
  }

  /** Where packets for `ip` go, without side effects. */
  lookup(ip: Uint8Array): RouteLookup {
    if (subnetContains(this.subnet, ip)) return { kind: 'local' };
    const s = this.lpm(ip);
    if (s !== undefined) {
      const sel = selectedOf(s);
      if (sel !== undefined && sel.metric !== METRIC_INFINITE) {
        return { kind: 'selected', subnet: s.subnet, nextHop: sel.neighbour.neighbour, pubkey: routerIdPubkey(sel.routerId), routerId: sel.routerId, metric: sel.metric, expiresAt: sel.expiresAt };
      }
      const r = sel ?? s.routes[0];
      return { kind: 'fallback', subnet: s.subnet, pubkey: routerIdPubkey(r.routerId), routerId: r.routerId };
    }
    const q = this.queried.get(keyOfIp(ip, 64));
    if (q !== undefined) return { kind: 'queried', subnet: q.subnet };
    return { kind: 'unknown' };
  }

  /** Asks the network for a route to ip/64 (RouteRequest flood), as Mycelium does on a miss. */
  requestRoute(ip: Uint8Array): void {
    this.sendRouteRequest(makeSubnet(ip, 64));
  }

  /** With only unselected routes to `ip`, asks their announcers for a newer seqno. */
  requestFreshRoute(ip: Uint8Array): void {
    const s = this.lpm(ip);
    if (s === undefined) {
      this.requestRoute(ip);
      return;
    }
    const r = s.routes[0];
    this.sendSeqnoRequest(r.subnet, r.routerId, undefined, undefined);
  }

  /** True when a selected route is about to expire and should be refreshed by a RouteRequest. */
  almostExpired(expiresAt: number): boolean {
    return expiresAt - this.clock.now() < this.c.routeAlmostExpiredMs;
  }

  /** The public key behind an overlay address, if any route to it is known (or it is ours). */
  publicKeyFor(ip: Uint8Array): Uint8Array | undefined {
    if (subnetContains(this.subnet, ip)) return this.publicKey;
    const s = this.lpm(ip);
    if (s === undefined) return undefined;
    return routerIdPubkey((selectedOf(s) ?? s.routes[0]).routerId);
  }

  // -------------------------------------------------------------------------------------------
  // Tables for people and tests

  selectedRoutes(): RouteInfo[] {
    const out: RouteInfo[] = [];
    for (const s of this.table.values()) {
      const sel = selectedOf(s);
      if (sel !== undefined) out.push(this.routeInfo(sel));
    }
    return out;
  }

  fallbackRoutes(): RouteInfo[] {
    const out: RouteInfo[] = [];
    for (const s of this.table.values()) for (const r of s.routes) if (!r.selected) out.push(this.routeInfo(r));
    return out;
  }

  queriedSubnets(): QueriedInfo[] {
    const now = this.clock.now();
    return [...this.queried.values()].map((q) => ({ subnet: subnetText(q.subnet), expiresInSeconds: Math.max(0, Math.ceil((q.expiresAt - now) / 1000)) }));
  }

  neighbourInfo(): NeighbourInfo[] {
    const now = this.clock.now();
    return [...this.nbrs.values()].map((st) => ({
      id: st.neighbour.id,
      kind: st.neighbour.kind,
      label: st.neighbour.label,
      ...(st.neighbour.remoteId === undefined ? {} : { remoteId: st.neighbour.remoteId }),
      staticCost: st.neighbour.staticCost,
      linkCost: this.cost(st),
      smoothedRttMs: st.smoothedRttMs,
      msSinceLastIhu: now - st.lastIhuAt,
    }));
  }

  get neighbourCount(): number {
    return this.nbrs.size;
  }

  /** Every selected route with its feasibility right now (loop and invariant checks in tests). */
  selectedRouteViews(): SelectedRouteView[] {
    const out: SelectedRouteView[] = [];
    for (const s of this.table.values()) {
      const sel = selectedOf(s);
      if (sel === undefined) continue;
      out.push({ subnet: s.subnet, nextHop: sel.neighbour.neighbour, metric: sel.metric, seqno: sel.seqno, routerIdKey: sel.routerIdKey, feasible: this.routeFeasible(sel) });
    }
    return out;
  }

  /** The selected next hop for `ip` (undefined if none), for tests that walk paths. */
  nextHopFor(ip: Uint8Array): Neighbour | undefined {
    const l = this.lookup(ip);
    return l.kind === 'selected' ? l.nextHop : undefined;
  }

  private routeInfo(r: RouteEntry): RouteInfo {
    return {
      subnet: subnetText(r.subnet),
      nextHop: r.neighbour.neighbour.label,
      metric: r.metric === METRIC_INFINITE ? 'infinite' : r.metric,
      seqno: r.seqno,
      routerId: routerIdText(r.routerId),
    };
  }

  toString(): string {
    return `Router(${formatIpv6(this.address)})`;
  }
}

/** Inside 400::/7 and at least a /64: the only subnets an Update may carry. */
function isOverlaySubnet(s: Subnet): boolean {
  return (s.address[0] & 0xfe) === 0x04 && s.len >= 64;
}

/** Map key of ip/len without allocating a masked copy. */
function keyOfIp(ip: Uint8Array, len: number): string {
  const full = len >> 3;
  let s = '';
  for (let i = 0; i < full; i++) s += String.fromCharCode(ip[i]);
  const rem = len & 7;
  if (rem !== 0) s += String.fromCharCode(ip[full] & ((0xff << (8 - rem)) & 0xff));
  return `${s}/${len}`;
}
