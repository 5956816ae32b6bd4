// Data-plane throughput at 1,400-byte IPv6 packets, one JSON line: A seals packets from its device and
// hands them to B (a direct neighbour), which opens them and writes them to its device. Measures the
// whole path in one process (seal + route + frame checks + open + device write), no sockets.
// With the AEAD addon, and with node:crypto beside it as the reference (bench/lib/backends.ts).
// Run: node bench/dataplane-forward.ts [seconds, default 2]
import { SystemClock } from '../src/base/clock.ts';
import { silentLogger } from '../src/base/log.ts';
import { generateX25519 } from '../src/crypto/x25519.ts';
import { DataPlane } from '../src/dataplane/dataplane.ts';
import type { PacketDevice } from '../src/dataplane/device.ts';
import { MYCELIUM_TIMERS, type Neighbour } from '../src/router/neighbour.ts';
import { Router } from '../src/router/router.ts';
import type { Tlv } from '../src/wire/mycelium/babel.ts';
import { emit, skip } from './lib/emit.ts';
import { measureBothBackends, NODE_CRYPTO_REFERENCE } from './lib/backends.ts';

const PAYLOAD_BYTES = 1400 - 40;
const seconds = Number(process.argv[2] ?? 2);

class CountingDevice implements PacketDevice {
  readonly name = 'bench0';
  readonly mtu = 1400;
  written = 0;
  handler: ((p: Uint8Array) => void) | undefined;
  onPacket(h: (p: Uint8Array) => void): void {
    this.handler = h;
  }
  write(): boolean {
    this.written++;
    return true;
  }
  close(): void {}
}

/** A neighbour that delivers TLVs and frames to the other side synchronously. */
class DirectNeighbour implements Neighbour {
  readonly kind = 'mycelium' as const;
  readonly staticCost = 10;
  readonly timers = MYCELIUM_TIMERS;
  peer!: { router: Router; dp: () => DataPlane; self: () => DirectNeighbour };
  readonly id: string;
  readonly label: string;
  constructor(id: string) {
    this.id = id;
    this.label = id;
  }
  sendTlv(tlv: Tlv): boolean {
    this.peer.router.receiveTlv(this.peer.self(), tlv);
    return true;
  }
  sendData(frame: Uint8Array): boolean {
    this.peer.dp().receiveFrame(this.peer.self(), frame);
    return true;
  }
  close(): void {}
}

function measure(): number {
  const clock = new SystemClock();
  const log = silentLogger();
  const ka = generateX25519();
  const kb = generateX25519();
  const ra = new Router({ clock, logger: log, publicKey: ka.publicKey });
  const rb = new Router({ clock, logger: log, publicKey: kb.publicKey });
  const devA = new CountingDevice();
  const devB = new CountingDevice();
  const da = new DataPlane({ clock, logger: log, router: ra, privateKey: ka.privateKey, device: devA });
  const db = new DataPlane({ clock, logger: log, router: rb, privateKey: kb.privateKey, device: devB });
  const nab = new DirectNeighbour('a->b');
  const nba = new DirectNeighbour('b->a');
  nab.peer = { router: rb, dp: () => db, self: () => nba };
  nba.peer = { router: ra, dp: () => da, self: () => nab };
  ra.addNeighbour(nab);
  rb.addNeighbour(nba);

  const packet = new Uint8Array(40 + PAYLOAD_BYTES);
  packet[0] = 0x60;
  packet[4] = PAYLOAD_BYTES >> 8;
  packet[5] = PAYLOAD_BYTES & 0xff;
  packet[6] = 17;
  packet[7] = 64;
  packet.set(ra.address, 8);
  packet.set(rb.address, 24);

  for (let i = 0; i < 2000; i++) devA.handler!(packet);
  devB.written = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let n = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 500; i++) devA.handler!(packet);
    n += 500;
  }
  const secs = (performance.now() - t0) / 1000;
  ra.stop();
  rb.stop();
  if (devB.written !== n) throw new Error(`sent ${n}, delivered ${devB.written}`);
  return n / secs;
}

const r = await measureBothBackends(measure);
if (r.native === undefined) {
  skip('dataplane-forward', 'pkt_per_s', `crypto addon not available: ${r.note}`);
} else {
  emit({
    bench: 'dataplane-forward',
    figure: 'pkt_per_s',
    value: r.native,
    unit: 'pkt/s',
    what: '1,400-byte packets from A\'s device to B\'s: route + E2E seal at A, frame checks + E2E open + device write at B, one process, no sockets, AEAD addon',
    reference: { name: NODE_CRYPTO_REFERENCE, value: r.node },
    extra: { mbitPerS: Math.round((r.native * 1400 * 8) / 1e6), node: process.version },
  });
}
