// Mycelium peers (reference §2.2): a listener (default [::]:9651), static peers dialled and redialled
// every 5 s while down, inbound peers kept while connected, link-local discovery, and private
// networks where every link is TLS with the network's pre-shared key. Each link that comes up is
// handed to `onLink` (the overlay makes it a router neighbour); the table keeps Mycelium's PeerStats.
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { err, ok, type Result } from '../base/result.ts';
import type { Link, LinkStats } from '../link/link.ts';
import { formatEndpoint, formatSocketAddress, parseEndpoint, type Endpoint } from '../link/mycelium-endpoint.ts';
import type { StreamLink } from '../link/mycelium-stream.ts';
import { dialMycelium, listenMycelium, type LinkLimits, type MyceliumListener, type PrivateNetwork } from '../link/mycelium-transport.ts';
import { DISCOVERY_PORT, MyceliumDiscovery } from './mycelium-discovery.ts';

export const MYCELIUM_TCP_PORT = 9651;
export const RECONNECT_INTERVAL_MS = 5_000;
/** A discovered link-local peer is forgotten after this many failed connects in a row. */
export const DISCOVERED_MAX_FAILURES = 3;

export type PeerType = 'static' | 'inbound' | 'linkLocalDiscovery';
export type ConnectionState = 'alive' | 'connecting' | 'dead';

/** Mycelium's PeerStats JSON (v0.7.6+). */
export interface PeerStats {
  endpoint: { proto: 'tcp' | 'tls' | 'quic'; addr: { socket: string } };
  type: PeerType;
  connectionState: ConnectionState;
  txBytes: number;
  rxBytes: number;
  /** Seconds since the peer became known. */
  discovered: number;
  /** Seconds since the last successful connection, or null. */
  lastConnected: number | null;
}

/** A peer with its endpoint text ("tcp://[2001:db8::1]:9651") and the id of its live link, if any. */
export interface LinkedPeer {
  endpoint: string;
  stats: PeerStats;
  linkId: number | undefined;
}

export interface MyceliumPeerManagerOptions {
  clock: Clock;
  logger: Logger;
  /** TCP (or, in a private network, TLS) listener; false = none. Port 0 picks a free one. */
  listen?: { host?: string; port: number } | false;
  /** Static peers, e.g. `tcp://203.0.113.5:9651`. */
  peers?: string[];
  privateNetwork?: PrivateNetwork;
  /** Link-local discovery; false = off (`--disable-peer-discovery`). Needs our router id for beacons. */
  discovery?: false | { routerId: Uint8Array; port?: number; interfaces?: string[]; beaconIntervalMs?: number };
  reconnectIntervalMs?: number;
  connectTimeoutMs?: number;
  maxInbound?: number;
  limits?: LinkLimits;
  /** Every link that comes up, once. */
  onLink: (link: Link, peer: { endpoint: string; type: PeerType }) => void;
}

interface PeerRecord {
  key: string;
  endpoint: Endpoint;
  type: PeerType;
  state: ConnectionState;
  link: StreamLink | undefined;
  discoveredAt: number;
  connectedAt: number | undefined;
  txBase: number;
  rxBase: number;
  failures: number;
  removed: boolean;
}

export class MyceliumPeerManager {
  private readonly opts: MyceliumPeerManagerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly records = new Map<string, PeerRecord>();
  private listener: MyceliumListener | undefined;
  private discovery: MyceliumDiscovery | undefined;
  private timer: Timer | undefined;
  private stopped = false;
  /** Connections refused during setup (bad key, plain TCP in private mode, too many inbound). */
  refused = 0;

