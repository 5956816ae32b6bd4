// THE place where a node's parts are registered. They start in this order and stop in reverse. A part is
// built here from the NodeContext and from parts registered before it (pass them to its constructor), so
// the dependency order is visible in one function.
import { join } from 'node:path';
import type { NodeContext, NodePart } from './part.ts';
import { PeerManager } from '../peers/manager.ts';
import { BucketPeerStore } from '../peers/bucket-store.ts';
import { GossipEngine } from '../gossip/engine.ts';
import { PartylineHub } from '../partyline/hub.ts';
import { MeshChat } from '../partyline/mesh-chat.ts';
import { PartylineSshServer } from '../partyline/ssh-server.ts';
import type { PeerSummary } from '../partyline/commands.ts';
import { HYPHA_VERSION } from './version.ts';

/** The native (Micelio) peer manager as a node part. */
export class PeersPart implements NodePart {
  readonly name = 'peers';
  readonly manager: PeerManager;

  constructor(ctx: NodeContext) {
    const net = ctx.config.network;
    const logger = ctx.logger.child({ component: 'peers' });
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

/** The SSH partyline: the chat hub, the server people log into, and chat over the mesh (gossip). */
export class PartylinePart implements NodePart {
  readonly name = 'partyline';
  readonly hub: PartylineHub;
  readonly server: PartylineSshServer | undefined;
  readonly meshChat: MeshChat;

  constructor(ctx: NodeContext, peers: PeerManager, gossip: GossipEngine) {
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

export function registerParts(ctx: NodeContext): NodePart[] {
  const peers = new PeersPart(ctx);
  const gossip = new GossipPart(ctx, peers.manager);
  const partyline = new PartylinePart(ctx, peers.manager, gossip.engine);
  // Later layers follow in DESIGN.md order: router, dataplane, messages, state, api.
  return [peers, gossip, partyline];
}
