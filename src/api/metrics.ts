// Prometheus metrics of one node, served as text at http://<metrics_api_address>/metrics on a listener of
// their own (as Mycelium's --metrics-api-address). Each node has its own registry (no prom-client globals: two
// nodes in one process never share a metric), and every value is read from the node's parts when scraped
// (collect callbacks) — nothing on a hot path touches prom-client.
//
// Counters the parts keep for their lifetime are exported as Prometheus counters. Per-link counters (bytes,
// messages, send-queue drops) live on links that come and go; LinkTotals keeps their sums monotonic by
// remembering what a link had counted when it was last seen.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import { addressText, listenHttp } from './listen.ts';
import type { DataPlaneCounters } from '../dataplane/dataplane.ts';
import type { NativeOverlayBridgeStats } from '../dataplane/native-bridge.ts';
import type { GossipStats } from '../gossip/engine.ts';
import type { LinkStats } from '../link/link.ts';
import type { MessageBusCounters, MessageBusStats } from '../messages/bus.ts';
import type { MeshChatStats } from '../partyline/mesh-chat.ts';
import type { PartylineHubStats } from '../partyline/hub.ts';
import type { PeerManagerStats } from '../peers/manager.ts';
import type { RouterStats } from '../router/router.ts';
import type { StateStats } from '../state/service.ts';

export const METRICS_PATH = '/metrics';
const PREFIX = 'hypha_';

/** One open link, by its process-unique id. */
export interface LinkSample {
  id: number;
  stats: LinkStats;
}

/** What the metrics read from a node; each part that is off (or not running) answers undefined. */
export interface MetricsSources {
  info(): { nodeId: string; address: string; version: string };
  /** Connected native peers. */
  nativePeers(): { hypha: boolean; link: LinkSample }[];
  peerManager(): PeerManagerStats;
  /** Mycelium peers with their type and state, and their open links. */
  myceliumPeers(): { peers: { type: string; state: string }[]; links: LinkSample[] } | undefined;
  router(): { selected: number; fallback: number; queried: number; neighbours: { kind: string }[]; stats: RouterStats } | undefined;
  dataplane(): { counters: DataPlaneCounters; routed: { packets: number; bytes: number } } | undefined;
  nativeOverlay(): NativeOverlayBridgeStats | undefined;
  messages(): { counters: MessageBusCounters; stats: MessageBusStats } | undefined;
  gossip(): GossipStats;
  state(): StateStats;
  partyline(): { hub: PartylineHubStats; chat: MeshChatStats } | undefined;
}

type Labels = Record<string, string>;
type Sample = [Labels, number];

/** "droppedNoRoute" → "dropped_no_route". */
export function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
}

const LINK_FIELDS = ['txBytes', 'rxBytes', 'txMessages', 'rxMessages', 'dropped'] as const;
type LinkField = (typeof LINK_FIELDS)[number];
type LinkSums = Record<LinkField, number>;

function zeroSums(): LinkSums {
  return { txBytes: 0, rxBytes: 0, txMessages: 0, rxMessages: 0, dropped: 0 };
}

/**
 * Monotonic totals over links that come and go: a link's last counts are kept when it disappears. Holds one
 * entry per open link (links gone are folded into `retired`), so it is bounded by the links themselves.
 */
export class LinkTotals {
  private readonly last = new Map<number, LinkSums>();
  private readonly retired = zeroSums();

  /** The totals, given the links open now. */
  observe(links: readonly LinkSample[]): LinkSums {
    const seen = new Set<number>();
    const out = { ...this.retired };
    for (const l of links) {
      seen.add(l.id);
      const now = { txBytes: l.stats.txBytes, rxBytes: l.stats.rxBytes, txMessages: l.stats.txMessages, rxMessages: l.stats.rxMessages, dropped: l.stats.dropped };
      this.last.set(l.id, now);
      for (const f of LINK_FIELDS) out[f] += now[f];
    }
    for (const [id, sums] of this.last) {
      if (seen.has(id)) continue;
      for (const f of LINK_FIELDS) {
        this.retired[f] += sums[f];
        out[f] += sums[f];
      }
      this.last.delete(id);
    }
    return out;
  }
}

/** One node's metrics: a registry of its own, read from `sources` at every scrape. */
export class NodeMetrics {
  readonly registry: Registry;
  private readonly src: MetricsSources;
  private readonly nativeLinks = new LinkTotals();
  private readonly myceliumLinks = new LinkTotals();
  /** What each source answered, for the duration of one scrape (a dozen families read the same stats). */
  private cache = new Map<string, unknown>();

