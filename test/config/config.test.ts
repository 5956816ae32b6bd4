import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { buildConfig, ConfigError, loadConfig, resolveConfig, type ConfigSources } from '../../src/config/load.ts';
import { CONFIG_SCHEMA, option, type Config } from '../../src/config/schema.ts';
import { boolType, listType, peerAddressType, type ConfigContext } from '../../src/config/types.ts';
import { formatDuration, parseDuration } from '../../src/config/duration.ts';

const ctx: ConfigContext = { homeDir: '/home/u', hostname: 'box' };
const build = (s: ConfigSources = {}): Config => buildConfig({ context: ctx, ...s });
const fromToml = (text: string, s: ConfigSources = {}): Config => build({ file: { path: '/etc/h.toml', text }, ...s });

/** The problems a config produces, as the user sees them (one line each). */
function problems(s: ConfigSources): string[] {
  try {
    build(s);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.message.split('\n').slice(1).map((l) => l.trim());
  }
  return [];
}
const tomlProblems = (text: string, s: ConfigSources = {}) => problems({ file: { path: '/etc/h.toml', text }, ...s });

test('defaults', () => {
  assert.deepEqual(build(), {
    peers: [],
    tcp_listen_port: 9651,
    quic_listen_port: 9651,
    disable_quic: false,
    peer_discovery_port: 9650,
    disable_peer_discovery: false,
    peer_discovery_interfaces: [],
    no_tun: false,
    tun_name: 'hypha0',
    network_name: '',
    network_key_file: '',
    api_addr: '127.0.0.1:8989',
    jsonrpc_addr: '127.0.0.1:8990',
    api_token_file: '',
    topic_config: '',
    metrics_api_address: '',
    node: { name: 'box', tags: [], data_dir: '/home/u/.hypha' },
    ssh: { listen: '127.0.0.1:2222', max_sessions: 64, idle_timeout: 1_800_000 },
    network: {
      listen: '0.0.0.0:4000',
      advertise_addr: '',
      bootstrap: [],
      max_peers: 15,
      max_known_peers: 1000,
      exchange_interval: 30_000,
      discovery_interval: 10_000,
      peer_ttl: 7 * 86_400_000,
      keepalive_interval: 20_000,
      idle_timeout: 60_000,
      write_timeout: 10_000,
      handshake_timeout: 10_000,
    },
    overlay: { links: 'both', native_hello_interval: 1_000 },
    state: {
      tombstone_ttl: 86_400_000,
      gc_interval: 3_600_000,
      sync_interval: 10_000,
      controllers: [],
      auto_observe: true,
      max_key_bytes: 256,
      max_value_bytes: 4096,
      max_entries_per_owner: 10_000,
      max_entries: 100_000,
      max_bytes: 67_108_864,
    },
    logging: { level: 'info', format: 'text' },
  });
  assert.equal(buildConfig({ context: { homeDir: '/h', hostname: '' } }).node.name, 'hypha');
});

test("Micelio's documented config file loads as it is", () => {
  const c = fromToml(`
[node]
name = "node-eu-1"            # shown in the banner
tags = ["EU", "prod"]
data_dir = "~/.micelio"

[ssh]
listen = "0.0.0.0:2222"

[network]
listen = "0.0.0.0:4000"
advertise_addr = "203.0.113.10:4000"
bootstrap = ["seed1.example.com:4000", "seed2.example.com:4000"]
max_peers = 15
exchange_interval = "30s"
discovery_interval = "10s"

[logging]
level = "info"
format = "text"
`);
  assert.equal(c.node.name, 'node-eu-1');
  assert.deepEqual(c.node.tags, ['EU', 'prod']);
  assert.equal(c.node.data_dir, '/home/u/.micelio');
  assert.equal(c.ssh.listen, '0.0.0.0:2222');
  assert.equal(c.network.advertise_addr, '203.0.113.10:4000');
  assert.deepEqual(c.network.bootstrap, ['seed1.example.com:4000', 'seed2.example.com:4000']);
});

