// What the HTTP API needs from a node, and nothing more. The API depends on this interface only (never on
// src/node/): the node implements it (src/node/services.ts), tests implement it with fakes, and a new group of
// routes adds its own member here (messages, topics, Hypha's own routes) next to `admin`.
//
// The value types are the JSON bodies the routes send, in the shapes of Mycelium's Rust API (reference §5.5),
// so a service returns exactly what a client will read.
import type { ChatServices, GossipServices, StateServices } from './hypha-services.ts';

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

/**
 * Every service the API can reach. A later group of routes adds a member (e.g. `messages: MessageServices`),
 * implemented in src/node/services.ts.
 */
export interface NodeServices {
  admin: AdminServices;
  /** Hypha's own routes (hypha-services.ts): /hypha/gossip, /hypha/chat, /hypha/state. */
  gossip: GossipServices;
  chat: ChatServices;
  state: StateServices;
}
