// The router's state: routes per subnet (one entry per announcing neighbour, at most one selected),
// the source table of feasibility distances, and the two request caches. Plain data; the decisions
// live in router.ts.
import type { Timer } from '../base/clock.ts';
import type { Neighbour } from './neighbour.ts';
import type { Subnet } from './subnet.ts';
import { METRIC_INFINITE, seqnoGt } from './metric.ts';

/** The router's view of one neighbour. */
export interface NeighbourState {
  readonly neighbour: Neighbour;
  /** The overlay address of neighbour.authenticatedKey, computed once. */
  readonly authenticatedAddress: Uint8Array | undefined;
  readonly addedAt: number;
  alive: boolean;
  helloSeqno: number;
  lastHelloSentAt: number;
  lastIhuAt: number;
  /** Smoothed Hello→IHU round trip in ms (starts high, see RouterConstants.initialRttMs). */
  smoothedRttMs: number;
  /** The link cost routes through this neighbour were last selected with (see Router.reactToLinkCost). */
  selectedWithCost: number;
  /** The link cost in the metrics last announced for routes through this neighbour. */
  announcedWithCost: number;
  /** When a link-cost change last re-ran selection, and last re-announced metrics. */
  costReactionAt: number;
  costAnnouncedAt: number;
  timers: Timer[];
}

export interface RouteEntry {
  readonly subnet: Subnet;
  /** The router id of the route's origin (40 bytes) and its map key. */
  routerId: Uint8Array;
  routerIdKey: string;
  readonly neighbour: NeighbourState;
  /** Metric as the neighbour advertised it (link cost not included). */
  metric: number;
  seqno: number;
  selected: boolean;
  expiresAt: number;
  expiry: Timer | undefined;
}

export interface SubnetRoutes {
  readonly subnet: Subnet;
  readonly routes: RouteEntry[];
  /** When the neighbours were last asked for another way to this subnet (Router.askForAlternatives). */
  alternativesAskedAt: number;
}

export interface FeasibilityDistance {
  seqno: number;
  metric: number;
  refreshedAt: number;
}

export function sourceKey(subnet: Subnet, routerIdKey: string): string {
  return `${subnet.key}|${routerIdKey}`;
}

/** RFC 8966 feasibility: no distance yet, a newer seqno, the same seqno with a smaller metric, or a retraction. */
export function feasible(fd: FeasibilityDistance | undefined, seqno: number, metric: number): boolean {
  if (fd === undefined) return true;
  return seqnoGt(seqno, fd.seqno) || (seqno === fd.seqno && metric < fd.metric) || metric === METRIC_INFINITE;
}

export function selectedOf(s: SubnetRoutes): RouteEntry | undefined {
  for (const r of s.routes) if (r.selected) return r;
  return undefined;
}

/** Seqno requests we forwarded: who asked (sources) and whom we asked (targets). */
export interface SeqnoCacheEntry {
  sources: Set<NeighbourState>;
  targets: Set<NeighbourState>;
  firstSentAt: number;
  lastSentAt: number;
}

/** Route requests we sent per subnet: the generation and which neighbours got it. */
export interface RouteRequestCacheEntry {
  generation: number;
  receivers: Set<NeighbourState>;
  sentAt: number;
}

export interface QueriedSubnet {
  readonly subnet: Subnet;
  readonly expiresAt: number;
  readonly timer: Timer;
}