test('Hypha keys and durations in the file', () => {
  const c = fromToml(`
network.listen = "[::]:4100"
network.peer_ttl = "36h"
network.keepalive_interval = "500ms"
network.idle_timeout = "1m30s"
network.write_timeout = "2.5s"
network.handshake_timeout = "1s"
network.max_known_peers = 50
network.exchange_interval = "0"
logging.level = "WARNING"
logging.format = "JSON"
`);
  assert.equal(c.network.listen, '[::]:4100');
  assert.equal(c.network.peer_ttl, 36 * 3_600_000);
  assert.equal(c.network.keepalive_interval, 500);
  assert.equal(c.network.idle_timeout, 90_000);
  assert.equal(c.network.write_timeout, 2500);
  assert.equal(c.network.handshake_timeout, 1000);
  assert.equal(c.network.max_known_peers, 50);
  assert.equal(c.network.exchange_interval, 30_000, 'Micelio reads 0 as the default');
  assert.equal(c.logging.level, 'warn');
  assert.equal(c.logging.format, 'json');
});

test('duration text', () => {
  const cases: [string, number][] = [
    ['30s', 30_000], ['1m', 60_000], ['500ms', 500], ['1.5h', 5_400_000], ['1h30m', 5_400_000], ['7d', 604_800_000],
    ['0', 0], ['-1s', -1000], ['+2s', 2000], ['1500us', 1.5], ['2000000ns', 2], ['.5s', 500], [' 10s ', 10_000],
  ];
  for (const [text, ms] of cases) assert.deepEqual(parseDuration(text), { ok: true, value: ms }, text);
  for (const bad of ['', '10', '5x', '1e3s', 's', '1s2', '--1s', 'ten seconds', '1 s']) {
    const r = parseDuration(bad);
    assert.ok(!r.ok, bad);
    assert.match(r.error.message, /is not a duration/);
  }
  assert.match((parseDuration('10') as { error: { message: string } }).error.message, /a unit is missing/);
  for (const [ms, text] of [[0, '0s'], [500, '500ms'], [30_000, '30s'], [90_000, '1m30s'], [604_800_000, '7d'], [3_600_500, '1h500ms']] as const) {
    assert.equal(formatDuration(ms), text);
    assert.equal((parseDuration(text) as { value: number }).value, ms);
  }
  fc.assert(fc.property(fc.string(), (s) => {
    parseDuration(s);
  }));
});

test('listen addresses: wildcards fine, ":port" means all interfaces, "" disables', () => {
  assert.equal(fromToml('network.listen = ":4000"').network.listen, '0.0.0.0:4000');
  assert.equal(fromToml('network.listen = ""').network.listen, '');
  assert.equal(fromToml('ssh.listen = ""').ssh.listen, '');
  assert.equal(fromToml('network.listen = "127.0.0.1:0"').network.listen, '127.0.0.1:0');
  assert.equal(fromToml('network.listen = " localhost:4000 "').network.listen, 'localhost:4000');
  assert.deepEqual(tomlProblems('network.listen = "0.0.0.0"'), ['network.listen: missing port in "0.0.0.0" (write host:port)']);
  assert.deepEqual(tomlProblems('network.listen = "::1:4000"'), ['network.listen: IPv6 addresses need brackets: write [::1]:4000']);
  assert.deepEqual(tomlProblems('ssh.listen = "127.0.0.1:70000"'), ['ssh.listen: port "70000" is not a number from 0 to 65535']);
  assert.deepEqual(tomlProblems('ssh.listen = "host name:22"'), ['ssh.listen: "host name" is not a valid host name or IP address']);
  assert.deepEqual(tomlProblems('ssh.listen = "[1::2::3]:22"'), ['ssh.listen: "1::2::3" is not an IPv6 address']);
  assert.deepEqual(tomlProblems('network.listen = 4000'), ['network.listen: expected a "host:port" string, got the integer 4000']);
});

