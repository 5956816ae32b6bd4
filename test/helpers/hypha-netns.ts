// `hypha run` processes with TUN in network namespaces (root), for the overlay acceptance tests and the
// reroute benchmark: start a node with native and/or Mycelium links on veth addresses, ping and TCP over
// the overlay, read a node's routes through its own CLI and API, and measure a reroute from the output of
// a continuous `ping -6 -D`.
//
//   const lab = await NetnsLab.create(4, t);
//   const ab = await lab.connect(lab.ns(0), lab.ns(1));
//   const b = await startHyphaInNetns({ name: 'B', ns: lab.ns(1), dataDir, listen: nativeAddr(ab.b.ipv6) });
//   const a = await startHyphaInNetns({ name: 'A', ns: lab.ns(0), dataDir, bootstrap: [nativeAddr(ab.b.ipv6)] });
//   await pingUntilAnswered(a.ns, b.address, 30_000);
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { loadTunAddon } from '../../src/dataplane/tun.ts';
import { nodeSubnetText } from '../../src/identity/address.ts';
import { parseIpv6 } from '../../src/wire/ipv6.ts';
import { netnsSkipReason, waitFor, type Netns, type NetnsLab, type NetnsProcess, type VethLink } from './netns.ts';

export const HYPHA_BIN = resolve(import.meta.dirname, '../../bin/hypha.js');
export const MYCELIUM_PORT = 9651;
export const NATIVE_PORT = 4000;
/** Every namespace has its own loopback, so every node's API can sit on the default address. */
export const NETNS_API = '127.0.0.1:8989';
/** Starting a node takes a second or two; a loaded machine may need far more. */
const START_TIMEOUT_MS = 45_000;

/** Why `hypha run` with TUN cannot be tested in namespaces here (not root, no ping, addon not built). */
export async function hyphaNetnsSkipReason(): Promise<string | undefined> {
  const why = await netnsSkipReason(['ping', 'ss']);
  if (why !== undefined) return why;
  const addon = loadTunAddon();
  if (!addon.ok) return `TUN addon not built: ${addon.error.message}; ${addon.error.fix}`;
  return undefined;
}

export type OverlayLinksMode = 'both' | 'native' | 'mycelium';

export interface HyphaNetnsOptions {
  name: string;
  ns: Netns;
  dataDir: string;
  /** Native listener host:port ("" = outbound only, the default). */
  listen?: string;
  /** Native peers to dial (host:port). */
  bootstrap?: string[];
  /** Mycelium peers to dial (tcp://…). */
  peers?: string[];
  overlayLinks?: OverlayLinksMode;
  extraArgs?: string[];
}

export interface HyphaNetnsNode {
  name: string;
  ns: Netns;
  proc: NetnsProcess;
  dataDir: string;
  /** Overlay address, e.g. "5a1:…". */
  address: string;
  /** Ed25519 node id (hex). */
  nodeId: string;
  /** The /64 the node owns, as routes list it: "5a1:2:3:4::/64". */
  subnet: string;
}

/** `tcp://[v6]:9651`: a Mycelium peer endpoint on a veth address. */
export function myceliumEndpoint(ipv6: string): string {
  return `tcp://[${ipv6}]:${MYCELIUM_PORT}`;
}

/** `[v6]:4000`: a native listener or bootstrap address on a veth address. */
export function nativeAddr(ipv6: string): string {
  return `[${ipv6}]:${NATIVE_PORT}`;
}

/**
 * Starts `hypha run` in a namespace with TUN (hypha0), the API on NETNS_API, no SSH, no link-local discovery
 * (the links are exactly the ones given), and JSON logs; resolves once the node logged "node running".
 */
