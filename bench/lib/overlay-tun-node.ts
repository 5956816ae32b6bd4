// One Hypha overlay node with a real TUN, for bench/tun-iperf.ts while `hypha run` lacks the overlay's
// flags: the same classes the node composes (Overlay = Router + DataPlane, MyceliumPeerManager over TCP,
// the TUN device), nothing else. Runs inside a network namespace until SIGTERM.
//   node bench/lib/overlay-tun-node.ts <seed-hex> <listen-port> [tcp://peer:port]
// Prints one JSON line {"address": "..."} once the TUN is up and the listener bound.
import { SystemClock } from '../../src/base/clock.ts';
import { createLogger } from '../../src/base/log.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { openTun } from '../../src/dataplane/tun.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { MyceliumPeerManager } from '../../src/peers/mycelium-peers.ts';

const [seedHex, port, peer] = process.argv.slice(2);
const id = identityFromSeed(new Uint8Array(Buffer.from(seedHex, 'hex')));
const clock = new SystemClock();
const logger = createLogger({ level: 'warn', format: 'json' });
const tun = openTun({ name: 'hypha0', address: id.address, logger });
if (!tun.ok) {
  process.stderr.write(`TUN: ${tun.error.message}\n`);
  process.exit(2);
}
const overlay = new Overlay({ clock, logger, x25519Private: id.x25519PrivateKey, x25519Public: id.x25519Public, device: tun.value });
const peers = new MyceliumPeerManager({
  clock,
  logger,
  listen: { host: '::', port: Number(port) },
  peers: peer ? [peer] : [],
  discovery: false,
  onLink: (link) => overlay.attachLink(link),
});
await peers.start();
process.stdout.write(`${JSON.stringify({ address: id.addressText })}\n`);
const keepalive = setInterval(() => undefined, 1 << 30);
process.on('SIGTERM', () => {
  clearInterval(keepalive);
  void peers.stop().then(() => {
    overlay.stop();
    tun.value.close();
    process.exit(0);
  });
});
