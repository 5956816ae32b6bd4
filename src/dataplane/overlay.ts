// The overlay in one object: a Router and a DataPlane built from the node's X25519 keys, and the glue
// that turns a Mycelium link into a router neighbour whose data frames reach the data plane. The node
// composition root creates one; tests create several in one process.
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { Link } from '../link/link.ts';
import { MyceliumNeighbour } from '../router/mycelium-neighbour.ts';
import type { TimerProfile } from '../router/neighbour.ts';
import { Router, type RouterConstants, type RouterLimits } from '../router/router.ts';
import type { NonceSource } from '../crypto/e2e.ts';
import type { PacketDevice } from './device.ts';
import { DataPlane, type DataPlaneLimits } from './dataplane.ts';

export interface OverlayOptions {
  clock: Clock;
  logger: Logger;
  x25519Private: Uint8Array | KeyObject;
  x25519Public: Uint8Array;
  /** Host side (TUN or in-memory); absent = `--no-tun`. */
  device?: PacketDevice;
  onMessage?: (payload: Uint8Array, src: Uint8Array, dst: Uint8Array) => void;
  routerIdTail?: Uint8Array;
  routerConstants?: Partial<RouterConstants>;
  routerLimits?: Partial<RouterLimits>;
  dataplaneLimits?: Partial<DataPlaneLimits>;
  nonces?: NonceSource;
}

export class Overlay {
  readonly router: Router;
  readonly dataplane: DataPlane;
  private readonly log: Logger;

  constructor(opts: OverlayOptions) {
    this.log = opts.logger;
    this.router = new Router({
      clock: opts.clock,
      logger: opts.logger,
      publicKey: opts.x25519Public,
      routerIdTail: opts.routerIdTail,
      constants: opts.routerConstants,
      limits: opts.routerLimits,
    });
    this.dataplane = new DataPlane({
      clock: opts.clock,
      logger: opts.logger,
      router: this.router,
      privateKey: opts.x25519Private,
      device: opts.device,
      onMessage: opts.onMessage,
      nonces: opts.nonces,
      limits: opts.dataplaneLimits,
    });
  }

  /** Makes a Mycelium link (TCP, TLS, memory) a neighbour of the router. */
  attachLink(link: Link, opts: { timers?: TimerProfile; staticCost?: number } = {}): MyceliumNeighbour {
    return new MyceliumNeighbour({
      link,
      router: this.router,
      logger: this.log,
      onData: (from, frame) => this.dataplane.receiveFrame(from, frame),
      timers: opts.timers,
      staticCost: opts.staticCost,
    });
  }

  stop(): void {
    this.dataplane.stop();
    this.router.stop();
  }
}
