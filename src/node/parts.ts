// THE place where a node's parts are registered. They start in this order and stop in reverse. A part is
// built here from the NodeContext and from parts registered before it (pass them to its constructor), so
// the dependency order is visible in one function.
import { join } from 'node:path';
import type { NodeContext, NodePart } from './part.ts';
import { PeerManager } from '../peers/manager.ts';
import { BucketPeerStore } from '../peers/bucket-store.ts';
import { GossipEngine } from '../gossip/engine.ts';
import { PartylineHub, RECENT_CHAT_LINES, type ChatLineEvent } from '../partyline/hub.ts';
import { Journal } from '../base/journal.ts';
import { MeshChat } from '../partyline/mesh-chat.ts';
import { PartylineSshServer } from '../partyline/ssh-server.ts';
import type { PeerSummary } from '../partyline/commands.ts';
import { registerStateCommands } from '../partyline/state-commands.ts';
import { StateService, type StateChange } from '../state/service.ts';
import { DesiredState } from '../state/desired.ts';
import type { GossipPort } from '../state/ports.ts';
import { Overlay } from '../dataplane/overlay.ts';
import { NativeOverlayBridge, overlayLinkKinds } from '../dataplane/native-bridge.ts';
import { nativeTimers } from '../router/neighbour.ts';
import { logTunUnavailable, openTun, type TunDevice } from '../dataplane/tun.ts';
import { MyceliumPeerManager } from '../peers/mycelium-peers.ts';
import { privateNetwork, type PrivateNetwork } from '../link/mycelium-transport.ts';
import { formatSocketAddress } from '../link/mycelium-endpoint.ts';
import { nodeSubnetText } from '../identity/address.ts';
import { isPrivateNetwork, MYCELIUM_TCP_LISTEN_PORT } from '../config/schema.ts';
import { readApiTokenFile, readNetworkKeyFile } from '../config/secret-files.ts';
import { splitHostPort } from '../config/hostport.ts';
import { ApiServer } from '../api/server.ts';
import { JsonRpcServer } from '../api/jsonrpc/server.ts';
import type { MetricsServer, MetricsSources, NodeMetrics } from '../api/metrics.ts';
import { MessageBus } from '../messages/bus.ts';
import { loadTopicFile } from '../messages/topic-file.ts';
import type { NodeServices } from '../api/services.ts';
import type { Logger } from '../base/log.ts';
import { metricsSources, nodeServices } from './services.ts';
import { HYPHA_VERSION } from './version.ts';

/** The native (Micelio) peer manager as a node part. */
export class PeersPart implements NodePart {
  readonly name = 'peers';
  readonly manager: PeerManager;

  constructor(ctx: NodeContext) {
    const net = ctx.config.network;
    // The peer manager tags its own lines with component "peers".
    const logger = ctx.logger;
    this.manager = new PeerManager({
      identity: ctx.identity,
      clock: ctx.clock,
      logger,
      version: HYPHA_VERSION,
      tags: ctx.config.node.tags,
      listen: net.listen,
      advertiseAddr: net.advertise_addr,
      bootstrap: net.bootstrap,
      maxPeers: net.max_peers,
      maxKnownPeers: net.max_known_peers,
      store: new BucketPeerStore(ctx.store, logger),
      exchangeIntervalMs: net.exchange_interval,
      discoveryIntervalMs: net.discovery_interval,
      peerTtlMs: net.peer_ttl,
      keepaliveIntervalMs: net.keepalive_interval,
      idleTimeoutMs: net.idle_timeout,
      writeTimeoutMs: net.write_timeout,
      handshakeTimeoutMs: net.handshake_timeout,
      helloTimeoutMs: net.handshake_timeout,
    });
  }

  start(): Promise<void> {
    return this.manager.start();
  }

  stop(): Promise<void> {
    return this.manager.stop();
  }

  describe(): Record<string, unknown> {
    return { listen: this.manager.listenAddress ?? 'outbound only', advertise: this.manager.advertiseAddress || 'none' };
  }
}

