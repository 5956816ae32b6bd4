// Link-local peer discovery (reference §2.5): a 50-byte beacon every 60 s to [ff02::cafe]:9650 on
// every interface that has a link-local address, and peers taken from beacons others send. A beacon
// counts only if it comes from fe80::/64, is exactly 50 bytes, starts with "mycelium" and is not our
// own; anything else on the port is ignored.
import dgram from 'node:dgram';
import os from 'node:os';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { bytesEqual } from '../base/bytes.ts';
import { decodeBeacon, encodeBeacon } from '../wire/mycelium/beacon.ts';
import { parseIpv6 } from '../wire/ipv6.ts';

export const DISCOVERY_PORT = 9650;
export const DISCOVERY_GROUP = 'ff02::cafe';
export const BEACON_INTERVAL_MS = 60_000;

export interface DiscoveryOptions {
  clock: Clock;
  logger: Logger;
  routerId: Uint8Array;
  /** The TCP port our beacons announce. */
  tcpPort: number;
  port?: number;
  /** Only these interfaces (default: every one with a link-local address, loopback excluded). */
  interfaces?: string[];
  beaconIntervalMs?: number;
  /** Called with `[fe80::…%iface]` and the announced port for every valid foreign beacon. */
  onPeer: (host: string, port: number) => void;
}

export interface DiscoveryStats {
  beaconsSent: number;
  beaconsAccepted: number;
  ignored: number;
}

/** Interfaces worth announcing on: not loopback, with an fe80:: address, not a tunnel. */
export function discoveryInterfaces(allowed?: string[]): string[] {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (allowed !== undefined && !allowed.includes(name)) continue;
    if (/^(tun|utun|wg|hypha|mycelium)/.test(name)) continue;
    if ((addrs ?? []).some((a) => a.family === 'IPv6' && !a.internal && a.address.toLowerCase().startsWith('fe80:'))) out.push(name);
  }
  return out;
}

export class MyceliumDiscovery {
  readonly stats: DiscoveryStats = { beaconsSent: 0, beaconsAccepted: 0, ignored: 0 };
  private readonly opts: DiscoveryOptions;
  private readonly log: Logger;
  private readonly beacon: Uint8Array;
  private socket: dgram.Socket | undefined;
  private timer: Timer | undefined;
  private joined = new Set<string>();

  constructor(opts: DiscoveryOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ component: 'discovery' });
    this.beacon = encodeBeacon({ tcpPort: opts.tcpPort, routerId: opts.routerId });
  }

  /** Binds the UDP port; a failure is logged and discovery stays off (as in Mycelium). */
  async start(): Promise<boolean> {
    const port = this.opts.port ?? DISCOVERY_PORT;
    const sock = dgram.createSocket({ type: 'udp6', reuseAddr: true });
    sock.on('message', (msg, rinfo) => this.handlePacket(msg, rinfo.address));
    sock.on('error', (e) => this.log.warn({ err: e.message }, 'discovery socket error'));
    const bound = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind(port, '::', () => resolve(true));
    });
    if (!bound) {
      this.log.error({ port }, 'cannot bind the discovery port; link-local discovery disabled');
      sock.close();
      return false;
    }
    this.socket = sock;
    try {
      sock.setMulticastLoopback(false);
    } catch {
      // Not fatal: our own beacons are recognised by router id anyway.
    }
    this.tick();
    this.timer = this.opts.clock.setInterval(() => this.tick(), this.opts.beaconIntervalMs ?? BEACON_INTERVAL_MS);
    return true;
  }

  get boundPort(): number | undefined {
    return this.socket?.address().port;
  }

  private tick(): void {
    const sock = this.socket;
    if (sock === undefined) return;
    const port = this.opts.port || (this.boundPort ?? DISCOVERY_PORT);
    const now = new Set(discoveryInterfaces(this.opts.interfaces));
    for (const iface of now) {
      if (this.joined.has(iface)) continue;
      try {
        sock.addMembership(DISCOVERY_GROUP, `::%${iface}`);
      } catch (e) {
        // EADDRINUSE means joined already.
        if (!String((e as Error).message).includes('EADDRINUSE')) {
          this.log.debug({ iface, err: (e as Error).message }, 'cannot join the discovery group');
          continue;
        }
      }
      this.joined.add(iface);
    }
    this.joined = new Set([...this.joined].filter((i) => now.has(i)));
    for (const iface of this.joined) {
      try {
        sock.send(this.beacon, port, `${DISCOVERY_GROUP}%${iface}`, (e) => {
          if (e) this.log.debug({ iface, err: e.message }, 'cannot send a discovery beacon');
          else this.stats.beaconsSent++;
        });
      } catch (e) {
        this.log.debug({ iface, err: (e as Error).message }, 'cannot send a discovery beacon');
      }
    }
  }

  /** Receiver rules of §2.5; `remote` is the sender's address as dgram reports it (with %zone). */
  handlePacket(packet: Uint8Array, remote: string): void {
    const bare = remote.split('%')[0];
    const ip = parseIpv6(bare);
    if (ip === undefined || ip[0] !== 0xfe || ip[1] !== 0x80 || ip.subarray(2, 8).some((b) => b !== 0)) {
      this.stats.ignored++;
      return;
    }
    const b = decodeBeacon(packet);
    if (!b.ok || bytesEqual(b.value.routerId, this.opts.routerId)) {
      this.stats.ignored++;
      return;
    }
    this.stats.beaconsAccepted++;
    // A link-local address is useless without its interface; with one joined interface it is that one.
    let host = remote;
    if (!host.includes('%') && this.joined.size === 1) host = `${host}%${[...this.joined][0]}`;
    this.opts.onPeer(host, b.value.tcpPort);
  }

  stop(): void {
    this.timer?.cancel();
    this.socket?.close();
    this.socket = undefined;
  }
}
