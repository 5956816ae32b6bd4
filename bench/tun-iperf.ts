// The data plane through real TUN devices between two network namespaces joined by a veth pair, measured
// with iperf3 (TCP, one stream) and ping, in one run: the raw veth (the ceiling), yggdrasil (the
// reference: Debian's package, peered over the veth, no multicast, no admin socket) with its default MTU
// and with Hypha's 1,400, and Hypha over a Mycelium TCP link. The headline is Hypha / yggdrasil.
//
// Hypha nodes are meant to be `bin/hypha.js run` with TUN. While `hypha run` lacks the overlay's flags
// (--tcp-listen-port, --peers, --tun-name), that figure is a skip saying so, and Hypha is measured with
// bench/lib/overlay-tun-node.ts: the same classes (Overlay, MyceliumPeerManager, TUN device) in a process
// of their own. Hypha over a native link waits for issue #6 (a skip until then).
// Root only (network namespaces); without root, iperf3, ping or yggdrasil every figure is a skip.
//   node bench/tun-iperf.ts [--seconds 5]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateIdentity } from '../src/identity/files.ts';
import { NetnsLab, netnsSkipReason, waitFor, type Netns, type NetnsProcess } from '../test/helpers/netns.ts';
import { emit, round, skip } from './lib/emit.ts';

const BENCH = 'tun-iperf';
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const NODE_HARNESS = join(HERE, 'lib', 'overlay-tun-node.ts');
const HYPHA_BIN = join(ROOT, 'bin', 'hypha.js');
const args = process.argv.slice(2);
const SECONDS = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 5;
const IPERF_PORT = 5201;
const YGG_PORT = 12345;
const HYPHA_PORT = 9651;
const PINGS = 20;
const FIGURES = [
  'veth_mbit_per_s',
  'yggdrasil_mbit_per_s',
  'yggdrasil_mtu1400_mbit_per_s',
  'hypha_mycelium_mbit_per_s',
  'hypha_vs_yggdrasil_ratio',
  'hypha_mycelium_ping_overhead_ms',
  'hypha_native_mbit_per_s',
] as const;

interface Iperf {
  mbitPerS: number;
  retransmits: number;
}
interface Ping {
  avgMs: number;
  lossPct: number;
}

async function iperf(server: Netns, client: Netns, address: string): Promise<Iperf> {
  const srv = server.spawn('iperf3', ['-s', '-1', '-p', String(IPERF_PORT)]);
  try {
    await server.waitForTcpListen(IPERF_PORT);
    const r = await client.exec('iperf3', ['-c', address, '-p', String(IPERF_PORT), '-t', String(SECONDS), '-O', '1', '-J'], { timeoutMs: (SECONDS + 30) * 1000 });
    const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } }; error?: string };
    if (j.error !== undefined || j.end?.sum_received === undefined) throw new Error(`iperf3 to ${address}: ${j.error ?? r.stderr}`);
    return { mbitPerS: j.end.sum_received.bits_per_second / 1e6, retransmits: j.end.sum_sent?.retransmits ?? 0 };
  } finally {
    await srv.stop();
  }
}

async function ping(from: Netns, address: string): Promise<Ping> {
  const r = await from.exec('ping', ['-6', '-c', String(PINGS), '-i', '0.1', '-q', address], { timeoutMs: 30_000 });
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
  const loss = /([\d.]+)% packet loss/.exec(r.stdout);
  if (rtt === null) throw new Error(`ping ${address}: ${r.stdout} ${r.stderr}`);
  return { avgMs: Number(rtt[1]), lossPct: Number(loss?.[1] ?? 0) };
}

