// The node's side of the API contract (src/api/services.ts): each service reads the running parts and turns
// their state into the JSON values the routes send. The parts are reached through getters, so the services
// can be built before the parts start (the API starts last and stops first).
import { toHex } from '../base/bytes.ts';
import type { Clock } from '../base/clock.ts';
import type { AdminServices, HyphaPeerServices, MessageServices, MyceliumPeerInfo, NativePeerInfo, NodeServices, OverlayLinksMode, PeerChange, QueriedSubnet, Route } from '../api/services.ts';
import type { NativeOverlayBridge } from '../dataplane/native-bridge.ts';
import type { MessageBus } from '../messages/index.ts';
import type { Overlay } from '../dataplane/overlay.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import { nodeSubnetText } from '../identity/address.ts';
import type { PeerManager } from '../peers/manager.ts';
import type { MyceliumPeerManager } from '../peers/mycelium-peers.ts';
import { myceliumNeighbourId } from '../router/mycelium-neighbour.ts';
import type { RouteInfo } from '../router/router.ts';
import type { GossipEngine } from '../gossip/engine.ts';
import type { ChatLineEvent, PartylineHub } from '../partyline/hub.ts';
import type { Journal } from '../base/journal.ts';
import type { StateChange, StateService } from '../state/service.ts';
import { chatServices, gossipServices, stateServices } from './hypha-services.ts';
import type { MetricsSources } from '../api/metrics.ts';
import type { MeshChat } from '../partyline/mesh-chat.ts';

export interface ServiceSources {
  identity: NodeIdentity;
  clock: Clock;
  /** The running overlay (throws if it is not running). */
  overlay(): Overlay;
  /** The running Mycelium peer manager; undefined when the overlay runs on native links only. */
  myceliumPeers(): MyceliumPeerManager | undefined;
  /** The native peer manager (always running). */
  nativePeers(): Pick<PeerManager, 'peers'>;
  /** The bridge that runs the overlay on native links; undefined when they carry none. */
  nativeBridge(): Pick<NativeOverlayBridge, 'linkCost' | 'neighbourOf'> | undefined;
  overlayLinks: OverlayLinksMode;
  /** The running message bus (throws if it is not running). */
  messageBus(): MessageBus;
  gossip(): GossipEngine;
  /** The partyline's hub and its recent lines; undefined when the node runs none. */
  partyline(): { hub: PartylineHub; recent: Journal<ChatLineEvent> } | undefined;
  /** Connected native peers. */
  connectedPeers(): number;
  state(): StateService;
  stateChanges(): Journal<StateChange>;
}

function route(r: RouteInfo): Route {
  // Exactly Mycelium's four fields: the router id stays internal.
  return { subnet: r.subnet, nextHop: r.nextHop, metric: r.metric, seqno: r.seqno };
}

const BAD_ENDPOINT_CODES = new Set(['bad-endpoint', 'bad-protocol', 'bad-address', 'bad-port', 'unsupported', 'not-private']);

function peerChange(r: { ok: true } | { ok: false; error: { code: string; message: string } }, failure: 'exists' | 'not-found'): PeerChange {
  if (r.ok) return { ok: true };
  if (BAD_ENDPOINT_CODES.has(r.error.code)) return { ok: false, error: { code: 'bad-endpoint', message: r.error.message } };
  return { ok: false, error: { code: failure, message: r.error.message } };
}

export function adminServices(src: ServiceSources): AdminServices {
  const id = src.identity;
  const startTime = Math.floor(src.clock.now() / 1000);
  return {
    info: () => ({
      nodeSubnet: nodeSubnetText(id.x25519Public),
      nodeIp: id.addressText,
      nodePubkey: toHex(id.x25519Public),
      nodeStartTime: startTime,
    }),
    peers: () => src.myceliumPeers()?.peers() ?? [],
    addPeer: (endpoint) => {
      const mgr = src.myceliumPeers();
      if (!mgr) return { ok: false, error: { code: 'bad-endpoint', message: 'this node runs the overlay on native links only (overlay.links = "native"): it makes no Mycelium links' } };
      const r = mgr.addPeer(endpoint);
      return peerChange(r.ok ? { ok: true } : r, 'exists');
    },
    removePeer: (endpoint) => {
      const mgr = src.myceliumPeers();
      if (!mgr) return { ok: false, error: { code: 'not-found', message: 'this node runs the overlay on native links only: it has no Mycelium peers' } };
      const r = mgr.removePeer(endpoint);
      return peerChange(r.ok ? { ok: true } : r, 'not-found');
    },
    selectedRoutes: () => src.overlay().router.selectedRoutes().map(route),
    fallbackRoutes: () => src.overlay().router.fallbackRoutes().map(route),
    queriedSubnets: (): QueriedSubnet[] =>
      src.overlay().router.queriedSubnets().map((q) => ({ subnet: q.subnet, expiration: String(q.expiresInSeconds) })),
    packetStatistics: () => src.overlay().dataplane.packetStatistics(),
    publicKeyFor: (ip) => src.overlay().router.publicKeyFor(ip),
  };
}