/** Gossip: verifies, dedups, rate-limits and relays every envelope the peer manager hands up. */
export class GossipPart implements NodePart {
  readonly name = 'gossip';
  readonly engine: GossipEngine;

  constructor(ctx: NodeContext, peers: PeerManager) {
    this.engine = new GossipEngine({ identity: ctx.identity, peers, clock: ctx.clock, logger: ctx.logger });
  }

  start(): void {
    this.engine.start();
  }

  stop(): void {
    this.engine.stop();
  }
}

/** State changes the node keeps for readers of the API that fall behind (GET /api/v1/hypha/state/_changes). */
export const STATE_CHANGES_KEPT = 1024;

/** The replicated state map (LMDB bucket "state"), its anti-entropy, and desired state. */
export class StatePart implements NodePart {
  readonly name = 'state';
  readonly state: StateService;
  readonly desired: DesiredState;
  /** Every change of the map, numbered, the latest STATE_CHANGES_KEPT kept: what the API's watch routes read. */
  readonly changes: Journal<StateChange>;

  constructor(ctx: NodeContext, gossip: GossipPort, peers: PeerManager) {
    const c = ctx.config.state;
    this.state = new StateService({
      identity: ctx.identity,
      gossip,
      peers,
      store: ctx.store,
      clock: ctx.clock,
      logger: ctx.logger,
      tags: ctx.config.node.tags,
      limits: {
        maxKeyBytes: c.max_key_bytes,
        maxValueBytes: c.max_value_bytes,
        maxEntriesPerOwner: c.max_entries_per_owner,
        maxEntries: c.max_entries,
        maxBytes: c.max_bytes,
      },
      tombstoneTtlMs: c.tombstone_ttl,
      gcIntervalMs: c.gc_interval,
      syncIntervalMs: c.sync_interval,
    });
    this.desired = new DesiredState({
      state: this.state,
      logger: ctx.logger,
      tags: ctx.config.node.tags,
      controllers: c.controllers,
      autoObserve: c.auto_observe,
    });
    this.changes = new Journal({ clock: ctx.clock, capacity: STATE_CHANGES_KEPT });
    this.state.onChange((change) => this.changes.append(change));
  }

  async start(): Promise<void> {
    await this.state.start();
    this.desired.start();
  }

  async stop(): Promise<void> {
    await this.desired.stop();
    await this.state.stop();
  }

  describe(): Record<string, unknown> {
    const s = this.state.stats();
    return { stateEntries: s.entries, stateNodes: s.owners };
  }
}

/** The SSH partyline: the chat hub, the server people log into, and chat over the mesh (gossip). */
export class PartylinePart implements NodePart {
  readonly name = 'partyline';
  readonly hub: PartylineHub;
  readonly server: PartylineSshServer | undefined;
  readonly meshChat: MeshChat;
  /** The latest chat lines shown (local and remote), numbered: what GET /api/v1/hypha/chat reads. */
  readonly recent: Journal<ChatLineEvent>;

  constructor(ctx: NodeContext, peers: PeerManager, gossip: GossipEngine, state?: StatePart) {
    const ssh = ctx.config.ssh;
    // The partyline's modules tag their own lines with component "partyline".
    const logger = ctx.logger;
    this.hub = new PartylineHub({
      nodeName: ctx.config.node.name,
      clock: ctx.clock,
      logger,
      services: { nodeId: ctx.identity.nodeId, peers: () => peers.peers().map(peerSummary) },
      maxSessions: ssh.max_sessions,
      idleTimeoutMs: ssh.idle_timeout,
    });
    this.meshChat = new MeshChat({ hub: this.hub, gossip, nodeName: ctx.config.node.name, clock: ctx.clock, logger });
    this.recent = new Journal({ clock: ctx.clock, capacity: RECENT_CHAT_LINES });
    this.hub.onLine((line) => this.recent.append(line));
    if (state) registerStateCommands(this.hub.commands, { state: state.state, desired: state.desired });
    this.server =
      ssh.listen === ''
        ? undefined
        : new PartylineSshServer({
            hub: this.hub,
            identity: ctx.identity,
            authorizedKeysPath: join(ctx.config.node.data_dir, 'authorized_keys'),
            clock: ctx.clock,
            logger,
            listen: ssh.listen,
          });
  }

