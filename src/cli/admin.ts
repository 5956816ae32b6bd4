// The CLI commands that talk to a running node over its HTTP API, as Mycelium's CLI does (reference §6):
// `hypha peers list|add|remove`, `hypha routes selected|fallback|queried`, `hypha stats packets`. Each prints
// a table, or with --json the API's JSON. The API address and token come from --api-addr/--api-token-file,
// else from the node's config (the data dir's config.toml, or -c), else the default 127.0.0.1:8989.
import { ApiClient, ApiStatusError, ApiUnreachableError, statusError } from '../api/client.ts';
import type { HyphaPeers, PacketStatistics, PeerStats, QueriedSubnet, Route } from '../api/services.ts';
import { formatHostPort, isWildcardHost, splitHostPort } from '../config/hostport.ts';
import { ConfigError, loadConfig, type FlagValue } from '../config/load.ts';
import { readApiTokenFile } from '../config/secret-files.ts';
import type { CliIo } from './io.ts';
import { formatBytes, formatTable } from './table.ts';

export interface ClientArgs {
  apiAddr?: string;
  apiTokenFile?: string;
  dataDir?: string;
  configPath?: string;
  json: boolean;
  io: CliIo;
  /** How long a request may take (default DEFAULT_CLIENT_TIMEOUT_MS). */
  timeoutMs?: number;
}

type Connected = { ok: true; client: ApiClient } | { ok: false; code: number };

/** Where the API is and which token to send: flags, else the node's config, else the defaults. */
async function connect(cmd: string, args: ClientArgs): Promise<Connected> {
  const { io } = args;
  const flags: Record<string, FlagValue> = {};
  if (args.apiAddr !== undefined) flags.api_addr = args.apiAddr;
  if (args.apiTokenFile !== undefined) flags.api_token_file = args.apiTokenFile;
  if (args.dataDir !== undefined) flags['node.data_dir'] = args.dataDir;
  let addr: string;
  let tokenFile: string;
  try {
    const { config } = await loadConfig({ configPath: args.configPath, flags, env: io.env });
    addr = config.api_addr;
    tokenFile = config.api_token_file;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr(`hypha ${cmd}: ${e.message}\n`);
    return { ok: false, code: 2 };
  }
  if (addr === '') {
    io.stderr(`hypha ${cmd}: the node's HTTP API is turned off (api_addr = ""); give its address with --api-addr\n`);
    return { ok: false, code: 2 };
  }
  const hp = splitHostPort(addr);
  if (!hp.ok || hp.value.port === 0) {
    io.stderr(`hypha ${cmd}: --api-addr ${JSON.stringify(addr)}: ${hp.ok ? 'port 0 cannot be dialled' : hp.error.message}\n`);
    return { ok: false, code: 2 };
  }
  // A node listening on every interface is reached on loopback.
  const host = isWildcardHost(hp.value.host) ? (hp.value.host.includes(':') ? '::1' : '127.0.0.1') : hp.value.host;
  let token: string | undefined;
  if (tokenFile !== '') {
    const t = await readApiTokenFile(tokenFile);
    if (!t.ok) {
      io.stderr(`hypha ${cmd}: --api-token-file: ${t.error.message}\n`);
      return { ok: false, code: 2 };
    }
    token = t.value;
  }
  return { ok: true, client: new ApiClient({ address: formatHostPort({ host, port: hp.value.port }), token, timeoutMs: args.timeoutMs }) };
}

/** Runs `body` with a client; unreachable node and error statuses become a message and exit code 1. */
export async function withClient(cmd: string, args: ClientArgs, body: (c: ApiClient) => Promise<number>): Promise<number> {
  const c = await connect(cmd, args);
  if (!c.ok) return c.code;
  try {
    return await body(c.client);
  } catch (e) {
    if (e instanceof ApiUnreachableError || e instanceof ApiStatusError) {
      args.io.stderr(`hypha ${cmd}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** What `hypha peers list` prints when the node has no /hypha/peers (a Mycelium node): its Mycelium peers alone. */
function fromMyceliumPeers(peers: readonly PeerStats[]): HyphaPeers {
  return {
    overlayLinks: 'mycelium',
    native: [],
    mycelium: peers.map((p) => ({
      endpoint: `${p.endpoint.proto}://${p.endpoint.addr.socket}`,
      type: p.type,
      connectionState: p.connectionState,
      linkCost: null,
      link: null,
      txBytes: p.txBytes,
      rxBytes: p.rxBytes,
    })),
  };
}

/** A node without /hypha/peers is told apart in the table's footnote. */
const MYCELIUM_NODE_NOTE = 'the node has no /api/v1/hypha/peers (a Mycelium node?): its Mycelium peers, without link costs\n';

/**
 * Native and Mycelium peers in one table: a row per peer with its kind and the router's link cost, and a
 * footnote when only one kind of link carries the overlay (or `note`, when given).
 */