/** Waits until one ping gets through (the overlay has a route). */
async function reachable(from: Netns, address: string, what: string, procs: NetnsProcess[]): Promise<void> {
  try {
    await waitFor(`${what}: ${address} answering ping`, async () => (await from.exec('ping', ['-6', '-c', '1', '-W', '1', address])).code === 0, 30_000, 200);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${procs.map((p) => `${p.description}:\n${p.output.slice(-2000)}`).join('\n')}`, { cause: e });
  }
}

async function firstLine(p: NetnsProcess): Promise<string> {
  const m = await p.waitForOutput(/^\{.*\}$/m, 30_000);
  return m[0];
}

// -----------------------------------------------------------------------------------------------

async function yggdrasil(lab: NetnsLab, peerAddr: string, mtu: number | undefined, dir: string): Promise<{ procs: NetnsProcess[]; addresses: string[] }> {
  const procs: NetnsProcess[] = [];
  const addresses: string[] = [];
  // The listening side first, so the dialling side's first attempt succeeds (no reconnect backoff).
  for (const i of [1, 0]) {
    const gen = spawnSync('yggdrasil', ['-genconf', '-json'], { encoding: 'utf8' });
    const conf = JSON.parse(gen.stdout) as Record<string, unknown>;
    conf.Peers = i === 0 ? [`tcp://[${peerAddr}]:${YGG_PORT}`] : [];
    conf.Listen = i === 1 ? [`tcp://[::]:${YGG_PORT}`] : [];
    conf.AdminListen = 'none';
    conf.MulticastInterfaces = [];
    conf.IfName = 'ygg0';
    if (mtu !== undefined) conf.IfMTU = mtu;
    const file = join(dir, `ygg${i}-${mtu ?? 'default'}.json`);
    writeFileSync(file, JSON.stringify(conf));
    const addr = spawnSync('yggdrasil', ['-useconffile', file, '-address'], { encoding: 'utf8' }).stdout.trim();
    addresses[i] = addr;
    const p = lab.ns(i).spawn('yggdrasil', ['-useconffile', file, '-logto', 'stdout']);
    procs.push(p);
    if (i === 1) await p.waitForOutput('TCP listener started', 15_000);
  }
  return { procs, addresses };
}

async function hyphaHarness(lab: NetnsLab, peerAddr: string): Promise<{ procs: NetnsProcess[]; addresses: string[] }> {
  const server = lab.ns(1).spawn(process.execPath, [NODE_HARNESS, randomBytes(32).toString('hex'), String(HYPHA_PORT)]);
  const sAddr = (JSON.parse(await firstLine(server)) as { address: string }).address;
  const client = lab.ns(0).spawn(process.execPath, [NODE_HARNESS, randomBytes(32).toString('hex'), String(HYPHA_PORT), `tcp://[${peerAddr}]:${HYPHA_PORT}`]);
  const cAddr = (JSON.parse(await firstLine(client)) as { address: string }).address;
  return { procs: [client, server], addresses: [cAddr, sAddr] };
}

/** Why `hypha run` cannot be the Hypha under test yet, or undefined if it has the overlay's flags. */
function hyphaRunMissing(): string | undefined {
  const help = spawnSync(process.execPath, [HYPHA_BIN, 'run', '--help'], { encoding: 'utf8' }).stdout;
  for (const flag of ['--tcp-listen-port', '--peers', '--tun-name']) if (!help.includes(flag)) return `hypha run lacks ${flag}`;
  return undefined;
}

async function hyphaRun(lab: NetnsLab, peerAddr: string, dir: string): Promise<{ procs: NetnsProcess[]; addresses: string[] }> {
  const procs: NetnsProcess[] = [];
  const addresses: string[] = [];
  for (const i of [1, 0]) {
    const dataDir = join(dir, `hypha${i}`);
    // The identity is created first, so its address is known without asking the node.
    addresses[i] = (await loadOrCreateIdentity(dataDir)).identity.addressText;
    const flags = ['run', '--data-dir', dataDir, '--listen', '', '--ssh-listen', '', '--api-addr', '', '--disable-peer-discovery', '--tun-name', 'hypha0', '-t', String(HYPHA_PORT)];
    if (i === 0) flags.push('--peers', `tcp://[${peerAddr}]:${HYPHA_PORT}`);
    procs.push(lab.ns(i).spawn(process.execPath, [HYPHA_BIN, ...flags]));
  }
  return { procs, addresses };
}

// -----------------------------------------------------------------------------------------------

function skipAll(reason: string): void {
  for (const f of FIGURES) skip(BENCH, f, reason);
}

