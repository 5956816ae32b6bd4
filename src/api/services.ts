// What the HTTP API needs from a node, and nothing more. The API depends on this interface only (never on
// src/node/): the node implements it (src/node/services.ts), tests implement it with fakes, and a new group of
// routes adds its own member here (messages, topics, Hypha's own routes) next to `admin`.
//
// The value types are the JSON bodies the routes send, in the shapes of Mycelium's Rust API (reference §5.5),
// so a service returns exactly what a client will read.
import type { ChatServices, GossipServices, StateServices } from './hypha-services.ts';

import type { MessageBus } from '../messages/index.ts';

/** GET /admin: the node's overlay identity. */
export interface NodeInfo {
  /** "548:c783:d7ce:74a3::/64" */
  nodeSubnet: string;
  nodeIp: string;
  /** X25519 public key, 64 hex characters. */
  nodePubkey: string;
  /** When the node started, in seconds since the Unix epoch. */
  nodeStartTime: number;
}

/** Mycelium's PeerStats (v0.7.6+). */
export interface PeerStats {
  endpoint: { proto: 'tcp' | 'tls' | 'quic'; addr: { socket: string } };
  type: 'static' | 'inbound' | 'linkLocalDiscovery';
  connectionState: 'alive' | 'connecting' | 'dead';
  txBytes: number;
  rxBytes: number;
  /** Seconds since the peer became known. */
  discovered: number;
  /** Seconds since the last successful connection, or null if never. */
  lastConnected: number | null;
}

/** A route of /admin/routes/selected and /fallback. */
export interface Route {
  subnet: string;
  /** The link, e.g. "TCP [::1]:9651 <-> [::1]:40112". */
  nextHop: string;
  /** As advertised by the next hop (link cost excluded), or "infinite" for a retraction. */
  metric: number | 'infinite';
  seqno: number;
}

/** A subnet a RouteRequest is out for. */
export interface QueriedSubnet {
  subnet: string;
  /** Whole seconds until the query gives up, as a string (Mycelium's shape). */
  expiration: string;
}

export interface PacketStatEntry {
  ip: string;
  packetCount: number;
  byteCount: number;
}

export interface PacketStatistics {
  bySource: PacketStatEntry[];
  byDestination: PacketStatEntry[];
}

/** Why a peer could not be added or removed; `message` is shown to the caller as it is. */
export type PeerChangeError =
  | { code: 'bad-endpoint'; message: string }
  | { code: 'exists'; message: string }
  | { code: 'not-found'; message: string };

export type PeerChange = { ok: true } | { ok: false; error: PeerChangeError };

/** The node's Mycelium side as /api/v1/admin and /api/v1/pubkey show and change it. */
export interface AdminServices {
  info(): NodeInfo;
  peers(): PeerStats[];
  /** Adds a static peer and dials it. */
  addPeer(endpoint: string): PeerChange;
  /** Removes a peer of any type and closes its link. */
  removePeer(endpoint: string): PeerChange;
  selectedRoutes(): Route[];
  fallbackRoutes(): Route[];
  queriedSubnets(): QueriedSubnet[];
  packetStatistics(): PacketStatistics;
  /** The X25519 key (32 bytes) behind an IPv6 address, if a route to it is known or it is ours. */
  publicKeyFor(ip: Uint8Array): Uint8Array | undefined;
}

/** A native peer (a Micelio-protocol link over TCP + Noise) of GET /hypha/peers. */
export interface NativePeerInfo {
  /** Ed25519 node id, hex. */
  nodeId: string;
  /** The link's remote socket address, e.g. "[2001:db8::2]:4000". */
  address: string;
  /** The address the peer advertised in its hello; "" when it is not reachable. */
  listenAddr: string;
  direction: 'inbound' | 'outbound';
  /** The hello's version: "hypha/…" or Micelio's ("0.1.0"). */
  version: string;
  /** Both ends are Hypha: the link can carry the overlay (msg_types 90/91). */
  hypha: boolean;
  /** The router's cost of this link (smoothed RTT + static cost) while the peer is an overlay neighbour; null otherwise. */
  linkCost: number | null;
  /** The neighbour as route next hops name it ("NATIVE [2001:db8::2]:4000 3fa2…"); null when it is none. */
  link: string | null;
  /** Seconds since the link came up. */
  connected: number;
  txBytes: number;
  rxBytes: number;
}

/** A Mycelium peer (a tcp:// or tls:// link) of GET /hypha/peers. */
export interface MyceliumPeerInfo {
  /** "tcp://[2001:db8::3]:9651" */
  endpoint: string;
  type: PeerStats['type'];
  connectionState: PeerStats['connectionState'];
  /** The router's cost of this link while it is up; null otherwise. */
  linkCost: number | null;
  /** The neighbour as route next hops name it ("TCP [::1]:40112 <-> [::1]:9651"); null while the link is down. */
  link: string | null;
  txBytes: number;
  rxBytes: number;
}

/** Which links carry the overlay on this node (config overlay.links). */
export type OverlayLinksMode = 'both' | 'native' | 'mycelium';

/** Both kinds of peer, as `hypha peers list` shows them. */
export interface HyphaPeers {
  overlayLinks: OverlayLinksMode;
  native: NativePeerInfo[];
  mycelium: MyceliumPeerInfo[];
}

/** Hypha's own view of its peers (GET /api/v1/hypha/peers). */
export interface HyphaPeerServices {
  peers(): HyphaPeers;
}

/**
 * The message bus as the message and topic routes and the JSON-RPC methods use it (src/messages' MessageBus
 * is one). Every call validates its own arguments too and answers a BusError that says what is wrong.
 */
export type MessageServices = Pick<
  MessageBus,
  | 'push'
  | 'reply'
  | 'status'
  | 'pop'
  | 'getDefaultTopicAccept'
  | 'setDefaultTopicAccept'
  | 'topics'
  | 'addTopic'
  | 'removeTopic'
  | 'topicSources'
  | 'addTopicSource'
  | 'removeTopicSource'
  | 'topicForwardSocket'
  | 'setTopicForwardSocket'
>;

/**
 * Every service the API can reach. A later group of routes adds a member (e.g. `messages: MessageServices`),
 * implemented in src/node/services.ts.
 */
export interface NodeServices {
  admin: AdminServices;
  hyphaPeers: HyphaPeerServices;
  messages: MessageServices;
  /** Hypha's own routes (hypha-services.ts): /hypha/gossip, /hypha/chat, /hypha/state. */
  gossip: GossipServices;
  chat: ChatServices;
  state: StateServices;
}