  async start(): Promise<void> {
    this.meshChat.start();
    try {
      await this.server?.listen();
    } catch (e) {
      // A part that fails to start is not stopped by the node: leave nothing subscribed.
      this.meshChat.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.meshChat.stop();
    this.hub.stop();
  }

  describe(): Record<string, unknown> {
    const a = this.server?.address;
    return { ssh: a ? `${a.host}:${a.port}` : 'off' };
  }
}

function peerSummary(p: { nodeId: string; listenAddr: string; remoteAddress: string; direction: 'inbound' | 'outbound'; version: string }): PeerSummary {
  return { nodeId: p.nodeId, address: p.listenAddr || p.remoteAddress, direction: p.direction, kind: p.version };
}

/**
 * The overlay: router + data plane keyed with the node's X25519 identity, and the TUN device (unless
 * `no_tun`). Without the privilege to create the device it logs one ERROR saying how to fix that and runs as
 * with --no-tun. Built at start, so a node that fails to start leaves no router timers behind.
 */
export class OverlayPart implements NodePart {
  readonly name = 'overlay';
  private readonly ctx: NodeContext;
  private readonly log: Logger;
  private current: Overlay | undefined;
  private tun: TunDevice | undefined;

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
    this.log = ctx.logger.child({ component: 'overlay' });
  }

  /** The running overlay; throws before start and after stop. */
  get overlay(): Overlay {
    if (this.current === undefined) throw new Error('the overlay is not running');
    return this.current;
  }

  /** The TUN interface in use, or undefined (--no-tun, or unavailable). */
  get tunName(): string | undefined {
    return this.tun?.name;
  }

  start(): void {
    const { config, identity } = this.ctx;
    if (!config.no_tun) {
      const r = openTun({ name: config.tun_name, address: identity.address, logger: this.ctx.logger });
      if (r.ok) this.tun = r.value;
      else logTunUnavailable(this.log, r.error);
    }
    this.current = new Overlay({
      clock: this.ctx.clock,
      logger: this.ctx.logger,
      x25519Private: identity.x25519PrivateKey,
      x25519Public: identity.x25519Public,
      device: this.tun,
    });
    this.log.info({ address: identity.addressText, subnet: nodeSubnetText(identity.x25519Public), tun: this.tun?.name ?? 'off' },
      `overlay address ${identity.addressText}${this.tun ? ` on ${this.tun.name}` : ' (no TUN)'}`);
  }

  stop(): void {
    this.current?.stop();
    this.current = undefined;
    this.tun?.close();
    this.tun = undefined;
  }

  describe(): Record<string, unknown> {
    return { tun: this.tun?.name ?? 'off' };
  }
}

/**
 * The overlay over native links: every connected Hypha peer becomes a router neighbour, its Babel TLVs and
 * data packets riding in msg_types 90/91 on the Noise link, with the fast native timers.
 */
export class NativeOverlayPart implements NodePart {
  readonly name = 'native-overlay';
  private readonly ctx: NodeContext;
  private readonly peers: PeerManager;
  private readonly overlayPart: OverlayPart;
  private current: NativeOverlayBridge | undefined;

  constructor(ctx: NodeContext, peers: PeerManager, overlay: OverlayPart) {
    this.ctx = ctx;
    this.peers = peers;
    this.overlayPart = overlay;
  }

  /** The running bridge, or undefined before start / after stop. */
  get bridge(): NativeOverlayBridge | undefined {
    return this.current;
  }

