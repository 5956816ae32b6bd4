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
import { registerStateCommands } from '../partyline/state-commands.ts';
import { StateService } from '../state/service.ts';
import { DesiredState } from '../state/desired.ts';
import type { GossipPort } from '../state/ports.ts';
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

/** The replicated state map (LMDB bucket "state"), its anti-entropy, and desired state. */
export class StatePart implements NodePart {
  readonly name = 'state';
  readonly state: StateService;
  readonly desired: DesiredState;

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

export function registerParts(ctx: NodeContext): NodePart[] {
  const peers = new PeersPart(ctx);
  const gossip = new GossipPart(ctx, peers.manager);
  const state = new StatePart(ctx, gossip.engine, peers.manager);
  const partyline = new PartylinePart(ctx, peers.manager, gossip.engine, state);
  // Later layers follow in DESIGN.md order: router, dataplane, messages, api. Gossip and the state start
  // before the peer manager connects anyone, so their handlers see the first connects; they stop after
  // the links close.
  return [gossip, state, peers, partyline];
}
