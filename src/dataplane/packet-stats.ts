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
  key: string;
}

function key(ip: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += String.fromCharCode(ip[i]);
  return s;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class PacketStats {
  private readonly bySrc: BoundedMap<string, Counter>;
  private readonly byDst: BoundedMap<string, Counter>;
  // Packets come in runs of the same flow: the last counters found skip the map (and the key string).
  private lastSrc: Counter | undefined;
  private lastDst: Counter | undefined;

  constructor(maxEntries = 10_000) {
    this.bySrc = new BoundedMap(maxEntries);
    this.byDst = new BoundedMap(maxEntries);
  }

  /** Every packet and byte recorded, also for addresses since forgotten (the maps are bounded). */
  totalPackets = 0;
  totalBytes = 0;

  record(src: Uint8Array, dst: Uint8Array, bytes: number): void {
    this.totalPackets++;
    this.totalBytes += bytes;
    const s = this.lastSrc !== undefined && same(this.lastSrc.ip, src) && this.bySrc.get(keyOf(this.lastSrc)) === this.lastSrc ? this.lastSrc : bump(this.bySrc, src, 0);
    s.packets++;
    s.bytes += bytes;
    this.lastSrc = s;
    const d = this.lastDst !== undefined && same(this.lastDst.ip, dst) && this.byDst.get(keyOf(this.lastDst)) === this.lastDst ? this.lastDst : bump(this.byDst, dst, 0);
    d.packets++;
    d.bytes += bytes;
    this.lastDst = d;
  }

  snapshot(): PacketStatistics {
    const out = (m: BoundedMap<string, Counter>): IpStats[] => [...m.values()].map((c) => ({ ip: formatIpv6(c.ip), packetCount: c.packets, byteCount: c.bytes }));
    return { bySource: out(this.bySrc), byDestination: out(this.byDst) };
  }
}

/** The counter for `ip` (created with zero counts if new). */
function bump(m: BoundedMap<string, Counter>, ip: Uint8Array, bytes: number): Counter {
  const k = key(ip);
  let c = m.get(k);
  if (c === undefined) {
    c = { ip: Uint8Array.from(ip.subarray(0, 16)), packets: 0, bytes: 0, key: k };
    m.set(k, c);
  }
  c.bytes += bytes;
  return c;
}

function keyOf(c: Counter): string {
  return c.key;
}