test('peer addresses: a real host and port, never a wildcard', () => {
  const c = fromToml('network.bootstrap = ["a.example:4000", "micelio://10.0.0.2:4000", "[2001:db8::1]:4000"]\nnetwork.advertise_addr = "203.0.113.1:4000"');
  assert.deepEqual(c.network.bootstrap, ['a.example:4000', '10.0.0.2:4000', '[2001:db8::1]:4000']);
  assert.deepEqual(tomlProblems('network.bootstrap = ["ok.example:1", "0.0.0.0:4000", "[::]:4000", ":4000", "h:0", "tcp://h:1"]'), [
    'network.bootstrap[1]: wildcard host not allowed ("0.0.0.0:4000"); give an address other peers can dial',
    'network.bootstrap[2]: wildcard host not allowed ("[::]:4000"); give an address other peers can dial',
    'network.bootstrap[3]: missing host in ":4000"',
    'network.bootstrap[4]: port 0 in "h:0" cannot be dialled',
    'network.bootstrap[5]: "tcp://h:1": only micelio:// endpoints (or plain host:port) belong here',
  ]);
  assert.deepEqual(tomlProblems('network.advertise_addr = "[::ffff:0.0.0.0]:4000"'), [
    'network.advertise_addr: wildcard host not allowed ("[::ffff:0.0.0.0]:4000"); give an address other peers can dial',
  ]);
  assert.deepEqual(tomlProblems('network.bootstrap = "one.example:4000"'), []);
  assert.deepEqual(fromToml('network.bootstrap = "one.example:4000"').network.bootstrap, ['one.example:4000']);
  assert.deepEqual(tomlProblems('network.bootstrap = [1]'), ['network.bootstrap[0]: expected a "host:port" string, got the integer 1']);
});

test('numbers, intervals, levels and names are checked', () => {
  assert.deepEqual(tomlProblems('network.max_peers = -1'), ['network.max_peers: must be at least 0, got -1']);
  assert.deepEqual(tomlProblems('network.max_peers = 1.5'), ['network.max_peers: expected a whole number, got the number 1.5']);
  assert.deepEqual(tomlProblems('network.max_peers = "15"'), ['network.max_peers: expected a whole number, got the string "15"']);
  assert.deepEqual(tomlProblems('network.max_peers = 99999999999999999999'), ['network.max_peers: 99999999999999999999 is out of range']);
  assert.equal(fromToml('network.max_peers = 0').network.max_peers, 0);
  assert.deepEqual(tomlProblems('network.exchange_interval = "-5s"'), ['network.exchange_interval: must not be negative, got -5s']);
  assert.deepEqual(tomlProblems('network.discovery_interval = 10'), ['network.discovery_interval: expected a duration string such as "30s", got the integer 10']);
  assert.deepEqual(tomlProblems('network.handshake_timeout = "0s"'), ['network.handshake_timeout: must be at least 10ms, got 0s']);
  assert.deepEqual(tomlProblems('network.write_timeout = "30d"'), ['network.write_timeout: must be at most 1d, got 30d']);
  assert.deepEqual(tomlProblems('network.peer_ttl = "10s"'), ['network.peer_ttl: must be at least 1m, got 10s']);
  assert.deepEqual(tomlProblems('logging.level = "verbose"'), ['logging.level: must be one of debug, info, warn, error, warning; got "verbose"']);
  assert.deepEqual(tomlProblems('logging.format = "yaml"'), ['logging.format: must be one of text, json; got "yaml"']);
  assert.deepEqual(tomlProblems('node.name = ""'), ['node.name: must not be empty']);
  assert.deepEqual(tomlProblems('node.name = "evil\\u001b[31m"'), ['node.name: must not contain control characters']);
  assert.deepEqual(tomlProblems(`node.name = "${'x'.repeat(65)}"`), ['node.name: is 65 characters, at most 64 allowed']);
  assert.deepEqual(tomlProblems(`node.tags = [${Array.from({ length: 65 }, () => '"t"').join(',')}]`), ['node.tags: has 65 entries, at most 64 allowed']);
  assert.deepEqual(tomlProblems('node.tags = ["ok", ""]'), ['node.tags[1]: must not be empty']);
  assert.deepEqual(tomlProblems('node.data_dir = ""'), ['node.data_dir: must not be empty']);
  assert.equal(fromToml('node.data_dir = "/srv/hypha"').node.data_dir, '/srv/hypha');
  assert.equal(fromToml('node.data_dir = "~"').node.data_dir, '/home/u');
});

