// The parts of a simulated node: the real PeerManager, GossipEngine and Overlay (Router + DataPlane),
// built with the simulation's clock, memory links, memory store and seeded randomness, and run by the
// real HyphaNode composition root. Nothing here models a protocol: it only wires the real classes.
import type { VirtualClock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { NativeOverlayBridge } from '../dataplane/native-bridge.ts';
import { Overlay } from '../dataplane/overlay.ts';
import { GossipEngine, type GossipEngineOptions } from '../gossip/engine.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import type { LinkFactory } from '../link/link.ts';
import type { NodePart } from '../node/part.ts';
import { HYPHA_VERSION } from '../node/version.ts';
import { BucketPeerStore } from '../peers/bucket-store.ts';
import { PeerManager, type PeerManagerOptions } from '../peers/manager.ts';
import type { Neighbour, TimerProfile } from '../router/neighbour.ts';
import type { RouterConstants } from '../router/router.ts';
import type { Store } from '../store/store.ts';
import type { ProbeDevice } from './probe.ts';
import type { Rng } from './random.ts';

/**
 * Attaches an overlay to the native peers of its node (the overlay over Noise links, msg_types 90/91).
 * A neighbour it creates whose `remoteId` is unset is reported with `register` so the simulator can walk
 * paths. Returns what stops it. The simulator runs it for every node started with `overlay` and a mesh;
 * the default is the production bridge (nativeOverlayBridge).
 */
export type NativeOverlayHook = (ctx: {
  peers: PeerManager;
  overlay: Overlay;
  clock: VirtualClock;
  logger: Logger;
  register(neighbour: Neighbour, remoteNodeId: string): void;
}) => { stop(): void };

/** The production overlay over native links (dataplane/native-bridge.ts), with optional timers. */
export function nativeOverlayBridge(timers?: TimerProfile): NativeOverlayHook {
  return ({ peers, overlay, clock, logger }) => {
    const bridge = new NativeOverlayBridge({ peers, overlay, clock, logger, ...(timers ? { timers } : {}) });
    bridge.start();
    return bridge;
  };
}

/** Everything one incarnation of a simulated node is built from. */
export interface SimNodeContext {
  index: number;
  name: string;
  identity: NodeIdentity;
  clock: VirtualClock;
  logger: Logger;
  store: Store;
  /** This incarnation's randomness (a restarted node draws fresh numbers, as a restarted process would). */
  rng: Rng;
  listenAddr: string;
  bootstrap: string[];
  links: LinkFactory;
  device: ProbeDevice | undefined;
}

/** Peer-exchange and discovery intervals that never come round in a run: "discovery off". */
export const NEVER_MS = 1e15;

export class SimPeersPart implements NodePart {
  readonly name = 'peers';
  readonly manager: PeerManager;

  constructor(ctx: SimNodeContext, opts: { discovery: boolean; maxPeers: number; peer?: Partial<PeerManagerOptions> }) {
    const logger = ctx.logger.child({ component: 'peers' });
    this.manager = new PeerManager({
      identity: ctx.identity,
      clock: ctx.clock,
      logger,
      version: HYPHA_VERSION,
      listen: ctx.listenAddr,
      bootstrap: ctx.bootstrap,
      maxPeers: opts.maxPeers,
      store: new BucketPeerStore(ctx.store, logger),
      links: ctx.links,
      random: ctx.rng.derive('peers').fn,
      ...(opts.discovery ? {} : { discoveryIntervalMs: NEVER_MS }),
      ...opts.peer,
    });
  }

  start(): Promise<void> {
    return this.manager.start();
  }

  stop(): Promise<void> {
    return this.manager.stop();
  }
}

export class SimGossipPart implements NodePart {
  readonly name = 'gossip';
  readonly engine: GossipEngine;

  constructor(ctx: SimNodeContext, peers: PeerManager, opts: Partial<GossipEngineOptions> = {}) {
    this.engine = new GossipEngine({ identity: ctx.identity, peers, clock: ctx.clock, logger: ctx.logger, random: ctx.rng.derive('gossip').fn, ...opts });
  }

  start(): void {
    this.engine.start();
  }

  stop(): void {
    this.engine.stop();
  }
}

export class SimOverlayPart implements NodePart {
  readonly name = 'overlay';
  readonly overlay: Overlay;
  private readonly ctx: SimNodeContext;
  private readonly peers: PeerManager | undefined;
  private readonly hook: NativeOverlayHook | undefined;
  private readonly register: (neighbour: Neighbour, remoteNodeId: string) => void;
  private attached: { stop(): void } | undefined;

  constructor(
    ctx: SimNodeContext,
    opts: {
      routerConstants?: Partial<RouterConstants>;
      peers?: PeerManager;
      nativeOverlay?: NativeOverlayHook;
      register: (neighbour: Neighbour, remoteNodeId: string) => void;
    },
  ) {
    this.ctx = ctx;
    this.peers = opts.peers;
    this.hook = opts.nativeOverlay;
    this.register = opts.register;
    this.overlay = new Overlay({
      clock: ctx.clock,
      logger: ctx.logger,
      x25519Private: ctx.identity.x25519PrivateKey,
      x25519Public: ctx.identity.x25519Public,
      device: ctx.device,
      routerIdTail: ctx.rng.derive('router-id').bytes(6),
      routerConstants: opts.routerConstants,
      nonces: ctx.rng.derive('e2e-nonces').nonces(),
    });
  }

  start(): void {
    if (this.hook !== undefined && this.peers !== undefined) {
      this.attached = this.hook({ peers: this.peers, overlay: this.overlay, clock: this.ctx.clock, logger: this.ctx.logger, register: this.register });
    }
  }

  stop(): void {
    this.attached?.stop();
    this.attached = undefined;
    this.overlay.stop();
  }
}
