// Packets through the real data plane: each simulated node with an overlay gets a ProbeDevice in place
// of a TUN. A probe is a small IPv6/UDP packet the "kernel" of one node sends to another node's overlay
// address; it is sealed, routed hop by hop over the wires, opened, and written to the destination's
// device, where its arrival time is recorded. Reachability and outage figures are read from these.
import type { PacketDevice } from '../dataplane/device.ts';

const IPV6_HEADER_BYTES = 40;
const UDP_HEADER_BYTES = 8;
const PROBE_PAYLOAD_BYTES = 16;
const PROBE_MAGIC = 0x48797068; // "Hyph"
const NEXT_HEADER_UDP = 17;
const PROBE_PORT = 7_777;
const PROBE_HOP_LIMIT = 64;

/** What a device saw arrive: the probe id and when it was sent, or undefined for other packets. */
export interface ProbeArrival {
  id: number;
  sentAtMs: number;
}

/** Builds one probe packet (64 bytes: IPv6 + UDP + id + send time). The UDP checksum is left 0. */
export function probePacket(src: Uint8Array, dst: Uint8Array, id: number, sentAtMs: number): Uint8Array {
  const p = new Uint8Array(IPV6_HEADER_BYTES + UDP_HEADER_BYTES + PROBE_PAYLOAD_BYTES);
  const v = new DataView(p.buffer);
  p[0] = 0x60;
  v.setUint16(4, UDP_HEADER_BYTES + PROBE_PAYLOAD_BYTES);
  p[6] = NEXT_HEADER_UDP;
  p[7] = PROBE_HOP_LIMIT;
  p.set(src.subarray(0, 16), 8);
  p.set(dst.subarray(0, 16), 24);
  v.setUint16(40, PROBE_PORT);
  v.setUint16(42, PROBE_PORT);
  v.setUint16(44, UDP_HEADER_BYTES + PROBE_PAYLOAD_BYTES);
  v.setUint32(48, PROBE_MAGIC);
  v.setUint32(52, id >>> 0);
  v.setFloat64(56, sentAtMs);
  return p;
}

export function parseProbe(p: Uint8Array): ProbeArrival | undefined {
  if (p.length !== IPV6_HEADER_BYTES + UDP_HEADER_BYTES + PROBE_PAYLOAD_BYTES || p[6] !== NEXT_HEADER_UDP) return undefined;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (v.getUint16(42) !== PROBE_PORT || v.getUint32(48) !== PROBE_MAGIC) return undefined;
  return { id: v.getUint32(52), sentAtMs: v.getFloat64(56) };
}

/** A PacketDevice for a simulated node: `inject` plays its kernel; writes go to a callback. */
export class ProbeDevice implements PacketDevice {
  readonly name: string;
  readonly mtu = 1400;
  /** Packets the data plane wrote that were not probes (ICMPv6 errors, mostly). */
  otherPackets = 0;
  private handler: ((packet: Uint8Array) => void) | undefined;
  private closed = false;
  private readonly onProbe: (arrival: ProbeArrival) => void;

  constructor(name: string, onProbe: (arrival: ProbeArrival) => void) {
    this.name = name;
    this.onProbe = onProbe;
  }

  onPacket(handler: (packet: Uint8Array) => void): void {
    this.handler = handler;
  }

  inject(packet: Uint8Array): void {
    if (!this.closed) this.handler?.(packet);
  }

  write(packet: Uint8Array): boolean {
    if (this.closed) return false;
    const a = parseProbe(packet);
    if (a === undefined) this.otherPackets++;
    else this.onProbe(a);
    return true;
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * Sends probes between fixed (source, destination) pairs through the real data planes and records when
 * they arrive. Probe id = pair index, so one prober owns the network's probe callback.
 */
export class PairProber {
  readonly pairs: readonly (readonly [number, number])[];
  /** Virtual time of the first arrival per pair (NaN until one arrives). */
  readonly firstArrivalMs: Float64Array;
  /** Probes sent and delivered, all pairs. */
  sent = 0;
  delivered = 0;
  /** Called on every arrival. */
  onArrival: ((pair: number, sentAtMs: number, arrivedAtMs: number) => void) | undefined;
  private readonly net: {
    readonly nodes: readonly { readonly address: Uint8Array; readonly device: ProbeDevice | undefined }[];
    readonly clock: { now(): number };
    onProbe: ((node: number, arrival: ProbeArrival) => void) | undefined;
  };

  constructor(
    net: {
      readonly nodes: readonly { readonly address: Uint8Array; readonly device: ProbeDevice | undefined }[];
      readonly clock: { now(): number };
      onProbe: ((node: number, arrival: ProbeArrival) => void) | undefined;
    },
    pairs: readonly (readonly [number, number])[],
  ) {
    this.net = net;
    this.pairs = pairs;
    this.firstArrivalMs = new Float64Array(pairs.length).fill(NaN);
    net.onProbe = (node, a) => {
      const p = pairs[a.id];
      if (p === undefined || p[1] !== node) return;
      const now = net.clock.now();
      this.delivered++;
      if (Number.isNaN(this.firstArrivalMs[a.id])) this.firstArrivalMs[a.id] = now;
      this.onArrival?.(a.id, a.sentAtMs, now);
    };
  }

  /** One probe for pair k (dropped silently if its source is down). */
  send(k: number): void {
    const [s, d] = this.pairs[k];
    const dev = this.net.nodes[s].device;
    if (dev === undefined) return;
    this.sent++;
    dev.inject(probePacket(this.net.nodes[s].address, this.net.nodes[d].address, k, this.net.clock.now()));
  }

  sendAll(): void {
    for (let k = 0; k < this.pairs.length; k++) this.send(k);
  }

  /** Probes the pairs that have not delivered one yet; returns how many. */
  sendUnreached(): number {
    let n = 0;
    for (let k = 0; k < this.pairs.length; k++) {
      if (!Number.isNaN(this.firstArrivalMs[k])) continue;
      this.send(k);
      n++;
    }
    return n;
  }

  get reached(): number {
    let n = 0;
    for (const t of this.firstArrivalMs) if (!Number.isNaN(t)) n++;
    return n;
  }

  /** Forget first arrivals (a new reachability measurement). */
  reset(): void {
    this.firstArrivalMs.fill(NaN);
  }
}

/** `count` distinct (source, destination) pairs of distinct nodes, drawn with `next` in [0, 1). */
export function samplePairs(n: number, count: number, next: () => number): [number, number][] {
  const max = n * (n - 1);
  const want = Math.min(count, max);
  const seen = new Set<number>();
  const out: [number, number][] = [];
  if (want === max) {
    for (let s = 0; s < n; s++) for (let d = 0; d < n; d++) if (s !== d) out.push([s, d]);
    return out;
  }
  while (out.length < want) {
    const s = Math.floor(next() * n);
    const d = Math.floor(next() * n);
    if (s === d || seen.has(s * n + d)) continue;
    seen.add(s * n + d);
    out.push([s, d]);
  }
  return out;
}