export async function startHyphaInNetns(o: HyphaNetnsOptions): Promise<HyphaNetnsNode> {
  const args = [HYPHA_BIN, 'run', '--data-dir', o.dataDir, '--name', o.name, '--listen', o.listen ?? '', '--ssh-listen', '',
    '--log-format', 'json', '--disable-peer-discovery', '-t', String(MYCELIUM_PORT), '--api-addr', NETNS_API,
    '--overlay-links', o.overlayLinks ?? 'both',
    ...(o.bootstrap ?? []).flatMap((b) => ['--bootstrap', b]),
    ...(o.peers ?? []).flatMap((p) => ['--peers', p]),
    ...(o.extraArgs ?? [])];
  const proc = o.ns.spawn(process.execPath, args);
  const m = await proc.waitForOutput(/^\{.*"msg":"node running".*$/m, START_TIMEOUT_MS);
  const facts = JSON.parse(m[0]) as { address: string; nodeId: string; publicKey: string; tun: string };
  assert.equal(facts.tun, 'hypha0', `${o.name} runs with its TUN device:\n${proc.output}`);
  const addr = await o.ns.run('ip', ['-6', 'addr', 'show', 'dev', 'hypha0']);
  assert.match(addr, new RegExp(`inet6 ${facts.address}/7 scope global`), `${o.name}'s TUN carries its overlay address /7`);
  return { name: o.name, ns: o.ns, proc, dataDir: o.dataDir, address: facts.address, nodeId: facts.nodeId,
    subnet: nodeSubnetText(Uint8Array.from(Buffer.from(facts.publicKey, 'hex'))) };
}

/** Stops every node with SIGTERM and asserts each exits 0 (TUN closed, links closed, store flushed). */
export async function stopCleanly(nodes: readonly HyphaNetnsNode[]): Promise<void> {
  for (const n of nodes) {
    const r = await n.proc.stop(5_000);
    assert.equal(r.code, 0, `${n.name} exited cleanly:\n${n.proc.output.slice(-2000)}`);
  }
}

/** One ping; true if answered within a second. */
export async function pingOnce(from: Netns, to: string): Promise<boolean> {
  const r = await from.exec('ping', ['-6', '-c', '1', '-W', '1', to], { timeoutMs: 5_000 });
  return r.code === 0;
}

/** Pings until answered; resolves with the ms it took, or rejects at the deadline. */
export async function pingUntilAnswered(from: Netns, to: string, deadlineMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < deadlineMs) {
    if (await pingOnce(from, to)) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ping answer from ${to} within ${deadlineMs} ms`);
}

/** Three pings 200 ms apart, all answered (rejects otherwise). */
export async function pingSteady(from: Netns, to: string): Promise<void> {
  const out = await from.run('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', to]);
  assert.match(out, /3 packets transmitted, 3 received/);
}

export interface SelectedRoute {
  subnet: string;
  nextHop: string;
  metric: number | 'infinite';
  seqno: number;
}

/** `hypha routes selected --json`, run inside the node's namespace against its own API. */
export async function selectedRoutes(n: HyphaNetnsNode): Promise<SelectedRoute[]> {
  const r = await n.ns.exec(process.execPath, [HYPHA_BIN, 'routes', 'selected', '--json', '--api-addr', NETNS_API, '--data-dir', n.dataDir]);
  if (r.code !== 0) throw new Error(`hypha routes selected in ${n.name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SelectedRoute[];
}

/** The selected route `from` has to `to`'s /64, or undefined. */
export async function routeTo(from: HyphaNetnsNode, to: HyphaNetnsNode): Promise<SelectedRoute | undefined> {
  const dst = parseIpv6(to.address);
  assert.ok(dst, to.address);
  return (await selectedRoutes(from)).find((x) => {
    const net = parseIpv6(x.subnet.split('/')[0]);
    return net !== undefined && Buffer.from(net.subarray(0, 8)).equals(dst.subarray(0, 8));
  });
}

/** True if a route's next hop is the link to `ipv6` (a native link or a Mycelium link alike). */
export function viaAddress(r: SelectedRoute, ipv6: string): boolean {
  return r.nextHop.includes(`[${ipv6}]:`);
}

/** Waits until `from` has a selected route to `to` whose next hop satisfies `ok`; resolves with it. */
export function waitForRoute(from: HyphaNetnsNode, to: HyphaNetnsNode, what: string, ok: (r: SelectedRoute) => boolean = () => true, timeoutMs = 60_000): Promise<SelectedRoute> {
  return waitFor(`${from.name}: ${what}`, async () => {
    const r = await routeTo(from, to);
    return r !== undefined && ok(r) ? r : undefined;
  }, timeoutMs, 250);
}

/**
 * A TCP echo server on `server`'s overlay address and a client in `client`'s namespace that sends `bytes`
 * random bytes and reads them back; resolves with what the client got.
 */
export async function tcpEchoOverOverlay(server: HyphaNetnsNode, client: Netns, bytes: number, port = 7777): Promise<{ bytes: number; same: boolean }> {
  const srv = server.ns.spawn(process.execPath, ['-e', `
    const net = require('node:net');
    net.createServer((s) => s.pipe(s)).listen(${port}, '${server.address}', () => console.log('listening'));`]);
  try {
    await srv.waitForOutput('listening');
    const r = await client.exec(process.execPath, ['-e', `
      const net = require('node:net');
      const crypto = require('node:crypto');
      const data = crypto.randomBytes(${bytes});
      const got = [];
      const c = net.connect({ host: '${server.address}', port: ${port} }, () => c.end(data));
      c.on('data', (b) => got.push(b));
      c.on('end', () => console.log(JSON.stringify({ bytes: Buffer.concat(got).length, same: Buffer.concat(got).equals(data) })));
      c.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(1); });`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout.trim()) as { bytes: number; same: boolean };
  } finally {
    await srv.stop();
  }
}

export interface PingReply {
  seq: number;
  /** Wall-clock ms at which the reply arrived (ping -D). */
  atMs: number;
  /** Wall-clock ms at which the request was sent (arrival minus round trip). */
  sentAtMs: number;
}

/** `ping -6 -D -i <interval>` running until stopped; its replies parsed as they arrive. */
export class ContinuousPing {
  readonly proc: NetnsProcess;
  readonly intervalMs: number;

  private constructor(proc: NetnsProcess, intervalMs: number) {
    this.proc = proc;
    this.intervalMs = intervalMs;
  }

  static start(from: Netns, to: string, intervalMs = 200): ContinuousPing {
    return new ContinuousPing(from.spawn('ping', ['-6', '-D', '-n', '-i', String(intervalMs / 1000), to]), intervalMs);
  }

  replies(): PingReply[] {
    return parsePingReplies(this.proc.stdout);
  }

  /** Resolves with the first reply to a request sent after wall-clock `afterMs`. */
  waitForReplyAfter(afterMs: number, timeoutMs: number): Promise<PingReply> {
    return waitFor(`a ping reply after ${new Date(afterMs).toISOString()}`, () => this.replies().find((r) => r.sentAtMs > afterMs), timeoutMs, 100);
  }

  stop(): Promise<unknown> {
    return this.proc.stop();
  }
}

/** Replies in the output of `ping -D`: "[1700000000.123456] 64 bytes from …: icmp_seq=7 ttl=64 time=0.512 ms". */
export function parsePingReplies(stdout: string): PingReply[] {
  const out: PingReply[] = [];
  for (const m of stdout.matchAll(/^\[(\d+(?:\.\d+)?)\] \d+ bytes from \S+ icmp_seq=(\d+) .*?time=([\d.]+) ms/gm)) {
    const atMs = Number(m[1]) * 1000;
    out.push({ seq: Number(m[2]), atMs, sentAtMs: atMs - Number(m[3]) });
  }
  return out;
}

export interface Outage {
  /** From the cut to the sending of the first echo request answered after it (as bench/reroute-native counts). */
  outageMs: number;
  /** Between the last reply to a request sent before the cut and the first reply after it: what someone watching ping sees. */
  gapMs: number;
  /** Echo requests never answered, up to the first one answered after the cut. */
  lostPings: number;
}

/** The outage a cut at wall-clock `cutAtMs` caused, from a continuous ping's replies. */
export function outageFrom(replies: readonly PingReply[], cutAtMs: number): Outage {
  const resumed = replies.find((r) => r.sentAtMs > cutAtMs);
  if (resumed === undefined) throw new Error('no ping reply to a request sent after the cut');
  const before = replies.filter((r) => r.sentAtMs <= cutAtMs).at(-1);
  const answered = new Set(replies.filter((r) => r.seq < resumed.seq).map((r) => r.seq));
  return {
    outageMs: resumed.sentAtMs - cutAtMs,
    gapMs: resumed.atMs - (before?.atMs ?? cutAtMs),
    lostPings: resumed.seq - 1 - answered.size,
  };
}

export type SquareKind = 'native' | 'mycelium';

export interface SquareResult extends Outage {
  /** "B" or "C": the first hop A's traffic to D took before the cut, and after it. */
  before: string;
  after: string;
  /** Time until A's first ping to D was answered, route discovery included. */
  firstPingMs: number;
}

/**
 * Issue #6's reroute measurement with real processes: the square A–B–D, A–C–D of native links (`kind`
 * 'native': every node runs the overlay on native links only) or of Mycelium tcp:// links ('mycelium': on
 * Mycelium links only, with Mycelium's timers). A pings D every 200 ms; the first link of the path A's
 * routes show is taken down (silently: no FIN, no RST); the outage is read from the ping output. Resolves
 * once pings are answered again through the other side and every node stopped cleanly, or rejects after
 * `rerouteDeadlineMs` without an answer.
 */
export async function rerouteSquare(lab: NetnsLab, base: string, kind: SquareKind, rerouteDeadlineMs: number): Promise<SquareResult> {
  const [nsA, nsB, nsC, nsD] = [0, 1, 2, 3].map((i) => lab.ns(i));
  const ab: VethLink = await lab.connect(nsA, nsB);
  const ac: VethLink = await lab.connect(nsA, nsC);
  const bd: VethLink = await lab.connect(nsB, nsD);
  const cd: VethLink = await lab.connect(nsC, nsD);
  // A dials B and C; B and C dial D. Each namespace reaches only its direct neighbours at the IP level, so
  // peer exchange cannot add a link (a dial to a learned address fails at once).
  const start = (name: string, ns: Netns, listen: string | undefined, dial: string[]) =>
    startHyphaInNetns(kind === 'native'
      ? { name, ns, dataDir: join(base, name), overlayLinks: 'native', listen, bootstrap: dial.map(nativeAddr) }
      : { name, ns, dataDir: join(base, name), overlayLinks: 'mycelium', peers: dial.map(myceliumEndpoint) });
  const [d, b, c] = await Promise.all([
    start('D', nsD, `[::]:${NATIVE_PORT}`, []),
    start('B', nsB, nativeAddr(ab.b.ipv6), [bd.b.ipv6]),
    start('C', nsC, nativeAddr(ac.b.ipv6), [cd.b.ipv6]),
  ]);
  const a = await start('A', nsA, undefined, [ab.b.ipv6, ac.b.ipv6]);
  const firstPingMs = await pingUntilAnswered(nsA, d.address, 60_000);
  const hopName = (r: SelectedRoute): string | undefined => (viaAddress(r, ab.b.ipv6) ? 'B' : viaAddress(r, ac.b.ipv6) ? 'C' : undefined);

  const ping = ContinuousPing.start(nsA, d.address);
  try {
    await waitFor('steady pings A → D', () => ping.replies().length >= 5, 30_000, 100);
    // The path in use right now, by the next hop's address on A's veths: that link is cut.
    const route = await waitForRoute(a, d, 'a route to D through B or C', (r) => hopName(r) !== undefined);
    const before = hopName(route)!;
    const cutAtMs = Date.now();
    await (before === 'B' ? ab : ac).down();
    await ping.waitForReplyAfter(cutAtMs, rerouteDeadlineMs);
    const outage = outageFrom(ping.replies(), cutAtMs);
    const after = await waitForRoute(a, d, 'a route to D through the other side', (r) => hopName(r) !== undefined && hopName(r) !== before);
    const n = ping.replies().length;
    await waitFor('pings keep coming after the reroute', () => ping.replies().length >= n + 3, 30_000, 100);
    await ping.stop();
    await stopCleanly([a, b, c, d]);
    return { ...outage, before, after: hopName(after)!, firstPingMs };
  } finally {
    await ping.stop();
  }
}