export function formatPeers(p: HyphaPeers, note?: string): string {
  if (p.native.length === 0 && p.mycelium.length === 0) {
    const how = p.overlayLinks === 'native'
      ? 'give native peers with --bootstrap'
      : 'add a Mycelium peer with `hypha peers add tcp://IP:PORT`, or give native peers with --bootstrap';
    return `no peers (${how})\n`;
  }
  const cost = (c: number | null) => (c === null ? '-' : String(c));
  const rows: string[][] = [
    ...p.native.map((n) => ['native', n.nodeId.slice(0, 16), n.address, n.direction, 'alive', n.version, cost(n.linkCost), formatBytes(n.rxBytes), formatBytes(n.txBytes)]),
    ...p.mycelium.map((m) => ['mycelium', '-', m.endpoint, m.type, m.connectionState, '-', cost(m.linkCost), formatBytes(m.rxBytes), formatBytes(m.txBytes)]),
  ];
  const table = formatTable(
    [{ header: 'Kind' }, { header: 'Peer' }, { header: 'Address' }, { header: 'Type' }, { header: 'State' }, { header: 'Version' },
      { header: 'Cost', align: 'right' }, { header: 'Rx total', align: 'right' }, { header: 'Tx total', align: 'right' }],
    rows,
  );
  const modeNote = p.overlayLinks === 'native'
    ? 'the overlay runs on native links only (overlay.links = "native"): no Mycelium links\n'
    : p.overlayLinks === 'mycelium'
      ? 'the overlay runs on Mycelium links only (overlay.links = "mycelium"): native links carry chat and gossip, no overlay\n'
      : '';
  return table + (note ?? modeNote);
}

export function peersList(args: ClientArgs): Promise<number> {
  return withClient('peers list', args, async (client) => {
    let peers: HyphaPeers;
    let note: string | undefined;
    try {
      peers = await client.getJson<HyphaPeers>('/hypha/peers');
    } catch (e) {
      // Not a Hypha node (Mycelium's API): list its Mycelium peers the same way, without costs.
      if (!(e instanceof ApiStatusError && e.status === 404)) throw e;
      peers = fromMyceliumPeers(await client.getJson<PeerStats[]>('/admin/peers'));
      note = MYCELIUM_NODE_NOTE;
    }
    if (args.json) printJson(args.io, peers);
    else args.io.stdout(formatPeers(peers, note));
    return 0;
  });
}

/** `peers add` / `peers remove`: one request per endpoint; every failure is reported, exit 1 if any. */
function changePeers(cmd: 'add' | 'remove', args: ClientArgs, endpoints: readonly string[]): Promise<number> {
  return withClient(`peers ${cmd}`, args, async (client) => {
    const results: { endpoint: string; ok: boolean; status: number; message?: string }[] = [];
    for (const endpoint of endpoints) {
      const r = cmd === 'add'
        ? await client.request('POST', '/admin/peers', { endpoint })
        : await client.request('DELETE', `/admin/peers/${encodeURIComponent(endpoint)}`);
      const ok = r.status === 204;
      results.push({ endpoint, ok, status: r.status, ...(ok ? {} : { message: statusError(r).message }) });
      if (!args.json) {
        if (ok) args.io.stdout(`${cmd === 'add' ? 'added' : 'removed'} ${endpoint}\n`);
        else args.io.stderr(`hypha peers ${cmd} ${endpoint}: ${statusError(r).message}\n`);
      }
    }
    if (args.json) printJson(args.io, results);
    return results.every((r) => r.ok) ? 0 : 1;
  });
}

export function peersAdd(args: ClientArgs, endpoints: readonly string[]): Promise<number> {
  return changePeers('add', args, endpoints);
}

export function peersRemove(args: ClientArgs, endpoints: readonly string[]): Promise<number> {
  return changePeers('remove', args, endpoints);
}

export type RouteTable = 'selected' | 'fallback' | 'queried';

export function routes(table: RouteTable, args: ClientArgs): Promise<number> {
  return withClient(`routes ${table}`, args, async (client) => {
    if (table === 'queried') {
      const q = await client.getJson<QueriedSubnet[]>('/admin/routes/queried');
      if (args.json) printJson(args.io, q);
      else if (q.length === 0) args.io.stdout('no subnets are being queried\n');
      else args.io.stdout(formatTable([{ header: 'Subnet' }, { header: 'Query expiration', align: 'right' }], q.map((x) => [x.subnet, `${x.expiration}s`])));
      return 0;
    }
    const r = await client.getJson<Route[]>(`/admin/routes/${table}`);
    if (args.json) printJson(args.io, r);
    else if (r.length === 0) args.io.stdout(`no ${table} routes\n`);
    else {
      args.io.stdout(formatTable(
        [{ header: 'Subnet' }, { header: 'Next Hop' }, { header: 'Metric', align: 'right' }, { header: 'Seq No', align: 'right' }],
        r.map((x) => [x.subnet, x.nextHop, String(x.metric), String(x.seqno)]),
      ));
    }
    return 0;
  });
}

export function statsPackets(args: ClientArgs): Promise<number> {
  return withClient('stats packets', args, async (client) => {
    const s = await client.getJson<PacketStatistics>('/admin/stats/packets');
    if (args.json) {
      printJson(args.io, s);
      return 0;
    }
    const table = (ipHeader: string, rows: PacketStatistics['bySource']) =>
      rows.length === 0
        ? '(none)\n'
        : formatTable([{ header: ipHeader }, { header: 'Packets', align: 'right' }, { header: 'Bytes', align: 'right' }],
          rows.map((e) => [e.ip, String(e.packetCount), String(e.byteCount)]));
    args.io.stdout(`Statistics by source IP:\n${table('Source IP', s.bySource)}\nStatistics by destination IP:\n${table('Destination IP', s.byDestination)}`);
    return 0;
  });
}
