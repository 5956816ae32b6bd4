// Two overlay nodes over a real TCP link on loopback: an IPv6 packet injected into A's device comes
// out of B's device, decrypted; and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import { generateX25519 } from '../../src/crypto/x25519.ts';
import { MemoryDevice } from '../../src/dataplane/memory-device.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { MyceliumPeerManager } from '../../src/peers/mycelium-peers.ts';
import { formatIpv6 } from '../../src/wire/ipv6.ts';
import { waitFor } from '../helpers/poll.ts';
import { ipv6Packet } from '../helpers/ipv6.ts';

const clock = new SystemClock();

function node(peers: string[]) {
  const kp = generateX25519();
  const device = new MemoryDevice();
  const overlay = new Overlay({ clock, logger: silentLogger(), x25519Private: kp.privateKey, x25519Public: kp.publicKey, device });
  const peersMgr = new MyceliumPeerManager({
    clock,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
    peers,
    discovery: false,
    onLink: (link) => overlay.attachLink(link),
  });
  return { overlay, device, peers: peersMgr, address: overlay.router.address };
}

test('A → B over real TCP: the packet leaves A sealed and comes out of B decrypted', async () => {
  const b = node([]);
  await b.peers.start();
  const a = node([`tcp://127.0.0.1:${b.peers.listenPort}`]);
  await a.peers.start();
  try {
    await waitFor(() => a.overlay.router.lookup(b.address).kind === 'selected' && b.overlay.router.lookup(a.address).kind === 'selected', 'routes both ways');
    const payload = new TextEncoder().encode('over real TCP');
    a.device.inject(ipv6Packet(a.address, b.address, 64, payload));
    await waitFor(() => b.device.written.length === 1, 'packet at B');
    const got = b.device.written[0];
    assert.equal(formatIpv6(got.subarray(8, 24)), formatIpv6(a.address));
    assert.equal(formatIpv6(got.subarray(24, 40)), formatIpv6(b.address));
    assert.deepEqual(got.subarray(40), payload);
    // On the wire it was ciphertext: B's link saw more bytes than the packet, none of them the text.
    b.device.inject(ipv6Packet(b.address, a.address, 64, payload));
    await waitFor(() => a.device.written.length === 1, 'reply at A');
    assert.deepEqual(a.device.written[0].subarray(40), payload);
    const stats = a.peers.peers()[0];
    assert.ok(stats.txBytes > 0 && stats.rxBytes > 0);
  } finally {
    await a.peers.stop();
    await b.peers.stop();
    a.overlay.stop();
    b.overlay.stop();
  }
});
