// TUN I/O throughput at 1,400-byte packets, for each way of moving packets between the kernel and JS.
// Root only: each measurement runs in a fresh network namespace; without root it prints a skip line.
//   node bench/tun-io.ts [--seconds 3]
// Each approach runs in its own child (inner); the outer process prints one JSON line per figure through
// bench/lib/emit.ts: the approach Hypha uses against the plain libuv one as the reference, and for the
// sealed writes the AEAD addon against node:crypto. Every approach's raw numbers sit in `extra`.
// read:  bench/udp-flood (sendmmsg, C) sends UDP to 400::2, which the kernel routes into the TUN; the
//        figure is what the JS handler received per second while the flood ran (the rest the kernel drops).
// write: JS writes UDP datagrams for 400::1 (the TUN's own address, a port with no listener) as fast as
//        the approach allows; the figure counts what the kernel accepted (the TUN's rx_packets).
//        '+aes-gcm' / '+aes-gcm-node': each packet is first AES-256-GCM-sealed (addon / node:crypto), the
//        cipher work the data plane does per packet beside the write.
// jsNsPerPacket is the JS thread's CPU time per packet (from /proc/thread-self/schedstat, so waiting for a
// core does not count): the smaller, the more of the JS thread is left for the data plane's own work.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/base/log.ts';
import { aeadBackendNote, aeadKey } from '../src/crypto/aead.ts';
import { openTun, type TunNative } from '../src/dataplane/tun.ts';
import { NetnsLab, netnsSkipReason } from '../test/helpers/netns.ts';
import { buildUdp6, ipv6 } from '../test/helpers/packets.ts';
import { emit, skip } from './lib/emit.ts';
import { NODE_CRYPTO_REFERENCE } from './lib/backends.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const FLOOD_SRC = join(HERE, 'udp-flood.c');
const FLOOD_BIN = join(HERE, 'out', 'udp-flood');
const PACKET_BYTES = 1400;
const IFNAME = 'hypha0';
const LOCAL = '400::1';
const REMOTE = '400::2';
const DISCARD_PORT = 9;
const READ_APPROACHES = ['libuv-fs-read', 'reader-thread'] as const;
const WRITE_APPROACHES = ['libuv-fs-write', 'fs-writeSync', 'addon-direct', 'addon-writer-thread',
  'addon-direct+aes-gcm', 'addon-writer-thread+aes-gcm', 'addon-writer-thread+aes-gcm-node'] as const;
/** Offered load for the read figures: unlimited (the most a reader takes), and a fixed rate at which the
 * JS thread is not saturated, so its busy time per packet is the approach's own cost. */
const READ_RATES_PPS = [0, 50_000];
type Approach = (typeof READ_APPROACHES)[number] | (typeof WRITE_APPROACHES)[number];

/** What an inner run prints (one line) for the outer one to collect. */
function report(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function sysfs(counter: string): number {
  return Number(readFileSync(`/sys/class/net/${IFNAME}/statistics/${counter}`, 'utf8'));
}

/** CPU time of the calling thread (the JS thread), in ns: not inflated by waiting for a core, as wall time is. */
function jsThreadCpuNs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
}

function addon(): TunNative {
  return createRequire(import.meta.url)('../native/build/hypha_tun.node') as TunNative;
}