  constructor(opts: MyceliumPeerManagerOptions) {
    this.opts = opts;
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'peers', kind: 'mycelium' });
  }

  get listenPort(): number | undefined {
    return this.listener?.port;
  }

  get discoveryPort(): number | undefined {
    return this.discovery?.boundPort;
  }

  /** Starts the listener, dials the static peers and, unless disabled, link-local discovery. */
  async start(): Promise<void> {
    const l = this.opts.listen ?? { port: MYCELIUM_TCP_PORT };
    if (l !== false) {
      this.listener = await listenMycelium({
        clock: this.clock,
        logger: this.opts.logger,
        host: l.host,
        port: l.port,
        privateNetwork: this.opts.privateNetwork,
        limits: this.opts.limits,
        onLink: (link) => this.inbound(link),
        onRefused: (remote, reason) => {
          this.refused++;
          this.log.warn({ remote, reason }, 'refused a connection that failed the private network handshake');
        },
      });
      this.log.info({ port: this.listener.port, tls: this.opts.privateNetwork !== undefined }, 'listening for Mycelium peers');
    }
    for (const p of this.opts.peers ?? []) {
      const r = this.addPeer(p);
      if (!r.ok) this.log.error({ endpoint: p, reason: r.error.message }, 'ignoring a configured peer');
    }
    const d = this.opts.discovery;
    if (d !== undefined && d !== false) {
      this.discovery = new MyceliumDiscovery({
        clock: this.clock,
        logger: this.opts.logger,
        routerId: d.routerId,
        tcpPort: this.listener?.port ?? MYCELIUM_TCP_PORT,
        port: d.port ?? DISCOVERY_PORT,
        interfaces: d.interfaces,
        beaconIntervalMs: d.beaconIntervalMs,
        onPeer: (host, port) => this.discovered(host, port),
      });
      await this.discovery.start();
    }
    this.timer = this.clock.setInterval(() => this.reconnect(), this.opts.reconnectIntervalMs ?? RECONNECT_INTERVAL_MS);
  }

  /** Adds a static peer at runtime and dials it. */
  addPeer(text: string): Result<void> {
    const e = parseEndpoint(text);
    if (!e.ok) return e;
    const ep = e.value;
    if (ep.proto === 'quic') return err('unsupported', `QUIC peers are not supported: ${text}`);
    if (ep.proto === 'tls' && this.opts.privateNetwork === undefined) return err('not-private', `${text}: tls:// peers need a private network (network name and key)`);
    const key = formatEndpoint(ep);
    if (this.records.has(key)) return err('exists', `peer ${key} already exists`);
    this.records.set(key, this.newRecord(key, ep, 'static'));
    this.dial(key);
    return ok(undefined);
  }

  /** Removes a peer (any type) and closes its link. */
  removePeer(text: string): Result<void> {
    const e = parseEndpoint(text);
    if (!e.ok) return e;
    const key = formatEndpoint(e.value);
    const r = this.records.get(key);
    if (r === undefined) return err('not-found', `no peer ${key}`);
    r.removed = true;
    this.records.delete(key);
    r.link?.close('peer removed');
    return ok(undefined);
  }

  peers(): PeerStats[] {
    const now = this.clock.now();
    return [...this.records.values()].map((r) => this.statsOf(r, now));
  }

  /**
   * Every peer as `peers()` shows it, with its endpoint text and the id of its live link (undefined while it
   * is down): the router's neighbour of that link gives the link cost (`hypha peers list`).
   */
  linkedPeers(): LinkedPeer[] {
    const now = this.clock.now();
    return [...this.records.values()].map((r) => ({ endpoint: r.key, stats: this.statsOf(r, now), linkId: r.link?.id }));
  }

  private statsOf(r: PeerRecord, now: number): PeerStats {
    const s = r.link?.stats();
    return {
      endpoint: { proto: r.endpoint.proto, addr: { socket: formatSocketAddress(r.endpoint.host, r.endpoint.port) } },
      type: r.type,
      connectionState: r.state,
      txBytes: r.txBase + (s?.txBytes ?? 0),
      rxBytes: r.rxBase + (s?.rxBytes ?? 0),
      discovered: Math.floor((now - r.discoveredAt) / 1000),
      lastConnected: r.connectedAt === undefined ? null : Math.floor((now - r.connectedAt) / 1000),
    };
  }

  /** The open links with their counters (metrics: bytes, messages and send-queue drops per link). */
  linkStats(): { id: number; stats: LinkStats }[] {
    const out: { id: number; stats: LinkStats }[] = [];
    for (const r of this.records.values()) if (r.link !== undefined && !r.link.closed) out.push({ id: r.link.id, stats: r.link.stats() });
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.discovery?.stop();
    for (const r of this.records.values()) r.link?.close('shutting down');
    this.records.clear();
    await this.listener?.close();
  }

  private newRecord(key: string, endpoint: Endpoint, type: PeerType): PeerRecord {
    return { key, endpoint, type, state: 'dead', link: undefined, discoveredAt: this.clock.now(), connectedAt: undefined, txBase: 0, rxBase: 0, failures: 0, removed: false };
  }

  private discovered(host: string, port: number): void {
    const ep: Endpoint = { proto: this.opts.privateNetwork ? 'tls' : 'tcp', host, port };
    const key = formatEndpoint(ep);
    if (this.records.has(key)) return;
    this.log.info({ endpoint: key }, 'discovered a link-local peer');
    this.records.set(key, this.newRecord(key, ep, 'linkLocalDiscovery'));
    this.dial(key);
  }

  private reconnect(): void {
    for (const r of this.records.values()) if (r.type !== 'inbound' && r.state === 'dead') this.dial(r.key);
  }

  private dial(key: string): void {
    const r = this.records.get(key);
    if (r === undefined || r.state !== 'dead' || this.stopped) return;
    r.state = 'connecting';
    void dialMycelium(r.endpoint, {
      clock: this.clock,
      logger: this.opts.logger,
      privateNetwork: this.opts.privateNetwork,
      timeoutMs: this.opts.connectTimeoutMs,
      limits: this.opts.limits,
    }).then((res) => {
      if (!res.ok) {
        r.state = 'dead';
        r.failures++;
        this.log.debug({ endpoint: key, reason: res.error.message, failures: r.failures }, 'cannot connect to peer');
        if (r.type === 'linkLocalDiscovery' && r.failures >= DISCOVERED_MAX_FAILURES && this.records.get(key) === r) this.records.delete(key);
        return;
      }
      if (r.removed || this.stopped) {
        res.value.close(r.removed ? 'peer removed' : 'shutting down');
        return;
      }
      this.up(r, res.value);
    });
  }

  private inbound(link: StreamLink): void {
    if (this.stopped) {
      link.close('shutting down');
      return;
    }
    const inboundCount = [...this.records.values()].filter((r) => r.type === 'inbound').length;
    if (inboundCount >= (this.opts.maxInbound ?? 1_000)) {
      this.refused++;
      this.log.warn({ remote: link.remoteAddress }, 'too many inbound peers, refusing one');
      link.close('too many inbound peers');
      return;
    }
    const ep = parseEndpoint(`${link.transport}://${link.remoteAddress}`);
    if (!ep.ok) {
      link.close('unparseable remote address');
      return;
    }
    const key = formatEndpoint(ep.value);
    const r = this.newRecord(key, ep.value, 'inbound');
    this.records.set(key, r);
    this.up(r, link);
  }

  private up(r: PeerRecord, link: StreamLink): void {
    r.link = link;
    r.state = 'alive';
    r.failures = 0;
    r.connectedAt = this.clock.now();
    this.log.info({ endpoint: r.key, type: r.type, transport: link.transport }, 'peer connected');
    link.whenClosed(() => this.down(r, link));
    this.opts.onLink(link, { endpoint: r.key, type: r.type });
  }

  private down(r: PeerRecord, link: StreamLink): void {
    if (r.link !== link) return;
    const s = link.stats();
    r.txBase += s.txBytes;
    r.rxBase += s.rxBytes;
    r.link = undefined;
    r.state = 'dead';
    this.log.info({ endpoint: r.key, type: r.type }, 'peer disconnected');
    // Inbound peers are forgotten when they go; static and discovered ones are redialled.
    if (r.type === 'inbound' && this.records.get(r.key) === r) this.records.delete(r.key);
  }
}