test('rules across keys', () => {
  assert.deepEqual(tomlProblems('network.idle_timeout = "20s"'), [
    'network.idle_timeout: must be longer than network.keepalive_interval, or quiet links are dropped between keepalives',
  ]);
  assert.deepEqual(tomlProblems('network.max_peers = 20\nnetwork.max_known_peers = 10'), ['network.max_known_peers: must be at least network.max_peers (20)']);
  assert.deepEqual(tomlProblems('network.max_peers = 0\nnetwork.max_known_peers = 10'), []);
  // A cross-key rule is skipped when one of its keys is already wrong: one problem, reported once.
  assert.deepEqual(tomlProblems('network.idle_timeout = "x"'), [
    'network.idle_timeout: "x" is not a duration: unknown unit or stray characters (write e.g. "30s", "1m30s", "500ms", "7d")',
  ]);
});

test('unknown keys and sections are errors that name them, with a hint when one is close', () => {
  assert.deepEqual(tomlProblems('[network]\nlistn = ":1"'), ['network.listn: unknown key (did you mean network.listen?)']);
  assert.deepEqual(tomlProblems('[network]\nname = "x"'), ['network.name: unknown key (did you mean network_name?)']);
  assert.deepEqual(tomlProblems('[network]\ntags = []'), ['network.tags: unknown key (did you mean node.tags?)']);
  assert.deepEqual(tomlProblems('tcp_listen_prot = 1'), ['tcp_listen_prot: unknown key (did you mean tcp_listen_port?)']);
  assert.deepEqual(tomlProblems('[netwrk]\nlisten = ":1"'), ['netwrk: unknown section (did you mean network?)']);
  assert.deepEqual(tomlProblems('[network]\nmax-peers = 3'), ['network.max-peers: unknown key (did you mean network.max_peers?)']);
  assert.deepEqual(tomlProblems('completely_unrelated = 1'), ['completely_unrelated: unknown key']);
  assert.deepEqual(tomlProblems('network = 5'), ['network: expected a table ([network]), got a value']);
  assert.deepEqual(tomlProblems('[network.listen]\nx = 1'), ['network.listen: expected a "host:port" string, got a table']);
  assert.deepEqual(tomlProblems('[[node]]\nname = "x"'), ['node: expected a table ([node]), got a value']);
  assert.deepEqual(tomlProblems('__proto__ = 1'), ['__proto__: unknown key']);
});

test('every problem is reported at once, each with its field path', () => {
  const lines = tomlProblems(`
[node]
nmae = "x"
[network]
listen = "nope"
bootstrap = ["a:1", "0.0.0.0:4000"]
max_peers = -3
[logging]
level = "loud"
`, { flags: { 'network.write_timeout': 'soon' } });
  assert.deepEqual(lines, [
    'node.nmae: unknown key (did you mean node.name?)',
    'network.listen: missing port in "nope" (write host:port)',
    'network.bootstrap[1]: wildcard host not allowed ("0.0.0.0:4000"); give an address other peers can dial',
    'network.max_peers: must be at least 0, got -3',
    'network.write_timeout (--write-timeout): "soon" is not a duration: unknown unit or stray characters (write e.g. "30s", "1m30s", "500ms", "7d")',
    'logging.level: must be one of debug, info, warn, error, warning; got "loud"',
  ]);
  try {
    fromToml('network.max_peers = -1\nlogging.level = "x"');
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues.length, 2);
    assert.match(e.message, /^invalid configuration \(\/etc\/h\.toml\): 2 problems\n {2}network\.max_peers: /);
  }
});

test('TOML syntax errors point at the line and column', () => {
  const lines = tomlProblems('[network]\nlisten = "x');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^\/etc\/h\.toml:2:10: TOML syntax error: unfinished string/);
  const dup = tomlProblems('a = 1\na = 2');
  assert.equal(dup.length, 1);
  assert.match(dup[0], /^\/etc\/h\.toml:2:\d+: TOML syntax error: /);
});