/** A raw, blocking fd (the libuv approaches), configured like TunDevice does. */
function rawTun(): number {
  const n = addon();
  const { fd } = n.open(IFNAME, false);
  n.configure(IFNAME, ipv6(LOCAL), 7, PACKET_BYTES);
  return fd;
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function immediate(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

// ---------------------------------------------------------------- inner: runs inside the namespace

async function measureRead(approach: Approach, seconds: number, ratePps: number): Promise<void> {
  let packets = 0;
  let bytes = 0;
  let counting = false;
  const onPacket = (p: Uint8Array): void => {
    if (!counting) return;
    packets++;
    bytes += p.length;
  };
  let batches = () => 0;
  if (approach === 'reader-thread') {
    const r = openTun({ name: IFNAME, address: ipv6(LOCAL), logger: silentLogger() });
    if (!r.ok) throw new Error(r.error.message);
    r.value.onPacket(onPacket);
    batches = () => r.value.stats().batchesRead;
  } else {
    const fd = rawTun();
    const buf = Buffer.allocUnsafe(65536);
    const loop = (): void => {
      fs.read(fd, buf, 0, buf.length, null, (err, n) => {
        if (err) return;
        onPacket(buf.subarray(0, n).slice()); // the receiver owns its packet, as with TunDevice
        loop();
      });
    };
    loop();
  }
  const dropped0 = sysfs('tx_dropped');
  const cpu0 = jsThreadCpuNs();
  const batches0 = batches();
  counting = true;
  const flood = spawn(FLOOD_BIN, [REMOTE, String(DISCARD_PORT), String(PACKET_BYTES - 48), String(seconds), String(ratePps)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  flood.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => flood.on('close', r));
  counting = false;
  const cpuNs = jsThreadCpuNs() - cpu0;
  const gen = JSON.parse(out) as { sent: number; seconds: number };
  report({
    direction: 'read',
    approach,
    offeredPacketsPerSec: ratePps === 0 ? 'max' : ratePps,
    packetsPerSec: Math.round(packets / gen.seconds),
    MBps: round(bytes / 1e6 / gen.seconds),
    jsNsPerPacket: packets > 0 ? Math.round(cpuNs / packets) : null,
    meanBatch: approach === 'reader-thread' ? round(packets / Math.max(1, batches() - batches0)) : 1,
    generatorPacketsPerSec: Math.round(gen.sent / gen.seconds),
    kernelDropped: sysfs('tx_dropped') - dropped0,
    seconds: gen.seconds,
  });
  process.exit(0);
}

async function measureWrite(approach: Approach, seconds: number): Promise<void> {
  const packet = buildUdp6({ src: ipv6(REMOTE), dst: ipv6(LOCAL), srcPort: 1, dstPort: DISCARD_PORT, totalBytes: PACKET_BYTES });
  // '+aes-gcm': each packet is first sealed with AES-256-GCM, as the data plane opens every packet before
  // it writes it: shows what the JS thread's savings buy when it has real work to do.
  const withCrypto = approach.includes('+aes-gcm');
  const key = aeadKey('aes-256-gcm', randomBytes(32), approach.endsWith('-node') ? 'node' : 'native');
  const nonce = randomBytes(12);
  const sealed = new Uint8Array(PACKET_BYTES + 16);
  const seal = (p: Uint8Array): void => key.seal(nonce, 0, null, p, 0, p.length, sealed, 0);
  let write: (p: Uint8Array) => boolean; // false: no room now; wait for room() and try again
  // Waits for room without spinning, so the JS thread does not take the core the kernel-side work needs.
  let room = (): Promise<void> => pause(1);
  let drained = (): boolean => true;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  if (approach.startsWith('addon-')) {
    const r = openTun({ name: IFNAME, address: ipv6(LOCAL), logger: silentLogger(), writeMode: approach.startsWith('addon-direct') ? 'direct' : 'thread' });
    if (!r.ok) throw new Error(r.error.message);
    const dev = r.value;
    write = withCrypto ? (p) => (seal(p), dev.write(p)) : (p) => dev.write(p);
    drained = () => dev.writeQueueLength === 0;
  } else if (approach === 'fs-writeSync') {
    const fd = rawTun();
    write = (p) => fs.writeSync(fd, p) === p.length;
  } else {
    const fd = rawTun();
    const MAX_IN_FLIGHT = 64;
    write = (p) => {
      if (inFlight >= MAX_IN_FLIGHT) return false;
      inFlight++;
      fs.write(fd, p, () => {
        inFlight--;
        wake?.();
      });
      return true;
    };
    room = () => new Promise((r) => (wake = r));
    drained = () => inFlight === 0;
  }
  const rx0 = sysfs('rx_packets');
  const start = performance.now();
  const end = start + seconds * 1000;
  let attempted = 0;
  const cpu0 = jsThreadCpuNs();
  while (performance.now() < end) {
    let n = 0;
    while (n < 256 && write(packet)) n++;
    attempted += n;
    if (n < 256) await room();
    else await immediate();
  }
  while (!drained()) await pause(1);
  const cpuNs = jsThreadCpuNs() - cpu0;
  const elapsed = (performance.now() - start) / 1000;
  const accepted = sysfs('rx_packets') - rx0;
  report({
    direction: 'write',
    approach,
    packetsPerSec: Math.round(accepted / elapsed),
    MBps: round((accepted * PACKET_BYTES) / 1e6 / elapsed),
    jsNsPerPacket: Math.round(cpuNs / Math.max(1, attempted)),
    written: attempted,
    kernelAccepted: accepted,
    seconds: round(elapsed),
  });
  process.exit(0);
}

// ---------------------------------------------------------------- outer: sets up and collects

function buildFlooder(): string | undefined {
  if (existsSync(FLOOD_BIN) && statSync(FLOOD_BIN).mtimeMs >= statSync(FLOOD_SRC).mtimeMs) return undefined;
  mkdirSync(dirname(FLOOD_BIN), { recursive: true });
  const r = spawnSync('cc', ['-O2', '-o', FLOOD_BIN, FLOOD_SRC], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `cannot build bench/udp-flood.c: ${r.stderr || r.error}`;
}

type Inner = Record<string, unknown> & { packetsPerSec?: number };

async function outer(seconds: number): Promise<void> {
  const skipAll = (why: string): void => {
    for (const f of ['read_max_pkt_per_s', 'read_50k_offered_js_ns_per_pkt', 'write_pkt_per_s', 'write_sealed_pkt_per_s']) skip('tun-io', f, why);
  };
  const why = await netnsSkipReason();
  if (why !== undefined) return skipAll(why);
  if (!existsSync(join(HERE, '..', 'native', 'build', 'hypha_tun.node'))) return skipAll('TUN addon not built (npm run build:native)');
  const noFlood = buildFlooder();
  const noAead = aeadBackendNote();
  const results = new Map<string, Inner>();
  for (const approach of [...READ_APPROACHES, ...WRITE_APPROACHES]) {
    const direction = (READ_APPROACHES as readonly string[]).includes(approach) ? 'read' : 'write';
    if (direction === 'read' && noFlood !== undefined) continue;
    if (approach.endsWith('+aes-gcm') && noAead !== undefined) continue;
    for (const rate of direction === 'read' ? READ_RATES_PPS : [0]) {
      const lab = await NetnsLab.create(1);
      try {
        const p = lab.ns(0).spawn(process.execPath, [SELF, '--inner', direction, approach, String(seconds), String(rate)]);
        const r = await p.exited;
        const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
        if (r.code !== 0 || line === undefined) process.stderr.write(`tun-io ${direction} ${approach}: exit ${r.code}: ${r.stderr.trim().slice(-500)}\n`);
        else results.set(`${direction} ${approach} ${rate}`, JSON.parse(line) as Inner);
      } finally {
        await lab.destroy();
      }
    }
  }
  const get = (key: string): Inner | undefined => results.get(key);
  const all = Object.fromEntries(results);
  const pair = (bench: string, value: Inner | undefined, ref: Inner | undefined, field: string, why: string, f: (v: number, r: number) => void): void => {
    const v = value?.[field];
    const r = ref?.[field];
    if (typeof v === 'number' && typeof r === 'number') f(v, r);
    else skip('tun-io', bench, why);
  };
  pair('read_max_pkt_per_s', get('read reader-thread 0'), get('read libuv-fs-read 0'), 'packetsPerSec', noFlood ?? 'a read run failed (see stderr)', (v, r) => emit({
    bench: 'tun-io', figure: 'read_max_pkt_per_s', value: v, unit: 'pkt/s',
    what: `${PACKET_BYTES}-byte packets the JS handler got from the TUN per second under a sendmmsg flood: the addon's reader thread (batches)`,
    reference: { name: 'fs.read on the TUN fd through libuv, one packet per callback', value: r }, extra: { packetBytes: PACKET_BYTES, runs: all },
  }));
  pair('read_50k_offered_js_ns_per_pkt', get('read reader-thread 50000'), get('read libuv-fs-read 50000'), 'jsNsPerPacket', noFlood ?? 'a read run failed (see stderr)', (v, r) => emit({
    bench: 'tun-io', figure: 'read_50k_offered_js_ns_per_pkt', value: v, unit: 'ns/pkt',
    what: 'JS-thread CPU per packet read from the TUN at 50,000 pkt/s offered (not saturated): the addon\'s reader thread',
    reference: { name: 'fs.read through libuv', value: r },
  }));
  pair('write_pkt_per_s', get('write addon-writer-thread 0'), get('write libuv-fs-write 0'), 'packetsPerSec', 'a write run failed (see stderr)', (v, r) => emit({
    bench: 'tun-io', figure: 'write_pkt_per_s', value: v, unit: 'pkt/s',
    what: `${PACKET_BYTES}-byte packets written to the TUN and accepted by the kernel per second: the addon's writer thread`,
    reference: { name: 'fs.write through libuv, 64 in flight', value: r }, extra: { packetBytes: PACKET_BYTES, runs: all },
  }));
  pair('write_sealed_pkt_per_s', get('write addon-writer-thread+aes-gcm 0'), get('write addon-writer-thread+aes-gcm-node 0'), 'packetsPerSec', noAead ?? 'a write run failed (see stderr)', (v, r) => emit({
    bench: 'tun-io', figure: 'write_sealed_pkt_per_s', value: v, unit: 'pkt/s',
    what: `${PACKET_BYTES}-byte packets AES-256-GCM-sealed with the AEAD addon, then written through the writer thread, per second`,
    reference: { name: NODE_CRYPTO_REFERENCE, value: r },
  }));
}

const args = process.argv.slice(2);
if (args[0] === '--inner') {
  const [, direction, approach, seconds, rate] = args;
  if (direction === 'read') await measureRead(approach as Approach, Number(seconds), Number(rate));
  else await measureWrite(approach as Approach, Number(seconds));
} else {
  const i = args.indexOf('--seconds');
  await outer(i >= 0 ? Number(args[i + 1]) : 3);
}