  start(): void {
    this.current = new NativeOverlayBridge({
      peers: this.peers,
      overlay: this.overlayPart.overlay,
      clock: this.ctx.clock,
      logger: this.ctx.logger,
      timers: nativeTimers(this.ctx.config.overlay.native_hello_interval),
    });
    this.current.start();
  }

  stop(): void {
    this.current?.stop();
    this.current = undefined;
  }
}

/**
 * Mycelium peers: the listener on [::]:<tcp_listen_port>, the static `peers`, link-local discovery unless
 * disabled, and the private network when network_name and network_key_file are set. Every link that comes
 * up becomes a neighbour of the overlay's router.
 */
export class MyceliumPeersPart implements NodePart {
  readonly name = 'mycelium-peers';
  private readonly ctx: NodeContext;
  private readonly overlayPart: OverlayPart;
  private readonly log: Logger;
  private current: MyceliumPeerManager | undefined;
  private listenHost = '::';
  private network: PrivateNetwork | undefined;

  constructor(ctx: NodeContext, overlay: OverlayPart) {
    this.ctx = ctx;
    this.overlayPart = overlay;
    this.log = ctx.logger.child({ component: 'peers', kind: 'mycelium' });
  }

  /** The running peer manager; throws before start and after stop. */
  get manager(): MyceliumPeerManager {
    if (this.current === undefined) throw new Error('the Mycelium peer manager is not running');
    return this.current;
  }

  async start(): Promise<void> {
    const c = this.ctx.config;
    if (isPrivateNetwork(c)) {
      const key = await readNetworkKeyFile(c.network_key_file);
      if (!key.ok) throw new Error(`network_key_file: ${key.error.message}`);
      const pn = privateNetwork(c.network_name, key.value);
      if (!pn.ok) throw new Error(`network_name: ${pn.error.message}`);
      this.network = pn.value;
    }
    if (c.quic_listen_port !== MYCELIUM_TCP_LISTEN_PORT) {
      this.log.info({ quicListenPort: c.quic_listen_port }, 'quic_listen_port is ignored: Hypha has no QUIC; Mycelium peers connect over TCP (tcp_listen_port)');
    }
    const quic = c.peers.filter((p) => p.startsWith('quic://'));
    if (quic.length > 0) {
      this.log.warn({ peers: quic }, `skipping ${quic.length} quic:// peer${quic.length === 1 ? '' : 's'}: Hypha has no QUIC; Mycelium nodes accept tcp:// on the same port (9651 by default)`);
    }
    const overlay = this.overlayPart.overlay;
    const make = (host: string) => new MyceliumPeerManager({
      clock: this.ctx.clock,
      logger: this.ctx.logger,
      listen: { host, port: c.tcp_listen_port },
      peers: c.peers.filter((p) => !p.startsWith('quic://')),
      privateNetwork: this.network,
      discovery: c.disable_peer_discovery
        ? false
        : { routerId: overlay.router.routerId, port: c.peer_discovery_port, interfaces: c.peer_discovery_interfaces.length > 0 ? [...c.peer_discovery_interfaces] : undefined },
      onLink: (link) => overlay.attachLink(link),
    });
    let mgr = make(this.listenHost);
    try {
      await mgr.start();
    } catch (e) {
      await mgr.stop();
      const code = (e as { code?: string }).code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw listenError(e, c.tcp_listen_port);
      // A host with IPv6 disabled: IPv4 only, as Mycelium cannot do at all.
      this.log.warn({ port: c.tcp_listen_port }, 'IPv6 is not available; listening for Mycelium peers on IPv4 only');
      this.listenHost = '0.0.0.0';
      mgr = make(this.listenHost);
      try {
        await mgr.start();
      } catch (e2) {
        await mgr.stop();
        throw listenError(e2, c.tcp_listen_port);
      }
    }
    this.current = mgr;
  }

  async stop(): Promise<void> {
    await this.current?.stop();
    this.current = undefined;
  }

