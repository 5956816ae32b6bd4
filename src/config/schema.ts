// Every configuration key, in one table: its type, default, flag, environment variable, help and checks.
// The TOML sections, the typed Config, the command-line flags, `--help` and the README's example file are
// all generated from it, so adding a key is adding one entry here (a top-level key, such as Mycelium's
// `peers`, sits at the top of CONFIG_SCHEMA instead of inside a section).
//
// Section and key names are Micelio's (reference §6), so a Micelio config.toml loads as it is. The top-level
// keys are Mycelium's, with its names and flags (mycelium reference §6), so the node part of a mycelium.toml
// loads too.
import {
  boolType,
  durationType,
  enumType,
  interfaceNameType,
  intType,
  listenAddressType,
  listType,
  myceliumEndpointType,
  pathType,
  peerAddressType,
  stringType,
  type ConfigContext,
  type ValueType,
} from './types.ts';
import { NETWORK_NAME_MAX_BYTES, NETWORK_NAME_MIN_BYTES } from '../link/network-name.ts';

export interface OptionSpec<T> {
  readonly kind: 'option';
  readonly type: ValueType<T>;
  /** The default in TOML form ("30s", not 30000), parsed like a file value; a function for computed ones. */
  readonly default: unknown | ((ctx: ConfigContext) => unknown);
  /** How --help shows a computed default. */
  readonly defaultText?: string;
  readonly help: string;
  /** Long flag name without the dashes; omitted = file only. */
  readonly flag?: string;
  /** One-letter alias, without the dash. */
  readonly short?: string;
  /** Environment variable that sets this key (between the file and the flags in precedence). */
  readonly env?: string;
}

export function option<T>(spec: Omit<OptionSpec<T>, 'kind'>): OptionSpec<T> {
  return { kind: 'option', ...spec };
}

export interface SchemaSection {
  readonly [key: string]: OptionSpec<unknown> | SchemaSection;
}

/** The typed configuration a schema describes: sections become objects, options their values. */
export type ConfigOf<S> = {
  readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : ConfigOf<S[K]>;
};

/** Timers cannot be longer than 2^31−1 ms (Node fires longer ones at once); keep a day as the ceiling. */
const MAX_TIMER_MS = 86_400_000;
const MAX_TTL_MS = 10 * 365 * 86_400_000;

/** Key + value bytes one state entry may carry and still fit a 64 KiB gossip payload (state/limits.ts). */
export const MAX_STATE_KEY_PLUS_VALUE_BYTES = 64_256;

export const DEFAULT_DATA_DIR = '~/.hypha';
export const DATA_DIR_ENV = 'HYPHA_DATA_DIR';

export const LOG_LEVEL_VALUES = ['debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMAT_VALUES = ['text', 'json'] as const;
export const OVERLAY_LINKS_VALUES = ['both', 'native', 'mycelium'] as const;

/** Mycelium's default ports (reference §2.2, §2.5). */
export const MYCELIUM_TCP_LISTEN_PORT = 9651;
export const MYCELIUM_DISCOVERY_PORT = 9650;
export const DEFAULT_API_ADDR = '127.0.0.1:8989';
export const DEFAULT_JSONRPC_ADDR = '127.0.0.1:8990';

function networkNameCheck(s: string): string | undefined {
  if (s === '') return undefined;
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes < NETWORK_NAME_MIN_BYTES || bytes > NETWORK_NAME_MAX_BYTES) {
    return `is ${bytes} byte${bytes === 1 ? '' : 's'}; a network name is ${NETWORK_NAME_MIN_BYTES}–${NETWORK_NAME_MAX_BYTES} bytes`;
  }
  if (s.includes('\0')) return 'must not contain NUL';
  return undefined;
}

