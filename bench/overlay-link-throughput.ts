// Overlay data over one real link on loopback, native (TCP + Noise, packets in msg_type 91 envelopes)
// beside Mycelium TCP: 1,400-byte IPv6 packets injected into A's device as fast as A takes them, counted
// out of B's device. Both nodes live in this one process, so the figure is what one core does for both
// ends of the link (E2E seal + link send at A, link receive + E2E open at B; native adds Noise both ways).
// Each link kind with the AEAD addon, and with node:crypto beside it (bench/lib/backends.ts); the native
// link is also compared with the Mycelium link, both with the addon.
import { randomBytes } from 'node:crypto';
import { SystemClock } from '../src/base/clock.ts';
import { silentLogger } from '../src/base/log.ts';
import { identityFromSeed } from '../src/identity/identity.ts';
import { MemoryDevice } from '../src/dataplane/memory-device.ts';
import { NativeOverlayBridge } from '../src/dataplane/native-bridge.ts';
import { Overlay } from '../src/dataplane/overlay.ts';
import { PeerManager } from '../src/peers/manager.ts';
import { MyceliumPeerManager } from '../src/peers/mycelium-peers.ts';
import { ipv6Packet } from '../test/helpers/ipv6.ts';
import { emit, skip } from './lib/emit.ts';
import { measureBothBackends, NODE_CRYPTO_REFERENCE } from './lib/backends.ts';

const PACKETS = 30_000;
const PACKET_BYTES = 1_400;
const clock = new SystemClock();

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

interface End {
  overlay: Overlay;
  written: () => number;
  inject: (p: Uint8Array) => void;
  address: Uint8Array;
  dial: string;
  stop: () => Promise<void>;
}

async function end(kind: 'native' | 'mycelium', peer?: string): Promise<End> {
  const id = identityFromSeed(randomBytes(32));
  const logger = silentLogger();
  let written = 0;
  const device = new MemoryDevice({ maxWritten: 1, onWrite: () => void written++ });
  const overlay = new Overlay({ clock, logger, x25519Private: id.x25519PrivateKey, x25519Public: id.x25519Public, device });
  const base = { overlay, written: () => written, inject: (p: Uint8Array) => device.inject(p), address: overlay.router.address };
  if (kind === 'native') {
    const peers = new PeerManager({ identity: id, clock, logger, version: 'bench', listen: '127.0.0.1:0', bootstrap: peer === undefined ? [] : [peer], sendQueueMessages: 4_096 });
    const bridge = new NativeOverlayBridge({ peers, overlay, clock, logger });
    await peers.start();
    bridge.start();
    return { ...base, dial: peers.listenAddress!, stop: async () => (bridge.stop(), await peers.stop(), overlay.stop()) };
  }
  const peers = new MyceliumPeerManager({ clock, logger, listen: { host: '127.0.0.1', port: 0 }, peers: peer === undefined ? [] : [peer], discovery: false, onLink: (l) => overlay.attachLink(l) });
  await peers.start();
  return { ...base, dial: `tcp://127.0.0.1:${peers.listenPort}`, stop: async () => (await peers.stop(), overlay.stop()) };
}

async function packetsPerSecond(kind: 'native' | 'mycelium'): Promise<{ pps: number; delivered: number }> {
  const b = await end(kind);
  const a = await end(kind, b.dial);
  try {
    if (!(await waitFor(() => a.overlay.router.lookup(b.address).kind === 'selected' && b.overlay.router.lookup(a.address).kind === 'selected', 20_000))) {
      throw new Error(`${kind}: no route`);
    }
    const pkt = ipv6Packet(a.address, b.address, 64, new Uint8Array(PACKET_BYTES - 40));
    a.inject(pkt);
    await waitFor(() => b.written() === 1, 5_000);
    const t0 = performance.now();
    for (let i = 0; i < PACKETS; i++) {
      a.inject(pkt);
      // Let the sockets move now and then, as a TUN read loop would.
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => b.written() >= PACKETS + 1, 20_000);
    const ms = performance.now() - t0;
    const delivered = b.written() - 1;
    return { pps: (delivered * 1000) / ms, delivered };
  } finally {
    await a.stop();
    await b.stop();
  }
}

const r = await measureBothBackends(async () => ({ native: await packetsPerSecond('native'), mycelium: await packetsPerSecond('mycelium') }));
if (r.native === undefined) {
  skip('overlay-link-throughput', 'native_link_pkt_per_s', `crypto addon not available: ${r.note}`);
  skip('overlay-link-throughput', 'mycelium_link_pkt_per_s', `crypto addon not available: ${r.note}`);
} else {
  for (const kind of ['native', 'mycelium'] as const) {
    emit({
      bench: 'overlay-link-throughput',
      figure: `${kind}_link_pkt_per_s`,
      value: r.native[kind].pps,
      unit: 'pkt/s',
      what: `${PACKET_BYTES}-byte IPv6 packets A→B over one ${kind === 'native' ? 'native link (E2E + Noise)' : 'Mycelium TCP link (E2E)'} on loopback, both ends in one process, AEAD addon`,
      reference: { name: NODE_CRYPTO_REFERENCE, value: r.node[kind].pps },
      extra: { packets: PACKETS, delivered: r.native[kind].delivered, deliveredNodeCrypto: r.node[kind].delivered },
    });
  }
  emit({
    bench: 'overlay-link-throughput',
    figure: 'native_vs_mycelium_link_pkt_per_s',
    value: r.native.native.pps,
    unit: 'pkt/s',
    what: `${PACKET_BYTES}-byte IPv6 packets A→B over one native link on loopback (E2E + Noise, both ends in one process), AEAD addon`,
    reference: { name: 'Mycelium TCP link, same setup, AEAD addon', value: r.native.mycelium.pps },
  });
}
