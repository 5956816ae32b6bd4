// Per-IP packet and byte counters of forwarded traffic, by source and by destination (Mycelium's
// /admin/stats/packets). Bounded: past the limit the least recently added address is forgotten.
import { BoundedMap } from '../base/bounded-map.ts';
import { formatIpv6 } from '../wire/ipv6.ts';

export interface IpStats {
  ip: string;
  packetCount: number;
  byteCount: number;
}

export interface PacketStatistics {
  bySource: IpStats[];
  byDestination: IpStats[];
}

interface Counter {
  ip: Uint8Array;
  packets: number;
  bytes: number;
}

function key(ip: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += String.fromCharCode(ip[i]);
  return s;
}

export class PacketStats {
  private readonly bySrc: BoundedMap<string, Counter>;
  private readonly byDst: BoundedMap<string, Counter>;

  constructor(maxEntries = 10_000) {
    this.bySrc = new BoundedMap(maxEntries);
    this.byDst = new BoundedMap(maxEntries);
  }

  record(src: Uint8Array, dst: Uint8Array, bytes: number): void {
    bump(this.bySrc, src, bytes);
    bump(this.byDst, dst, bytes);
  }

  snapshot(): PacketStatistics {
    const out = (m: BoundedMap<string, Counter>): IpStats[] => [...m.values()].map((c) => ({ ip: formatIpv6(c.ip), packetCount: c.packets, byteCount: c.bytes }));
    return { bySource: out(this.bySrc), byDestination: out(this.byDst) };
  }
}

function bump(m: BoundedMap<string, Counter>, ip: Uint8Array, bytes: number): void {
  const k = key(ip);
  const c = m.get(k);
  if (c !== undefined) {
    c.packets++;
    c.bytes += bytes;
  } else {
    m.set(k, { ip: Uint8Array.from(ip.subarray(0, 16)), packets: 1, bytes });
  }
}