export const CONFIG_SCHEMA = {
  // ---- The overlay (Mycelium): top-level keys with Mycelium's names, flags and defaults.
  peers: option({
    type: listType(myceliumEndpointType(), { maxItems: 256 }),
    default: [],
    help: 'Mycelium peers to connect to and keep connected: tcp://IP:PORT, tcp://[IPv6]:PORT, tls://… in a private network; quic://… are skipped (repeatable or comma-separated)',
    flag: 'peers',
  }),
  tcp_listen_port: option({
    type: intType({ min: 0, max: 65_535 }),
    default: MYCELIUM_TCP_LISTEN_PORT,
    help: 'TCP port for Mycelium peers, on every interface ([::]); 0 = any free port',
    flag: 'tcp-listen-port',
    short: 't',
  }),
  quic_listen_port: option({
    type: intType({ min: 0, max: 65_535 }),
    default: MYCELIUM_TCP_LISTEN_PORT,
    help: 'accepted for compatibility with Mycelium and ignored: Hypha has no QUIC',
    flag: 'quic-listen-port',
    short: 'q',
  }),
  disable_quic: option({
    type: boolType(),
    default: false,
    help: 'accepted for compatibility with Mycelium; Hypha never uses QUIC',
    flag: 'disable-quic',
  }),
  peer_discovery_port: option({
    type: intType({ min: 0, max: 65_535 }),
    default: MYCELIUM_DISCOVERY_PORT,
    help: 'UDP port of link-local peer discovery (beacons to [ff02::cafe])',
    flag: 'peer-discovery-port',
  }),
  disable_peer_discovery: option({
    type: boolType(),
    default: false,
    help: 'do not announce this node on the local links nor connect to nodes found there',
    flag: 'disable-peer-discovery',
  }),
  peer_discovery_interfaces: option({
    type: listType(interfaceNameType(), { maxItems: 64 }),
    default: [],
    help: 'announce and listen for peers on these interfaces only; none = every interface with a link-local address',
    flag: 'peer-discovery-interface',
  }),
  no_tun: option({
    type: boolType(),
    default: false,
    help: 'no TUN device: route and carry messages, but this host sends and receives no overlay packets',
    flag: 'no-tun',
  }),
  tun_name: option({
    type: interfaceNameType(),
    default: 'hypha0',
    help: 'name of the TUN interface',
    flag: 'tun-name',
  }),
  network_name: option({
    type: stringType({ allowEmpty: true, check: networkNameCheck }, '<name>'),
    default: '',
    help: 'private network name (2–64 bytes), with network_key_file: every link is TLS with the shared key',
    flag: 'network-name',
  }),
  network_key_file: option({
    type: pathType({ allowEmpty: true }),
    default: '',
    help: 'file holding the private network\'s 32-byte key (head -c 32 /dev/urandom > network.key), with network_name',
    flag: 'network-key-file',
  }),
  api_addr: option({
    type: listenAddressType(),
    default: DEFAULT_API_ADDR,
    help: 'HTTP API address (under /api/v1); "" turns the API off',
    flag: 'api-addr',
  }),
  jsonrpc_addr: option({
    type: listenAddressType(),
    default: DEFAULT_JSONRPC_ADDR,
    help: 'JSON-RPC 2.0 address (HTTP POST and WebSocket, Mycelium\'s methods); "" turns it off',
    flag: 'jsonrpc-addr',
  }),
  api_token_file: option({
    type: pathType({ allowEmpty: true }),
    default: '',
    help: 'file holding a bearer token every API request must carry; "" = no token',
    flag: 'api-token-file',
  }),
  topic_config: option({
    type: pathType({ allowEmpty: true }),
    default: '',
    help: 'message-bus topic file in Mycelium\'s format (default action, allowed sources, forward sockets); "" = none',
    flag: 'topic-config',
  }),
  metrics_api_address: option({
    type: listenAddressType(),
    default: '',
    help: 'Prometheus metrics address, served at /metrics (e.g. 127.0.0.1:9990); "" = no metrics',
    flag: 'metrics-api-address',
  }),
  node: {
    name: option({
      type: stringType({ maxLength: 64, printable: true }, '<name>'),
      default: (ctx: ConfigContext) => ctx.hostname || 'hypha',
      defaultText: "this host's name",
      help: 'node name, shown in the SSH partyline banner',
      flag: 'name',
    }),
    tags: option({
      type: listType(stringType({ maxLength: 64, printable: true }, '<tag>'), { maxItems: 64 }),
      default: [],
      help: 'tags sent to peers in the hello',
      flag: 'tags',
    }),
    data_dir: option({
      type: pathType(),
      default: DEFAULT_DATA_DIR,
      help: 'directory for config.toml, identity/ and hypha.lmdb/',
      flag: 'data-dir',
      env: DATA_DIR_ENV,
    }),
  },
  ssh: {
    listen: option({
      type: listenAddressType(),
      default: '127.0.0.1:2222',
      help: 'SSH partyline address; "" disables it (Micelio binds 0.0.0.0, Hypha only loopback)',
      flag: 'ssh-listen',
    }),
    max_sessions: option({
      type: intType({ min: 1, max: 10_000 }),
      default: 64,
      help: 'most concurrent partyline sessions; more are refused with a message',
      flag: 'ssh-max-sessions',
    }),
    idle_timeout: option({
      type: durationType({ minMs: 0, maxMs: MAX_TIMER_MS }),
      default: '30m',
      help: 'a partyline session with no input this long is closed; 0 = never',
      flag: 'ssh-idle-timeout',
    }),
  },
  network: {
    listen: option({
      type: listenAddressType(),
      default: '0.0.0.0:4000',
      help: 'native (Micelio) link listener; "" = outbound only; ":4000" = all interfaces',
      flag: 'listen',
    }),
    advertise_addr: option({
      type: peerAddressType({ allowEmpty: true }),
      default: '',
      help: 'address peers should dial to reach this node; "" = the listen address unless it is a wildcard',
      flag: 'advertise-addr',
    }),
    bootstrap: option({
      type: listType(peerAddressType(), { maxItems: 256 }),
      default: [],
      help: 'peers to dial at start and redial with backoff (host:port, repeatable or comma-separated)',
      flag: 'bootstrap',
    }),
    max_peers: option({
      type: intType({ min: 0, max: 100_000 }),
      default: 15,
      help: 'most connected peers; 0 = unlimited',
      flag: 'max-peers',
    }),
    max_known_peers: option({
      type: intType({ min: 1, max: 1_000_000 }),
      default: 1000,
      help: 'most peers remembered in the peer table (oldest evicted first)',
      flag: 'max-known-peers',
    }),
    exchange_interval: option({
      type: durationType({ zeroMeansMs: 30_000, minMs: 100, maxMs: MAX_TIMER_MS }),
      default: '30s',
      help: 'how often peer lists are exchanged; 0 = default',
      flag: 'exchange-interval',
    }),
    discovery_interval: option({
      type: durationType({ zeroMeansMs: 10_000, minMs: 100, maxMs: MAX_TIMER_MS }),
      default: '10s',
      help: 'how often to dial newly learned peers; 0 = default',
      flag: 'discovery-interval',
    }),
    peer_ttl: option({
      type: durationType({ minMs: 60_000, maxMs: MAX_TTL_MS }),
      default: '7d',
      help: 'peers unseen this long are dropped from the peer table',
      flag: 'peer-ttl',
    }),
    keepalive_interval: option({
      type: durationType({ minMs: 10, maxMs: MAX_TIMER_MS }),
      default: '20s',
      help: 'keepalive sent on a link quiet this long',
      flag: 'keepalive-interval',
    }),
    idle_timeout: option({
      type: durationType({ minMs: 10, maxMs: MAX_TIMER_MS }),
      default: '60s',
      help: 'a link that receives nothing this long is closed',
      flag: 'idle-timeout',
    }),
    write_timeout: option({
      type: durationType({ minMs: 10, maxMs: MAX_TIMER_MS }),
      default: '10s',
      help: 'a link whose writes stall this long is closed',
      flag: 'write-timeout',
    }),
    handshake_timeout: option({
      type: durationType({ minMs: 10, maxMs: MAX_TIMER_MS }),
      default: '10s',
      help: 'deadline for the Noise handshake and the hello exchange',
      flag: 'handshake-timeout',
    }),
  },
  overlay: {
    links: option({
      type: enumType(OVERLAY_LINKS_VALUES),
      default: 'both',
      help: 'which links carry the overlay: "both", "native" (Noise links to Hypha peers only; no Mycelium listener, peers or discovery) or "mycelium" (Mycelium links only)',
      flag: 'overlay-links',
    }),
    native_hello_interval: option({
      type: durationType({ minMs: 100, maxMs: 60_000 }),
      default: '1s',
      help: 'Babel Hello interval on native links to Hypha peers; a silent link is routed around after about 3.5 of them (Mycelium links keep Mycelium\'s 20 s)',
      flag: 'native-hello-interval',
    }),
  },
  state: {
    tombstone_ttl: option({
      type: durationType({ minMs: 60_000, maxMs: MAX_TTL_MS }),
      default: '24h',
      help: 'a deleted key is remembered this long (by its timestamp) so the deletion reaches every node',
      flag: 'state-tombstone-ttl',
    }),
    gc_interval: option({
      type: durationType({ minMs: 1_000, maxMs: MAX_TIMER_MS }),
      default: '1h',
      help: 'how often expired tombstones are removed from memory and disk',
      flag: 'state-gc-interval',
    }),
    sync_interval: option({
      type: durationType({ minMs: 100, maxMs: MAX_TIMER_MS }),
      default: '10s',
      help: 'how often the state is compared with one random peer (anti-entropy); also on every connect',
      flag: 'state-sync-interval',
    }),
    controllers: option({
      type: listType(stringType({ check: (s) => (/^[0-9a-f]{64}$/.test(s) ? undefined : 'must be a node id (64 lowercase hex characters)') }, '<node_id>'), { maxItems: 256 }),
      default: [],
      help: 'node ids whose desired state this node follows',
      flag: 'state-controllers',
    }),
    auto_observe: option({
      type: boolType(),
      default: true,
      help: 'report each effective desired value as observed as soon as it is adopted (plugins that apply values turn this off)',
      flag: 'state-auto-observe',
    }),
    max_key_bytes: option({
      type: intType({ min: 70, max: 480 }),
      default: 256,
      help: 'longest key "<node_id>/<subkey>" in UTF-8 bytes',
      flag: 'state-max-key-bytes',
    }),
    max_value_bytes: option({
      type: intType({ min: 0, max: 60_000 }),
      default: 4096,
      help: 'largest value in bytes',
      flag: 'state-max-value-bytes',
    }),
    max_entries_per_owner: option({
      type: intType({ min: 8, max: 1_000_000 }),
      default: 10_000,
      help: 'most entries (tombstones included) one node may have in the state',
      flag: 'state-max-entries-per-owner',
    }),
    max_entries: option({
      type: intType({ min: 8, max: 10_000_000 }),
      default: 100_000,
      help: 'most entries in the state, all nodes together',
      flag: 'state-max-entries',
    }),
    max_bytes: option({
      type: intType({ min: 65_536, max: 4_294_967_296 }),
      default: 67_108_864,
      help: 'most bytes (encoded entries) the state may hold',
      flag: 'state-max-bytes',
    }),
  },
  logging: {
    level: option({
      type: enumType(LOG_LEVEL_VALUES, { warning: 'warn' }),
      default: 'info',
      help: 'log level',
      flag: 'log-level',
      env: 'HYPHA_LOG_LEVEL',
    }),
    format: option({
      type: enumType(LOG_FORMAT_VALUES),
      default: 'text',
      help: 'log format (to stderr)',
      flag: 'log-format',
      env: 'HYPHA_LOG_FORMAT',
    }),
  },
} as const satisfies SchemaSection;