/** Both kinds of peer with the router's link cost, for `hypha peers list`. */
export function hyphaPeerServices(src: ServiceSources): HyphaPeerServices {
  return {
    peers: () => {
      const now = src.clock.now();
      const bridge = src.nativeBridge();
      const native = src.nativePeers().peers().map((p): NativePeerInfo => {
        const s = p.stats();
        return {
          nodeId: p.nodeId,
          address: p.remoteAddress,
          listenAddr: p.listenAddr,
          direction: p.direction,
          version: p.version,
          hypha: p.isHypha,
          linkCost: bridge?.linkCost(p.nodeId) ?? null,
          link: bridge?.neighbourOf(p.nodeId)?.label ?? null,
          connected: Math.max(0, Math.floor((now - p.connectedAtMs) / 1000)),
          txBytes: s.txBytes,
          rxBytes: s.rxBytes,
        };
      });
      const mgr = src.myceliumPeers();
      let mycelium: MyceliumPeerInfo[] = [];
      if (mgr !== undefined) {
        const neighbours = new Map(src.overlay().router.neighbourInfo().map((n) => [n.id, n]));
        mycelium = mgr.linkedPeers().map(({ endpoint, stats, linkId }) => {
          const n = linkId === undefined ? undefined : neighbours.get(myceliumNeighbourId(linkId));
          return {
            endpoint,
            type: stats.type,
            connectionState: stats.connectionState,
            linkCost: n?.linkCost ?? null,
            link: n?.label ?? null,
            txBytes: stats.txBytes,
            rxBytes: stats.rxBytes,
          };
        });
      }
      return { overlayLinks: src.overlayLinks, native, mycelium };
    },
  };
}

/** The bus of the moment: a restarted node has a new one, so every call looks it up. */
export function messageServices(bus: () => MessageBus): MessageServices {
  return {
    push: (req) => bus().push(req),
    reply: (id, dst, payload, opts) => bus().reply(id, dst, payload, opts),
    status: (id) => bus().status(id),
    pop: (opts) => bus().pop(opts),
    getDefaultTopicAccept: () => bus().getDefaultTopicAccept(),
    setDefaultTopicAccept: (accept) => bus().setDefaultTopicAccept(accept),
    topics: () => bus().topics(),
    addTopic: (topic) => bus().addTopic(topic),
    removeTopic: (topic) => bus().removeTopic(topic),
    topicSources: (topic) => bus().topicSources(topic),
    addTopicSource: (topic, subnet) => bus().addTopicSource(topic, subnet),
    removeTopicSource: (topic, subnet) => bus().removeTopicSource(topic, subnet),
    topicForwardSocket: (topic) => bus().topicForwardSocket(topic),
    setTopicForwardSocket: (topic, path) => bus().setTopicForwardSocket(topic, path),
  };
}

export function nodeServices(src: ServiceSources): NodeServices {
  return {
    admin: adminServices(src),
    hyphaPeers: hyphaPeerServices(src),
    messages: messageServices(() => src.messageBus()),
    gossip: gossipServices(src.gossip),
    chat: chatServices({ partyline: src.partyline, connectedPeers: src.connectedPeers }),
    state: stateServices({ state: src.state, changes: src.stateChanges }),
  };
}

export interface MetricsInputs {
  identity: NodeIdentity;
  version: string;
  peers: PeerManager;
  gossip: GossipEngine;
  state: StateService;
  /** Undefined when the node runs no partyline. */
  partyline(): { hub: PartylineHub; chat: MeshChat } | undefined;
  /** The running overlay (throws when it is not running: its families are then empty). */
  overlay(): Overlay;
  nativeOverlay(): NativeOverlayBridge | undefined;
  myceliumPeers(): MyceliumPeerManager | undefined;
  /** The running message bus (throws when it is not running). */
  messages(): MessageBus;
}

/** What the node's metrics read (src/api/metrics.ts), from its parts. */
export function metricsSources(m: MetricsInputs): MetricsSources {
  return {
    info: () => ({ nodeId: m.identity.nodeId, address: m.identity.addressText, version: m.version }),
    nativePeers: () => m.peers.peers().filter((p) => p.connected).map((p) => ({ hypha: p.isHypha, link: { id: p.linkId, stats: p.stats() } })),
    peerManager: () => m.peers.stats(),
    myceliumPeers: () => {
      const mgr = m.myceliumPeers();
      return mgr === undefined ? undefined : { peers: mgr.peers().map((p) => ({ type: p.type, state: p.connectionState })), links: mgr.linkStats() };
    },
    router: () => {
      const r = m.overlay().router;
      return {
        selected: r.selectedRoutes().length,
        fallback: r.fallbackRoutes().length,
        queried: r.queriedSubnets().length,
        neighbours: r.neighbourInfo().map((n) => ({ kind: n.kind })),
        stats: r.stats,
      };
    },
    dataplane: () => {
      const d = m.overlay().dataplane;
      return { counters: d.counters, routed: d.routedTotals() };
    },
    nativeOverlay: () => m.nativeOverlay()?.stats(),
    messages: () => {
      const b = m.messages();
      return { counters: b.counters, stats: b.stats() };
    },
    gossip: () => m.gossip.stats(),
    state: () => m.state.stats(),
    partyline: () => {
      const p = m.partyline();
      return p === undefined ? undefined : { hub: p.hub.stats(), chat: p.chat.stats() };
    },
  };
}
