// The data plane through real TUN devices between two network namespaces joined by a veth pair, measured
// with iperf3 (TCP, one stream) and ping, in one run: the raw veth (the ceiling), yggdrasil (the
// reference: Debian's package, peered over the veth, no multicast, no admin socket) with its default MTU
// and with Hypha's 1,400, and Hypha — two `bin/hypha.js run` processes with TUN — over a native (Noise)
// link (--overlay-links native) and over a Mycelium TCP link (--overlay-links mycelium). The headline is
// Hypha / yggdrasil at the same MTU.
// Root only (network namespaces); without root, iperf3, ping, yggdrasil or the TUN addon every figure is a skip.
//   node bench/tun-iperf.ts [--seconds 5]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hyphaNetnsSkipReason, myceliumEndpoint, nativeAddr, startHyphaInNetns, type HyphaNetnsNode } from '../test/helpers/hypha-netns.ts';
import { NetnsLab, netnsSkipReason, waitFor, type Netns, type NetnsProcess } from '../test/helpers/netns.ts';
import { emit, round, skip } from './lib/emit.ts';

const BENCH = 'tun-iperf';
const args = process.argv.slice(2);
const SECONDS = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 5;
const IPERF_PORT = 5201;
const YGG_PORT = 12345;
const PINGS = 20;
const FIGURES = [
  'veth_mbit_per_s',
  'yggdrasil_mbit_per_s',
  'yggdrasil_mtu1400_mbit_per_s',
  'hypha_native_mbit_per_s',
  'hypha_native_vs_yggdrasil_ratio',
  'hypha_native_ping_overhead_ms',
  'hypha_mycelium_mbit_per_s',
  'hypha_mycelium_vs_yggdrasil_ratio',
  'hypha_mycelium_ping_overhead_ms',
] as const;
type LinkKind = 'native' | 'mycelium';

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

/** Two `hypha run` processes with TUN, linked over the veth by one link of `kind` (ns 0 dials ns 1). */
async function hyphaPair(lab: NetnsLab, vethB: string, kind: LinkKind, dir: string): Promise<HyphaNetnsNode[]> {
  const nodes: HyphaNetnsNode[] = [];
  try {
    const dataDir = (i: number) => join(dir, `hypha-${kind}-${i}`);
    nodes.push(
      await startHyphaInNetns(
        kind === 'native'
          ? { name: 'B', ns: lab.ns(1), dataDir: dataDir(1), overlayLinks: 'native', listen: nativeAddr(vethB), extraArgs: ['--jsonrpc-addr', ''] }
          : { name: 'B', ns: lab.ns(1), dataDir: dataDir(1), overlayLinks: 'mycelium', extraArgs: ['--jsonrpc-addr', ''] },
      ),
    );
    nodes.push(
      await startHyphaInNetns(
        kind === 'native'
          ? { name: 'A', ns: lab.ns(0), dataDir: dataDir(0), overlayLinks: 'native', bootstrap: [nativeAddr(vethB)], extraArgs: ['--jsonrpc-addr', ''] }
          : { name: 'A', ns: lab.ns(0), dataDir: dataDir(0), overlayLinks: 'mycelium', peers: [myceliumEndpoint(vethB)], extraArgs: ['--jsonrpc-addr', ''] },
      ),
    );
    return nodes;
  } catch (e) {
    for (const n of nodes) await n.proc.stop();
    throw e;
  }
}

// -----------------------------------------------------------------------------------------------

function skipAll(reason: string): void {
  for (const f of FIGURES) skip(BENCH, f, reason);
}

const why = (await netnsSkipReason(['iperf3', 'ping', 'yggdrasil', 'ss'])) ?? (await hyphaNetnsSkipReason());
if (why !== undefined) {
  skipAll(why);
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

    // 3. Hypha, `hypha run` with TUN, over each kind of link.
    for (const kind of ['native', 'mycelium'] as const) {
      const linkWhat = kind === 'native' ? 'one native (Noise) link, --overlay-links native' : 'one Mycelium TCP link, --overlay-links mycelium';
      let h: HyphaNetnsNode[];
      try {
        h = await hyphaPair(lab, peer, kind, dir);
      } catch (e) {
        for (const f of FIGURES.filter((x) => x.startsWith(`hypha_${kind}_`))) skip(BENCH, f, `hypha run did not start: ${(e as Error).message.slice(0, 300)}`);
        continue;
      }
      try {
        await reachable(lab.ns(0), h[0].address, 'hypha', h.map((n) => n.proc));
        const tcp = await iperf(lab.ns(1), lab.ns(0), h[0].address);
        const pg = await ping(lab.ns(0), h[0].address);
        emit({ bench: BENCH, figure: `hypha_${kind}_mbit_per_s`, value: tcp.mbitPerS, unit: 'Mbit/s', what: `iperf3 TCP through Hypha's TUN (two \`hypha run\` processes) over ${linkWhat}, on the veth, MTU 1400, ${SECONDS} s`, reference: { name: 'yggdrasil (MTU 1400)', value: round(y14.tcp.mbitPerS, 1) }, extra: { ...env, retransmits: tcp.retransmits, pingMs: pg.avgMs, yggdrasilDefaultMtuMbit: round(yd.tcp.mbitPerS, 1), vethMbit: round(vethTcp.mbitPerS, 1) } });
        emit({ bench: BENCH, figure: `hypha_${kind}_vs_yggdrasil_ratio`, value: tcp.mbitPerS / y14.tcp.mbitPerS, unit: '×', what: `the headline: Hypha (${kind} link) TCP throughput / yggdrasil's, same namespaces, same run, both with MTU 1400 (against yggdrasil's default MTU 65535: ${round(tcp.mbitPerS / yd.tcp.mbitPerS, 2)}×)`, target: { op: '>=', value: 1.0 }, extra: env });
        emit({ bench: BENCH, figure: `hypha_${kind}_ping_overhead_ms`, value: pg.avgMs - vethPing.avgMs, unit: 'ms', what: `ping -6 round trip through Hypha's TUN over ${linkWhat} minus the raw veth's (${PINGS} pings, 100 ms apart); reference: the same for yggdrasil (MTU 1400)`, reference: { name: 'yggdrasil overhead', value: round(y14.ping.avgMs - vethPing.avgMs, 3) }, extra: { ...env, hyphaMs: pg.avgMs, vethMs: vethPing.avgMs, yggdrasilMs: y14.ping.avgMs, lossPct: pg.lossPct } });
      } finally {
        for (const n of h) await n.proc.stop();
      }
    }
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