test('flags override the environment, which overrides the file', () => {
  const file = { path: '/etc/h.toml', text: 'network.max_peers = 3\nlogging.level = "debug"\nlogging.format = "json"\nnetwork.bootstrap = ["f:1"]' };
  let c = build({ file });
  assert.equal(c.network.max_peers, 3);
  assert.equal(c.logging.level, 'debug');
  c = build({ file, env: { HYPHA_LOG_LEVEL: 'error', HYPHA_LOG_FORMAT: '' } });
  assert.equal(c.logging.level, 'error', 'env over file');
  assert.equal(c.logging.format, 'json', 'an empty variable is unset');
  c = build({ file, env: { HYPHA_LOG_LEVEL: 'error' }, flags: { 'logging.level': 'warn', 'network.max_peers': '7', 'network.bootstrap': ['x:1,y:2', 'z:3'] } });
  assert.equal(c.logging.level, 'warn', 'flag over env');
  assert.equal(c.network.max_peers, 7, 'flag over file');
  assert.deepEqual(c.network.bootstrap, ['x:1', 'y:2', 'z:3'], 'list flags repeat and split on commas');
  assert.equal(build({ env: { HYPHA_DATA_DIR: '~/elsewhere' } }).node.data_dir, '/home/u/elsewhere');
  assert.deepEqual(problems({ env: { HYPHA_LOG_LEVEL: 'chatty' } }), ['logging.level (HYPHA_LOG_LEVEL): must be one of debug, info, warn, error, warning; got "chatty"']);
  assert.deepEqual(problems({ flags: { 'network.max_peers': 'many' } }), ['network.max_peers (--max-peers): expected a whole number, got "many"']);
  assert.deepEqual(problems({ flags: { 'network.listen': '' } }), []);
  assert.equal(build({ flags: { 'network.listen': '' } }).network.listen, '');
  assert.deepEqual(problems({ flags: { 'network.nope': 'x' } }), ['network.nope (flag): unknown option']);
});

test('a new key is one table entry, and booleans and top-level keys work', () => {
  const schema = {
    ...CONFIG_SCHEMA,
    peers: option({ type: listType(peerAddressType()), default: [], help: 'Mycelium peers', flag: 'peers' }),
    no_tun: option({ type: boolType(), default: false, help: 'run without a TUN device', flag: 'no-tun' }),
  };
  const c = resolveConfig(schema, { context: ctx, file: { path: 'f', text: 'peers = "a.example:9651"\nno_tun = true\n[network]\nmax_peers = 2' } });
  assert.deepEqual(c.peers, ['a.example:9651']);
  assert.equal(c.no_tun, true);
  assert.equal(c.network.max_peers, 2);
  const d = resolveConfig(schema, { context: ctx, flags: { no_tun: true } });
  assert.equal(d.no_tun, true);
  assert.throws(() => resolveConfig(schema, { context: ctx, file: { path: 'f', text: 'no_tun = "yes"' } }), /no_tun: expected true or false, got the string "yes"/);
  assert.throws(() => resolveConfig(schema, { context: ctx, file: { path: 'f', text: 'no_tnu = true' } }), /no_tnu: unknown key \(did you mean no_tun\?\)/);
});

test('random text as a config file never throws anything but ConfigError (property)', () => {
  const check = (text: string) => {
    try {
      fromToml(text);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: 500 });
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'[]"=.,\n #{}\'abc01:tfn-_'.split('')), maxLength: 120 }), check), { numRuns: 500 });
  // Well-formed TOML of random shape: every key and value kind reaches the validators.
  const key = fc.constantFrom('node', 'network', 'ssh', 'logging', 'listen', 'name', 'bootstrap', 'max_peers', 'level', 'x');
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(key, tie('v'), { maxKeys: 3 })),
  })).v;
  fc.assert(fc.property(fc.dictionary(key, value, { maxKeys: 5 }), (doc) => {
    let text: string;
    try {
      text = stringify(doc);
    } catch {
      return; // smol-toml cannot write every shape (e.g. NaN keys); not our concern
    }
    check(text);
  }), { numRuns: 300 });
  // Mutations of a real config.
  const real = 'node.name = "n"\n[network]\nlisten = "0.0.0.0:4000"\nbootstrap = ["a:1"]\nmax_peers = 15\nexchange_interval = "30s"\n';
  fc.assert(fc.property(fc.nat(real.length - 1), fc.string({ maxLength: 3 }), (i, s) => check(real.slice(0, i) + s + real.slice(i + 1))), { numRuns: 500 });
});