  constructor(sources: MetricsSources) {
    this.src = sources;
    this.registry = new Registry();
    this.define();
  }

  /** The text exposition of every metric (what GET /metrics answers). */
  async scrape(): Promise<string> {
    this.cache = new Map();
    try {
      return await this.registry.metrics();
    } finally {
      this.cache = new Map();
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private read<T>(name: string, f: () => T): T {
    if (this.cache.has(name)) return this.cache.get(name) as T;
    let v: T;
    try {
      v = f();
    } catch {
      // A part that is not running (stopping, or failed to start) has no numbers: its families are empty.
      v = undefined as T;
    }
    this.cache.set(name, v);
    return v;
  }

  private links(): { native: LinkSums; mycelium: LinkSums | undefined } {
    return this.read('links', () => {
      const native = this.nativeLinks.observe(this.read('nativePeers', () => this.src.nativePeers()).map((p) => p.link));
      const m = this.read('myceliumPeers', () => this.src.myceliumPeers());
      return { native, mycelium: m === undefined ? undefined : this.myceliumLinks.observe(m.links) };
    });
  }

  private counter(name: string, help: string, labelNames: string[], samples: () => Sample[] | number | undefined): void {
    new Counter({
      name: PREFIX + name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const s = samples();
        if (typeof s === 'number') this.inc(s);
        else for (const [labels, v] of s ?? []) this.inc(labels, v);
      },
    });
  }

  private gauge(name: string, help: string, labelNames: string[], samples: () => Sample[] | number | undefined): void {
    new Gauge({
      name: PREFIX + name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const s = samples();
        if (typeof s === 'number') this.set(s);
        else for (const [labels, v] of s ?? []) this.set(labels, v);
      },
    });
  }