  describe(): Record<string, unknown> {
    const m = this.current;
    if (m === undefined) return {};
    const facts: Record<string, unknown> = {
      myceliumListen: m.listenPort === undefined ? 'none' : formatSocketAddress(this.listenHost, m.listenPort),
      peerDiscovery: m.discoveryPort === undefined ? 'off' : `udp ${m.discoveryPort}`,
    };
    if (this.network) facts.privateNetwork = this.network.name;
    return facts;
  }
}

function listenError(e: unknown, port: number): Error {
  const code = (e as { code?: string }).code;
  const why = code === 'EADDRINUSE' ? 'the port is in use (another hypha or mycelium node running?)'
    : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
      : e instanceof Error ? e.message : String(e);
  return new Error(`cannot listen for Mycelium peers on TCP port ${port}: ${why}; choose another --tcp-listen-port (0 = any free port)`, { cause: e });
}

/** The message bus (Mycelium's message protocol over the overlay), inbox and outbox in the store. */
export class MessagesPart implements NodePart {
  readonly name = 'messages';
  private readonly ctx: NodeContext;
  private readonly overlayPart: OverlayPart;
  private current: MessageBus | undefined;

  constructor(ctx: NodeContext, overlay: OverlayPart) {
    this.ctx = ctx;
    this.overlayPart = overlay;
  }

  /** The running bus; throws before start and after stop. */
  get bus(): MessageBus {
    if (this.current === undefined) throw new Error('the message bus is not running');
    return this.current;
  }

  async start(): Promise<void> {
    const c = this.ctx.config;
    const topicFile = c.topic_config === '' ? undefined : await loadTopicFile(c.topic_config);
    this.current = new MessageBus({ clock: this.ctx.clock, logger: this.ctx.logger, store: this.ctx.store, overlay: this.overlayPart.overlay, topicFile });
    await this.current.start();
  }

  async stop(): Promise<void> {
    await this.current?.stop();
    this.current = undefined;
  }

  describe(): Record<string, unknown> {
    return this.current ? { inbox: this.current.inboxCount } : {};
  }
}

/** A server that listens on an address of the config (or not at all when the address is ""). */
interface Listening {
  readonly url: string | undefined;
  close(): Promise<void>;
}

/** The lifecycle every listener part shares: open on start (maybe to nothing), close on stop. */
class ListenerPart<S extends Listening> implements NodePart {
  readonly name: string;
  private readonly open: () => Promise<S | undefined>;
  private current: S | undefined;

  constructor(name: string, open: () => Promise<S | undefined>) {
    this.name = name;
    this.open = open;
  }

  /** The server once listening (undefined when it is off). */
  get server(): S | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    this.current = await this.open();
  }

  async stop(): Promise<void> {
    await this.current?.close();
    this.current = undefined;
  }

  describe(): Record<string, unknown> {
    return { [this.name]: this.current?.url ?? 'off' };
  }
}

/** The API token of api_token_file (the HTTP API and JSON-RPC share it); undefined when none is set. */
async function apiToken(ctx: NodeContext): Promise<string | undefined> {
  const file = ctx.config.api_token_file;
  if (file === '') return undefined;
  const t = await readApiTokenFile(file);
  if (!t.ok) throw new Error(`api_token_file: ${t.error.message}`);
  return t.value;
}

function listenAddress(key: string, addr: string): { host: string; port: number } {
  const hp = splitHostPort(addr);
  if (!hp.ok) throw new Error(`${key}: ${hp.error.message}`);
  return hp.value;
}

/** The HTTP API on api_addr (off when it is ""), serving the node through NodeServices. */
export class ApiPart extends ListenerPart<ApiServer> {
  readonly services: NodeServices;

  constructor(ctx: NodeContext, services: NodeServices) {
    super('api', async () => {
      if (ctx.config.api_addr === '') {
        ctx.logger.info({ component: 'api' }, 'HTTP API off (api_addr is "")');
        return undefined;
      }
      const token = await apiToken(ctx);
      const server = new ApiServer({ services, logger: ctx.logger, ...listenAddress('api_addr', ctx.config.api_addr), token, version: HYPHA_VERSION });
      await server.listen();
      return server;
    });
    this.services = services;
  }
}