test('loadConfig: --config must exist; the default file lives in the data dir and may be absent', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-cfg-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const c0 = await loadConfig({ flags: { 'node.data_dir': join(base, 'empty') }, context: ctx });
  assert.equal(c0.configFile, undefined);
  assert.equal(c0.config.network.max_peers, 15);

  await assert.rejects(loadConfig({ configPath: join(base, 'missing.toml'), context: ctx }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /missing\.toml \(--config\): cannot read the config file: does not exist/);
    return true;
  });

  const dataDir = join(base, 'data');
  await mkdir(dataDir);
  await writeFile(join(dataDir, 'config.toml'), 'network.max_peers = 4\n');
  const c1 = await loadConfig({ flags: { 'node.data_dir': dataDir }, context: ctx });
  assert.equal(c1.configFile, join(dataDir, 'config.toml'));
  assert.equal(c1.config.network.max_peers, 4);
  assert.equal(c1.config.node.data_dir, dataDir);
  const c2 = await loadConfig({ env: { HYPHA_DATA_DIR: dataDir }, context: ctx });
  assert.equal(c2.config.network.max_peers, 4, 'HYPHA_DATA_DIR locates the file too');

  const explicit = join(base, 'other.toml');
  await writeFile(explicit, `node.data_dir = "${dataDir}"\nnetwork.max_peers = 9\n`);
  const c3 = await loadConfig({ configPath: explicit, context: ctx });
  assert.equal(c3.config.network.max_peers, 9);
  assert.equal(c3.config.node.data_dir, dataDir);

  const home = { homeDir: base, hostname: 'h' };
  await mkdir(join(base, 'cfgdir'));
  await writeFile(join(base, 'cfgdir', 'x.toml'), 'network.max_peers = 2\n');
  const c4 = await loadConfig({ configPath: '~/cfgdir/x.toml', context: home });
  assert.equal(c4.config.network.max_peers, 2, '~/ is expanded in --config');

  await assert.rejects(loadConfig({ configPath: base, context: ctx }), /cannot read the config file: is a directory/);
  await writeFile(join(dataDir, 'config.toml'), '[network\n');
  await assert.rejects(loadConfig({ flags: { 'node.data_dir': dataDir }, context: ctx }), /config\.toml:1:\d+: TOML syntax error/);
});

test('topic_config: the message-bus topic file, from the file or --topic-config, with ~ expanded', () => {
  assert.equal(buildConfig({ file: { path: 'c.toml', text: 'topic_config = "~/topics.toml"\n' }, context: { homeDir: '/home/u', hostname: 'b' } }).topic_config, '/home/u/topics.toml');
  assert.equal(buildConfig({ flags: { topic_config: '/etc/t.toml' }, context: { homeDir: '/h', hostname: 'b' } }).topic_config, '/etc/t.toml');
});

test('metrics_api_address: off by default, Mycelium\'s flag --metrics-api-address, a listen address', () => {
  const ctx = { homeDir: '/h', hostname: 'b' };
  assert.equal(buildConfig({ context: ctx }).metrics_api_address, '');
  assert.equal(buildConfig({ flags: { metrics_api_address: '127.0.0.1:9990' }, context: ctx }).metrics_api_address, '127.0.0.1:9990');
  assert.equal(buildConfig({ file: { path: 'c.toml', text: 'metrics_api_address = "[::1]:9990"\n' }, context: ctx }).metrics_api_address, '[::1]:9990');
  assert.throws(() => buildConfig({ flags: { metrics_api_address: 'nowhere' }, context: ctx }), /metrics_api_address/);
});
