// Every configuration key, in one table: its type, default, flag, environment variable, help and checks.
// The TOML sections, the typed Config, the command-line flags, `--help` and the README's example file are
// all generated from it, so adding a key is adding one entry here (a top-level key, such as Mycelium's
// `peers`, sits at the top of CONFIG_SCHEMA instead of inside a section).
//
// Section and key names are Micelio's (reference §6), so a Micelio config.toml loads as it is.
import {
  durationType,
  enumType,
  intType,
  listenAddressType,
  listType,
  pathType,
  peerAddressType,
  stringType,
  type ConfigContext,
  type ValueType,
} from './types.ts';

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

export const DEFAULT_DATA_DIR = '~/.hypha';
export const DATA_DIR_ENV = 'HYPHA_DATA_DIR';

export const LOG_LEVEL_VALUES = ['debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMAT_VALUES = ['text', 'json'] as const;

export const CONFIG_SCHEMA = {
  topic_config: option({
    type: pathType({ allowEmpty: true }),
    default: '',
    help: 'message-bus topic file in Mycelium\'s format (default action, allowed sources, forward sockets); "" = none',
    flag: 'topic-config',
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
    paths: ['network.idle_timeout', 'network.keepalive_interval'],
    check: (c) =>
      c.network.idle_timeout > c.network.keepalive_interval
        ? undefined
        : { path: 'network.idle_timeout', message: 'must be longer than network.keepalive_interval, or quiet links are dropped between keepalives' },
  },
  {
    paths: ['network.max_known_peers', 'network.max_peers'],
    check: (c) =>
      c.network.max_peers === 0 || c.network.max_known_peers >= c.network.max_peers
        ? undefined
        : { path: 'network.max_known_peers', message: `must be at least network.max_peers (${c.network.max_peers})` },
  },
];
