// A Mycelium link (TCP, TLS or in-memory) as a router neighbour: control frames go to the router,
// data frames to the data plane, and a frame that does not decode closes this link only.
import type { Logger } from '../base/log.ts';
import type { Link } from '../link/link.ts';
import type { Tlv } from '../wire/mycelium/babel.ts';
import { checkDataFrame, decodeControlFrame, encodeControlFrame, PACKET_TYPE_CONTROL, PACKET_TYPE_DATA } from '../wire/mycelium/packet.ts';
import { MYCELIUM_TIMERS, STATIC_LINK_COST, tcpStaticCost, type Neighbour, type TimerProfile } from './neighbour.ts';
import type { Router } from './router.ts';

export interface MyceliumNeighbourOptions {
  link: Link;
  router: Router;
  logger: Logger;
  /** Receives every data frame from this neighbour (the data plane). */
  onData: (from: Neighbour, frame: Uint8Array) => void;
  timers?: TimerProfile;
  staticCost?: number;
}

/** TCP over IPv4 (or a v4-mapped address) costs more than over IPv6, as in Mycelium. */
export function staticCostOf(link: Link): number {
  if (link.transport === 'memory') return STATIC_LINK_COST.memory;
  return tcpStaticCost(link.remoteAddress);
}

/** The router neighbour id of the Mycelium link with this link id (joins peer tables to the router's). */
export function myceliumNeighbourId(linkId: number): string {
  return `link-${linkId}`;
}

export class MyceliumNeighbour implements Neighbour {
  readonly id: string;
  readonly kind = 'mycelium' as const;
  readonly label: string;
  readonly staticCost: number;
  readonly timers: TimerProfile;
  readonly link: Link;
  private readonly router: Router;
  private readonly log: Logger;
  private readonly onData: (from: Neighbour, frame: Uint8Array) => void;

  constructor(opts: MyceliumNeighbourOptions) {
    this.link = opts.link;
    this.router = opts.router;
    this.onData = opts.onData;
    this.timers = opts.timers ?? MYCELIUM_TIMERS;
    this.staticCost = opts.staticCost ?? staticCostOf(opts.link);
    this.id = myceliumNeighbourId(opts.link.id);
    this.label = `${opts.link.transport.toUpperCase()} ${opts.link.localAddress} <-> ${opts.link.remoteAddress}`;
    this.log = opts.logger.child({ component: 'router', neighbour: this.label });
    // Registered first, so frames that arrived before attach() reach a router that knows us.
    this.router.addNeighbour(this);
    this.link.attach({
      onMessage: (frame) => this.onFrame(frame),
      onClose: (reason) => this.router.removeNeighbour(this, reason),
    });
  }

  sendTlv(tlv: Tlv): boolean {
    return this.link.send(encodeControlFrame(tlv));
  }

  sendData(frame: Uint8Array): boolean {
    return this.link.send(frame);
  }

  close(reason: string): void {
    this.link.close(reason);
  }

  private onFrame(frame: Uint8Array): void {
    if (this.link.closed) return;
    if (frame.length >= 2 && frame[1] === PACKET_TYPE_DATA) {
      const c = checkDataFrame(frame);
      if (!c.ok) return this.bad(c.error.code, c.error.message);
      this.onData(this, frame);
      return;
    }
    if (frame.length >= 2 && frame[1] === PACKET_TYPE_CONTROL) {
      const t = decodeControlFrame(frame);
      if (!t.ok) return this.bad(t.error.code, t.error.message);
      this.router.receiveTlv(this, t.value);
      return;
    }
    this.bad('bad-type', `frame of ${frame.length} bytes with packet type ${frame[1]}`);
  }

  private bad(code: string, message: string): void {
    this.log.warn({ reason: code, detail: message }, 'malformed packet, closing link');
    this.link.close(`malformed packet: ${code}`);
  }
}
