// Two Hypha nodes over a real native link (TCP + Noise XX) on loopback: the overlay runs inside it —
// Hello/IHU, Updates and E2E-encrypted data as msg_types 90 and 91 — with no Mycelium link at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SystemClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { MemoryDevice } from '../../src/dataplane/memory-device.ts';
import { NativeOverlayBridge } from '../../src/dataplane/native-bridge.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { PeerManager } from '../../src/peers/manager.ts';
import { formatIpv6 } from '../../src/wire/ipv6.ts';
import { waitFor } from '../helpers/poll.ts';
import { ipv6Packet } from '../helpers/ipv6.ts';

const clock = new SystemClock();

function node(bootstrap: string[] = []) {
  const id = identityFromSeed(randomBytes(32));
  const logger = silentLogger();
  const device = new MemoryDevice();
  const overlay = new Overlay({ clock, logger, x25519Private: id.x25519PrivateKey, x25519Public: id.x25519Public, device });
  const peers = new PeerManager({ identity: id, clock, logger, version: '0.0.0-test', listen: '127.0.0.1:0', bootstrap });
  const bridge = new NativeOverlayBridge({ peers, overlay, clock, logger });
  return { id, overlay, device, peers, bridge, address: overlay.router.address };
}

test('over a real Noise link on loopback, IPv6 packets cross the overlay both ways', async () => {
  const b = node();
  await b.peers.start();
  b.bridge.start();
  const a = node([b.peers.listenAddress!]);
  await a.peers.start();
  a.bridge.start();
  try {
    await waitFor(() => a.overlay.router.lookup(b.address).kind === 'selected' && b.overlay.router.lookup(a.address).kind === 'selected', 'routes both ways over the native link');
    const [info] = a.overlay.router.neighbourInfo();
    assert.equal(info.kind, 'native');
    assert.equal(info.remoteId, b.id.nodeId);
    assert.equal(info.staticCost, 15, 'TCP over IPv4 costs what it costs on Mycelium');
    const small = new TextEncoder().encode('over a native link');
    const big = new Uint8Array(1_360).map((_, i) => i & 0xff);
    a.device.inject(ipv6Packet(a.address, b.address, 64, small));
    a.device.inject(ipv6Packet(a.address, b.address, 64, big));
    await waitFor(() => b.device.written.length === 2, 'both packets at B');
    assert.equal(formatIpv6(b.device.written[0].subarray(8, 24)), formatIpv6(a.address));
    assert.deepEqual(b.device.written[0].subarray(40), small);
    assert.deepEqual(b.device.written[1].subarray(40), big);
    b.device.inject(ipv6Packet(b.address, a.address, 64, small));
    await waitFor(() => a.device.written.length === 1, 'reply at A');
    assert.deepEqual(a.device.written[0].subarray(40), small);
    assert.equal(a.peers.stats().overlayFromNonHypha + b.peers.stats().overlayUnhandled, 0);
    assert.equal(a.bridge.linkCost(b.id.nodeId), a.overlay.router.linkCost(a.bridge.neighbourOf(b.id.nodeId)!));
  } finally {
    a.bridge.stop();
    b.bridge.stop();
    await a.peers.stop();
    await b.peers.stop();
    a.overlay.stop();
    b.overlay.stop();
  }
});