  private define(): void {
    const s = this.src;
    const gossip = () => this.read('gossip', () => s.gossip());
    const state = () => this.read('state', () => s.state());
    const router = () => this.read('router', () => s.router());
    const dp = () => this.read('dataplane', () => s.dataplane());
    const bus = () => this.read('messages', () => s.messages());
    const party = () => this.read('partyline', () => s.partyline());
    const pm = () => this.read('peerManager', () => s.peerManager());
    const bridge = () => this.read('nativeOverlay', () => s.nativeOverlay());
    const fields = <T extends object>(o: T | undefined, label: string, keys?: readonly (keyof T)[]): Sample[] =>
      o === undefined ? [] : (keys ?? (Object.keys(o) as (keyof T)[])).filter((k) => typeof o[k] === 'number').map((k) => [{ [label]: snake(String(k)) }, o[k] as number]);

    this.gauge('node_info', 'This node: id, overlay address and version (value 1)', ['node_id', 'address', 'version'], () => {
      const i = this.read('info', () => s.info());
      return i === undefined ? [] : [[{ node_id: i.nodeId, address: i.address, version: i.version }, 1]];
    });

    // ---- peers
    this.gauge('peers', 'Peers by link (native, mycelium), kind (hypha, micelio; static, inbound, linkLocalDiscovery) and state', ['link', 'kind', 'state'], () => {
      const out: Sample[] = [];
      const native = this.read('nativePeers', () => s.nativePeers()) ?? [];
      const hypha = native.filter((p) => p.hypha).length;
      out.push([{ link: 'native', kind: 'hypha', state: 'alive' }, hypha], [{ link: 'native', kind: 'micelio', state: 'alive' }, native.length - hypha]);
      const m = this.read('myceliumPeers', () => s.myceliumPeers());
      if (m !== undefined) {
        const counts = new Map<string, Sample>();
        for (const type of ['static', 'inbound', 'linkLocalDiscovery']) for (const st of ['alive', 'connecting', 'dead']) counts.set(`${type} ${st}`, [{ link: 'mycelium', kind: type, state: st }, 0]);
        for (const p of m.peers) {
          const c = counts.get(`${p.type} ${p.state}`) ?? [{ link: 'mycelium', kind: p.type, state: p.state }, 0];
          c[1]++;
          counts.set(`${p.type} ${p.state}`, c);
        }
        out.push(...counts.values());
      }
      return out;
    });
    this.gauge('peers_known', 'Native peers remembered in the peer table', [], () => pm()?.knownPeers);
    this.counter('native_peer_events_total', 'Native peer manager events: dials, failures, refusals, evictions', ['event'], () =>
      fields(pm(), 'event', ['dials', 'dialFailures', 'helloFailures', 'rejectedDuplicate', 'rejectedMaxPeers', 'refusedInbound', 'malformedEnvelopes',
        'overlayFromNonHypha', 'overlayUnhandled', 'peerExchangesReceived', 'peerExchangesDeduped', 'peerExchangesSent', 'peerExchangeEntriesSent', 'peersEvictedFull', 'peersEvictedExpired']));

    // ---- links: bytes and messages
    this.counter('link_bytes_total', 'Bytes carried by links, by link kind and direction', ['link', 'direction'], () => {
      const l = this.links();
      const out: Sample[] = [[{ link: 'native', direction: 'tx' }, l.native.txBytes], [{ link: 'native', direction: 'rx' }, l.native.rxBytes]];
      if (l.mycelium) out.push([{ link: 'mycelium', direction: 'tx' }, l.mycelium.txBytes], [{ link: 'mycelium', direction: 'rx' }, l.mycelium.rxBytes]);
      return out;
    });
    this.counter('link_messages_total', 'Messages (native: envelopes; mycelium: packets) carried by links', ['link', 'direction'], () => {
      const l = this.links();
      const out: Sample[] = [[{ link: 'native', direction: 'tx' }, l.native.txMessages], [{ link: 'native', direction: 'rx' }, l.native.rxMessages]];
      if (l.mycelium) out.push([{ link: 'mycelium', direction: 'tx' }, l.mycelium.txMessages], [{ link: 'mycelium', direction: 'rx' }, l.mycelium.rxMessages]);
      return out;
    });

    // ---- routes
    this.gauge('routes', 'Routes: selected (in use), fallback (known, not selected), queried (a route request is out)', ['table'], () => {
      const r = router();
      return r === undefined ? [] : [[{ table: 'selected' }, r.selected], [{ table: 'fallback' }, r.fallback], [{ table: 'queried' }, r.queried]];
    });
    this.gauge('router_neighbours', 'Router neighbours by link kind', ['kind'], () => {
      const r = router();
      if (r === undefined) return [];
      const by = new Map<string, number>([['native', 0], ['mycelium', 0]]);
      for (const n of r.neighbours) by.set(n.kind, (by.get(n.kind) ?? 0) + 1);
      return [...by].map(([kind, v]): Sample => [{ kind }, v]);
    });
    this.counter('router_events_total', 'Router events: TLVs, updates denied, requests, seqno bumps, dead neighbours, table limits', ['event'], () => fields(router()?.stats, 'event'));

    // ---- data plane: packets and bytes
    this.counter('routed_packets_total', 'Overlay data packets routed (originated, forwarded or delivered here)', [], () => dp()?.routed.packets);
    this.counter('routed_bytes_total', 'Payload bytes of the overlay data packets routed', [], () => dp()?.routed.bytes);
    this.counter('dataplane_packets_total', 'Data plane packet events (from/to the TUN device, originated, forwarded, delivered, ICMP, queued while a route resolves)', ['event'], () => {
      const c = dp()?.counters;
      return c === undefined ? [] : fields(c, 'event', (Object.keys(c) as (keyof DataPlaneCounters)[]).filter((k) => !k.startsWith('dropped')));
    });
    this.counter('dataplane_dropped_total', 'Data plane packets dropped, by reason', ['reason'], () => {
      const c = dp()?.counters;
      if (c === undefined) return [];
      return (Object.keys(c) as (keyof DataPlaneCounters)[]).filter((k) => k.startsWith('dropped')).map((k): Sample => [{ reason: snake(k.slice('dropped'.length)) }, c[k]]);
    });

    // ---- message bus
    this.counter('messages_total', 'Message bus events: pushed, accepted, delivered, read, aborted, retransmits, refusals…', ['event'], () => fields(bus()?.counters, 'event'));
    this.gauge('messages_queued', 'Messages held by the bus: inbox (not yet popped), outbox (being sent), receiving (incomplete)', ['queue'], () => {
      const b = bus()?.stats;
      return b === undefined ? [] : [[{ queue: 'inbox' }, b.inboxMessages], [{ queue: 'outbox' }, b.outboxMessages], [{ queue: 'receiving' }, b.receiving]];
    });
    this.gauge('messages_queued_bytes', 'Bytes of the messages held by the bus', ['queue'], () => {
      const b = bus()?.stats;
      return b === undefined ? [] : [[{ queue: 'inbox' }, b.inboxBytes], [{ queue: 'outbox' }, b.outboxBytes], [{ queue: 'receiving' }, b.receivingBytes]];
    });

    // ---- gossip
    this.counter('gossip_received_total', 'Unique gossip messages from neighbours that passed every check', [], () => gossip()?.received);
    this.counter('gossip_delivered_total', 'Received gossip messages handed to a handler', [], () => gossip()?.delivered);
    this.counter('gossip_originated_total', 'Own gossip messages broadcast', [], () => gossip()?.originated);
    this.counter('gossip_relayed_total', 'Received gossip messages passed on', [], () => gossip()?.relayed);
    this.counter('gossip_sends_total', 'Neighbour sends accepted: own broadcasts, own direct messages, relays', ['kind'], () => {
      const g = gossip();
      return g === undefined ? [] : [[{ kind: 'broadcast' }, g.broadcast], [{ kind: 'direct' }, g.direct], [{ kind: 'relay' }, g.forwarded]];
    });
    this.counter('gossip_dropped_total', 'Incoming gossip messages dropped, by reason', ['reason'], () => fields(gossip()?.dropped, 'reason'));
    this.counter('gossip_messages_total', 'Gossip messages by msg_type: received, originated, relayed', ['msg_type', 'event'], () => {
      const g = gossip();
      if (g === undefined) return [];
      return Object.entries(g.byType).flatMap(([t, c]): Sample[] => [[{ msg_type: t, event: 'received' }, c.received], [{ msg_type: t, event: 'originated' }, c.originated], [{ msg_type: t, event: 'relayed' }, c.relayed]]);
    });
    this.counter('gossip_sent_bytes_total', 'Envelope bytes of gossip handed to links, by msg_type', ['msg_type'], () => {
      const g = gossip();
      return g === undefined ? [] : Object.entries(g.byType).map(([t, c]): Sample => [{ msg_type: t }, c.bytesSent]);
    });
    this.counter('gossip_hops_clamped_total', 'Gossip messages whose hop count was clamped', [], () => gossip()?.hopsClamped);
    this.counter('gossip_handler_errors_total', 'Gossip handlers that threw', [], () => gossip()?.handlerErrors);
    this.gauge('gossip_table_entries', 'Entries of the gossip tables: seen cache, keyring, rate limiter', ['table'], () => {
      const g = gossip();
      return g === undefined ? [] : [[{ table: 'seen' }, g.seen.size], [{ table: 'keyring' }, g.keyring.size], [{ table: 'limiter' }, g.limiter.size]];
    });
    this.counter('gossip_table_evictions_total', 'Entries pushed out of the full gossip tables', ['table'], () => {
      const g = gossip();
      return g === undefined ? [] : [[{ table: 'seen' }, g.seen.evictions], [{ table: 'keyring' }, g.keyring.evictions], [{ table: 'limiter' }, g.limiter.evictions]];
    });

    // ---- state
    this.gauge('state_entries', 'Entries of the replicated state: live values and tombstones', ['kind'], () => {
      const st = state();
      return st === undefined ? [] : [[{ kind: 'live' }, st.entries], [{ kind: 'tombstone' }, st.tombstones]];
    });
    this.gauge('state_bytes', 'Bytes of the state\'s encoded entries (what max_bytes bounds)', [], () => state()?.bytes);
    this.gauge('state_owners', 'Nodes with entries in the state', [], () => state()?.owners);
    this.counter('state_updates_total', 'State entries by outcome: written here, applied from peers, duplicate, stale, expired, collected, deleted again', ['result'], () =>
      fields(state(), 'result', ['localWrites', 'applied', 'duplicates', 'stale', 'expiredIgnored', 'gcCollected', 'redeleted', 'corruptOnLoad']));
    this.counter('state_refused_total', 'Entries from peers refused by a limit, by limit', ['reason'], () => fields(state()?.refused, 'reason'));
    this.counter('state_rejected_total', 'Entries from peers that failed verification, by reason', ['reason'], () => fields(state()?.rejected, 'reason'));
    this.counter('state_gossip_total', 'Own state updates gossiped, and times the pacing deferred them', ['event'], () => {
      const st = state();
      return st === undefined ? [] : [[{ event: 'sent' }, st.gossipSent], [{ event: 'deferred' }, st.gossipDeferred]];
    });
    this.counter('state_sync_sessions_total', 'Anti-entropy sessions: started, done, incomplete', ['result'], () => {
      const y = state()?.sync;
      return y === undefined ? [] : [[{ result: 'started' }, y.sessionsStarted], [{ result: 'done' }, y.sessionsDone], [{ result: 'incomplete' }, y.sessionsIncomplete]];
    });
    this.counter('state_sync_requests_total', 'Anti-entropy requests sent, answered, rate-limited, malformed…', ['event'], () =>
      fields(state()?.sync, 'event', ['requestsSent', 'responsesReceived', 'requestsAnswered', 'requestsRateLimited', 'requestsMalformed', 'phase5Ignored', 'unexpectedResponses']));
    this.counter('state_sync_entries_total', 'Entries moved by anti-entropy: sent, received, new to this node', ['event'], () => {
      const y = state()?.sync;
      return y === undefined ? [] : [[{ event: 'sent' }, y.entriesSent], [{ event: 'received' }, y.entriesReceived], [{ event: 'new' }, y.entriesNew]];
    });
    this.counter('state_sync_bytes_total', 'Anti-entropy payload bytes', ['direction'], () => {
      const y = state()?.sync;
      return y === undefined ? [] : [[{ direction: 'tx' }, y.bytesSent], [{ direction: 'rx' }, y.bytesReceived]];
    });

    // ---- partyline
    this.gauge('partyline_sessions', 'SSH partyline sessions connected', [], () => party()?.hub.sessions);
    this.counter('chat_lines_total', 'Chat lines: local (typed or said through the API), remote (from the mesh), sent to the mesh, kept off it by pacing', ['event'], () => {
      const p = party();
      return p === undefined ? [] : [[{ event: 'local' }, p.hub.localLines], [{ event: 'remote' }, p.hub.remoteLines], [{ event: 'sent' }, p.chat.sent], [{ event: 'paced' }, p.hub.localLinesPaced]];
    });

    // ---- every bounded queue's drops
    this.counter('queue_dropped_total', 'Items dropped because a bounded queue was full, by queue', ['queue'], () => {
      const l = this.links();
      const out: Sample[] = [[{ queue: 'native_link_send' }, l.native.dropped]];
      if (l.mycelium) out.push([{ queue: 'mycelium_link_send' }, l.mycelium.dropped]);
      const g = gossip();
      if (g) out.push([{ queue: 'gossip_send' }, g.sendDropped]);
      const d = dp();
      if (d) out.push([{ queue: 'dataplane_route_wait' }, d.counters.droppedQueueFull], [{ queue: 'dataplane_link_send' }, d.counters.droppedSendFailed]);
      const b = bridge();
      if (b) out.push([{ queue: 'native_overlay_rejoin' }, b.droppedNoNeighbour]);
      const m = bus();
      if (m) out.push([{ queue: 'messages_send' }, m.counters.sendDropped]);
      const p = party();
      if (p) out.push([{ queue: 'partyline_session' }, p.hub.outputLinesDropped]);
      const st = state();
      if (st) out.push([{ queue: 'state_gossip_backlog' }, st.gossipBacklogDropped]);
      return out;
    });
  }
}