const why = await netnsSkipReason(['iperf3', 'ping', 'yggdrasil', 'ss']);
if (why !== undefined) {
  skipAll(why);
} else if (!existsSync(join(ROOT, 'native', 'build', 'hypha_tun.node'))) {
  skipAll('TUN addon not built (npm run build:native)');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'hypha-iperf-'));
  const lab = await NetnsLab.create(2);
  const env = { loadAverage1m: round(loadavg()[0], 2), seconds: SECONDS, pings: PINGS };
  try {
    const link = await lab.connect(lab.ns(0), lab.ns(1));
    const peer = link.b.ipv6;
    // 1. The ceiling: the veth itself.
    const vethTcp = await iperf(lab.ns(1), lab.ns(0), peer);
    const vethPing = await ping(lab.ns(0), peer);
    emit({ bench: BENCH, figure: 'veth_mbit_per_s', value: vethTcp.mbitPerS, unit: 'Mbit/s', what: `iperf3 TCP (one stream, ${SECONDS} s) over the raw veth pair between the two namespaces, IPv6: the ceiling`, extra: { ...env, pingMs: vethPing.avgMs, retransmits: vethTcp.retransmits } });

    // 2. The reference: yggdrasil, default MTU (65535) and Hypha's 1,400.
    const ygg: Record<string, { tcp: Iperf; ping: Ping }> = {};
    for (const mtu of [undefined, 1400]) {
      const y = await yggdrasil(lab, peer, mtu, dir);
      try {
        await reachable(lab.ns(0), y.addresses[1], 'yggdrasil', y.procs);
        ygg[String(mtu ?? 'default')] = { tcp: await iperf(lab.ns(1), lab.ns(0), y.addresses[1]), ping: await ping(lab.ns(0), y.addresses[1]) };
      } finally {
        for (const p of y.procs) await p.stop();
      }
    }
    const yd = ygg.default;
    const y14 = ygg['1400'];
    emit({ bench: BENCH, figure: 'yggdrasil_mbit_per_s', value: yd.tcp.mbitPerS, unit: 'Mbit/s', what: `iperf3 TCP through yggdrasil's TUN (Debian package, default MTU 65535), peered over the veth (tcp://), ${SECONDS} s`, reference: { name: 'raw veth', value: round(vethTcp.mbitPerS, 1) }, extra: { ...env, pingMs: yd.ping.avgMs, retransmits: yd.tcp.retransmits } });
    emit({ bench: BENCH, figure: 'yggdrasil_mtu1400_mbit_per_s', value: y14.tcp.mbitPerS, unit: 'Mbit/s', what: `iperf3 TCP through yggdrasil's TUN with IfMTU 1400 (Hypha's MTU), peered over the veth, ${SECONDS} s`, reference: { name: 'raw veth', value: round(vethTcp.mbitPerS, 1) }, extra: { ...env, pingMs: y14.ping.avgMs } });

    // 3. Hypha over a Mycelium TCP link.
    const missing = hyphaRunMissing();
    const viaRun = missing === undefined;
    if (!viaRun) skip(BENCH, 'hypha_run_mycelium_mbit_per_s', `${missing}: Hypha measured with bench/lib/overlay-tun-node.ts (the same Overlay, MyceliumPeerManager and TUN classes) instead`);
    const h = viaRun ? await hyphaRun(lab, peer, dir) : await hyphaHarness(lab, peer);
    try {
      await reachable(lab.ns(0), h.addresses[1], 'hypha', h.procs);
      const tcp = await iperf(lab.ns(1), lab.ns(0), h.addresses[1]);
      const pg = await ping(lab.ns(0), h.addresses[1]);
      const how = viaRun ? '`hypha run` with TUN' : 'Overlay + MyceliumPeerManager + TUN (bench/lib/overlay-tun-node.ts; `hypha run` lacks the overlay flags)';
      emit({ bench: BENCH, figure: 'hypha_mycelium_mbit_per_s', value: tcp.mbitPerS, unit: 'Mbit/s', what: `iperf3 TCP through Hypha's TUN over one Mycelium TCP link on the veth (${how}), MTU 1400, ${SECONDS} s`, reference: { name: 'yggdrasil (MTU 1400)', value: round(y14.tcp.mbitPerS, 1) }, extra: { ...env, retransmits: tcp.retransmits, pingMs: pg.avgMs, yggdrasilDefaultMtuMbit: round(yd.tcp.mbitPerS, 1), vethMbit: round(vethTcp.mbitPerS, 1) } });
      emit({ bench: BENCH, figure: 'hypha_vs_yggdrasil_ratio', value: tcp.mbitPerS / y14.tcp.mbitPerS, unit: '×', what: `the headline: Hypha (Mycelium link) TCP throughput / yggdrasil's, same namespaces, same run, both with MTU 1400 (against yggdrasil's default MTU: ${round(tcp.mbitPerS / yd.tcp.mbitPerS, 2)}×)`, target: { op: '>=', value: 1.0 }, extra: env });
      emit({ bench: BENCH, figure: 'hypha_mycelium_ping_overhead_ms', value: pg.avgMs - vethPing.avgMs, unit: 'ms', what: `ping -6 round trip through Hypha's TUN minus the raw veth's (${PINGS} pings, 100 ms apart); reference: the same for yggdrasil`, reference: { name: 'yggdrasil overhead', value: round(yd.ping.avgMs - vethPing.avgMs, 3) }, extra: { ...env, hyphaMs: pg.avgMs, vethMs: vethPing.avgMs, yggdrasilMs: yd.ping.avgMs, lossPct: pg.lossPct } });
    } finally {
      for (const p of h.procs) await p.stop();
    }
    // 4. Hypha over a native link: issue #6.
    skip(BENCH, 'hypha_native_mbit_per_s', 'the overlay does not run over native (Noise) links yet (issue #6)');
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