/** JSON-RPC 2.0 on jsonrpc_addr (off when it is ""), Mycelium's methods over NodeServices; the API token applies too. */
export class JsonRpcPart extends ListenerPart<JsonRpcServer> {
  constructor(ctx: NodeContext, services: NodeServices) {
    super('jsonrpc', async () => {
      if (ctx.config.jsonrpc_addr === '') {
        ctx.logger.info({ component: 'jsonrpc' }, 'JSON-RPC off (jsonrpc_addr is "")');
        return undefined;
      }
      const token = await apiToken(ctx);
      const server = new JsonRpcServer({ services, logger: ctx.logger, ...listenAddress('jsonrpc_addr', ctx.config.jsonrpc_addr), token, version: HYPHA_VERSION });
      await server.listen();
      return server;
    });
  }
}

/**
 * Prometheus metrics on metrics_api_address (off when it is ""): a registry of this node's own, read from its
 * parts at every scrape. prom-client is loaded only when metrics are on.
 */
export class MetricsPart extends ListenerPart<MetricsServer> {
  private registry: NodeMetrics | undefined;

  constructor(ctx: NodeContext, sources: MetricsSources) {
    super('metrics', async () => {
      if (ctx.config.metrics_api_address === '') return undefined;
      const m = await import('../api/metrics.ts');
      this.registry ??= new m.NodeMetrics(sources);
      const server = new m.MetricsServer({ metrics: this.registry, logger: ctx.logger, ...listenAddress('metrics_api_address', ctx.config.metrics_api_address) });
      await server.listen();
      return server;
    });
  }

  /** The node's metrics once they have been turned on (undefined while metrics_api_address is ""). */
  get metrics(): NodeMetrics | undefined {
    return this.registry;
  }
}

export function registerParts(ctx: NodeContext): NodePart[] {
  const peers = new PeersPart(ctx);
  const gossip = new GossipPart(ctx, peers.manager);
  const state = new StatePart(ctx, gossip.engine, peers.manager);
  const partyline = new PartylinePart(ctx, peers.manager, gossip.engine, state);
  const overlay = new OverlayPart(ctx);
  const links = overlayLinkKinds(ctx.config.overlay.links);
  const native = links.native ? new NativeOverlayPart(ctx, peers.manager, overlay) : undefined;
  const mycelium = links.mycelium ? new MyceliumPeersPart(ctx, overlay) : undefined;
  const messages = new MessagesPart(ctx, overlay);
  const services = nodeServices({
    identity: ctx.identity,
    clock: ctx.clock,
    overlay: () => overlay.overlay,
    myceliumPeers: () => mycelium?.manager,
    nativePeers: () => peers.manager,
    nativeBridge: () => native?.bridge,
    overlayLinks: ctx.config.overlay.links,
    messageBus: () => messages.bus,
    gossip: () => gossip.engine,
    partyline: () => partyline,
    connectedPeers: () => peers.manager.connectedCount,
    state: () => state.state,
    stateChanges: () => state.changes,
  });
  const api = new ApiPart(ctx, services);
  const jsonrpc = new JsonRpcPart(ctx, services);
  const metrics = new MetricsPart(ctx, metricsSources({
    identity: ctx.identity,
    version: HYPHA_VERSION,
    peers: peers.manager,
    gossip: gossip.engine,
    state: state.state,
    partyline: () => ({ hub: partyline.hub, chat: partyline.meshChat }),
    overlay: () => overlay.overlay,
    nativeOverlay: () => native?.bridge,
    myceliumPeers: () => mycelium?.manager,
    messages: () => messages.bus,
  }));
  // Gossip and the state start before the peer manager connects anyone, so their handlers see the first
  // connects; they stop after the links close.
  return [gossip, state, peers, partyline, overlay, messages, ...(native ? [native] : []), ...(mycelium ? [mycelium] : []), api, jsonrpc, metrics];
}