export type Config = ConfigOf<typeof CONFIG_SCHEMA>;
/** Sections, for parts that take only theirs (the peer manager takes NetworkConfig). Durations are ms. */
export type NodeConfig = Config['node'];
export type SshConfig = Config['ssh'];
export type NetworkConfig = Config['network'];
export type LoggingConfig = Config['logging'];
export type StateConfig = Config['state'];
export type OverlayConfig = Config['overlay'];
/** Whether the node runs in a private network (both keys set; CROSS_CHECKS make it both or neither). */
export function isPrivateNetwork(c: Pick<Config, 'network_name' | 'network_key_file'>): boolean {
  return c.network_name !== '' && c.network_key_file !== '';
}

export interface OptionEntry {
  /** Dotted field path: "network.listen", or "peers" for a top-level key. */
  path: string;
  spec: OptionSpec<unknown>;
}

export function isOption(x: OptionSpec<unknown> | SchemaSection): x is OptionSpec<unknown> {
  return (x as { kind?: unknown }).kind === 'option';
}

/** Every option of a schema with its path, in table order. */
export function listOptions(schema: SchemaSection = CONFIG_SCHEMA, prefix = ''): OptionEntry[] {
  const out: OptionEntry[] = [];
  for (const [key, value] of Object.entries(schema)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isOption(value)) out.push({ path, spec: value });
    else out.push(...listOptions(value, path));
  }
  return out;
}

