// Runs inside a network namespace for test/dataplane/tun.test.ts (Node cannot enter a namespace itself).
// Opens the TUN device, answers ICMPv6 echo requests for any other 400::/7 address, and obeys one command
// per stdin line; every event is one JSON line on stdout.
//   node tun-child.ts <ifname> <address> [direct|thread]
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { silentLogger } from '../../src/base/log.ts';
import { openTun, type TunDevice, type TunWriteMode } from '../../src/dataplane/tun.ts';
import { formatIpv6 } from '../../src/wire/ipv6.ts';
import { buildUdp6, echoReplyFor, ipv6 } from '../helpers/packets.ts';

const [name, addressText, mode] = process.argv.slice(2);
const address = ipv6(addressText);
const peer = ipv6('400::abcd');
const UDP_PORT = 9999;

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

function open(): TunDevice | undefined {
  const r = openTun({ name, address, logger: silentLogger(), writeMode: (mode ?? 'thread') as TunWriteMode });
  if (!r.ok) {
    emit('open-failed', { error: r.error });
    return undefined;
  }
  const dev = r.value;
  dev.onPacket((p) => {
    emit('packet', { len: p.length, nextHeader: p[6], dst: formatIpv6(p, 24) });
    const reply = echoReplyFor(p);
    if (reply !== undefined) emit('replied', { ok: dev.write(reply), len: reply.length });
  });
  emit('ready', { name: dev.name, mtu: dev.mtu });
  return dev;
}

let dev = open();
if (dev === undefined) process.exit(2);

const commands: Record<string, () => void | Promise<void>> = {
  'write-too-big': () => {
    const p = buildUdp6({ src: peer, dst: address, srcPort: 1, dstPort: UDP_PORT, totalBytes: (dev?.mtu ?? 1400) + 1 });
    emit('write', { size: p.length, ok: dev?.write(p), stats: dev?.stats() });
  },
  'write-not-ipv6': () => {
    const p = new Uint8Array(100).fill(0x45);
    emit('write', { size: p.length, ok: dev?.write(p), stats: dev?.stats() });
  },
  // A full-MTU datagram written into the TUN must reach a UDP socket on the overlay address.
  'write-mtu': async () => {
    const sock = createSocket('udp6');
    sock.on('message', (msg) => {
      emit('udp', { size: msg.length });
      sock.close();
    });
    await new Promise<void>((resolve) => sock.bind(UDP_PORT, formatIpv6(address), resolve));
    const p = buildUdp6({ src: peer, dst: address, srcPort: 1, dstPort: UDP_PORT, totalBytes: dev?.mtu ?? 1400 });
    emit('write', { size: p.length, ok: dev?.write(p) });
  },
  'open-second': () => {
    const r = openTun({ name, address, logger: silentLogger() });
    if (r.ok) r.value.close();
    emit('second', r.ok ? { ok: true } : { ok: false, error: r.error });
  },
  close: () => {
    dev?.close();
    emit('closed', { writeAfterClose: dev?.write(buildUdp6({ src: peer, dst: address, srcPort: 1, dstPort: 2, totalBytes: 100 })) });
  },
  reopen: () => {
    dev = open();
  },
  exit: () => {
    dev?.close();
    process.exit(0);
  },
};

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = commands[line.trim()];
  if (cmd === undefined) emit('unknown-command', { line });
  else void Promise.resolve(cmd()).catch((e: unknown) => emit('command-failed', { line, error: String(e) }));
});
process.on('SIGTERM', () => {
  dev?.close();
  process.exit(0);
});