/** Serves GET /metrics for one node on its own listener. */
export class MetricsServer {
  private readonly metrics: NodeMetrics;
  private readonly log: Logger;
  private readonly host: string;
  private readonly port: number;
  private server: Server | undefined;
  private bound: AddressInfo | undefined;

  constructor(opts: { metrics: NodeMetrics; logger: Logger; host: string; port: number }) {
    this.metrics = opts.metrics;
    this.log = opts.logger.child({ component: 'metrics' });
    this.host = opts.host;
    this.port = opts.port;
  }

  async listen(): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.handle(req, res));
    // A scrape is one short request; a client that keeps a connection idle does not hold the listener.
    server.keepAliveTimeout = 5_000;
    server.requestTimeout = 10_000;
    await listenHttp(server, this.host, this.port, { what: 'metrics', flag: '--metrics-api-address', off: 'metrics' });
    this.server = server;
    this.bound = server.address() as AddressInfo;
    this.log.info({ url: this.url }, 'metrics listening');
    return this.bound;
  }

  /** "127.0.0.1:9090" once listening. */
  get address(): string | undefined {
    return addressText(this.bound);
  }

  get url(): string | undefined {
    return this.address === undefined ? undefined : `http://${this.address}${METRICS_PATH}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no ${path}: metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end(`${req.method} is not allowed: use GET\n`);
      return;
    }
    try {
      const body = await this.metrics.scrape();
      res.writeHead(200, { 'content-type': this.metrics.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      this.log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'metrics scrape failed');
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics could not be collected (logged by the node)\n');
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