/** Cross-key rules; each runs only when the keys it reads parsed cleanly. */
export interface CrossCheck {
  paths: readonly string[];
  check(config: Config): { path: string; message: string } | undefined;
}

export const CROSS_CHECKS: readonly CrossCheck[] = [
  {
    paths: ['network_name', 'network_key_file'],
    check: (c) => {
      if (c.network_name !== '' && c.network_key_file === '') {
        return { path: 'network_key_file', message: 'is missing: network_name needs the network\'s key file too (--network-key-file)' };
      }
      if (c.network_name === '' && c.network_key_file !== '') {
        return { path: 'network_name', message: 'is missing: network_key_file needs the network\'s name too (--network-name)' };
      }
      return undefined;
    },
  },
  {
    paths: ['peers', 'network_name', 'network_key_file'],
    check: (c) => {
      if (isPrivateNetwork(c)) return undefined;
      const i = c.peers.findIndex((p) => p.startsWith('tls://'));
      return i < 0 ? undefined : { path: `peers[${i}]`, message: `${c.peers[i]}: tls:// peers belong to a private network; set network_name and network_key_file, or use tcp://` };
    },
  },
  {
    paths: ['network.idle_timeout', 'network.keepalive_interval'],
    check: (c) =>
      c.network.idle_timeout > c.network.keepalive_interval
        ? undefined
        : { path: 'network.idle_timeout', message: 'must be longer than network.keepalive_interval, or quiet links are dropped between keepalives' },
  },
  {
    paths: ['state.max_key_bytes', 'state.max_value_bytes'],
    check: (c) =>
      c.state.max_key_bytes + c.state.max_value_bytes <= MAX_STATE_KEY_PLUS_VALUE_BYTES
        ? undefined
        : { path: 'state.max_value_bytes', message: `max_key_bytes + max_value_bytes must be at most ${MAX_STATE_KEY_PLUS_VALUE_BYTES}, so every entry fits one gossip message` },
  },
  {
    paths: ['state.max_entries_per_owner', 'state.max_entries'],
    check: (c) =>
      c.state.max_entries_per_owner <= c.state.max_entries
        ? undefined
        : { path: 'state.max_entries_per_owner', message: `must be at most state.max_entries (${c.state.max_entries})` },
  },
  {
    paths: ['network.max_known_peers', 'network.max_peers'],
    check: (c) =>
      c.network.max_peers === 0 || c.network.max_known_peers >= c.network.max_peers
        ? undefined
        : { path: 'network.max_known_peers', message: `must be at least network.max_peers (${c.network.max_peers})` },
  },
];
