// The overlay's keys: Mycelium's names, flags and defaults; their checks; the files some of them name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, ConfigError, type ConfigSources } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { checkConfigFiles, readApiTokenFile, readNetworkKeyFile } from '../../src/config/secret-files.ts';
import type { ConfigContext } from '../../src/config/types.ts';
import { hyphaInProcess } from '../cli/helpers.ts';

const ctx: ConfigContext = { homeDir: '/home/u', hostname: 'box' };
const build = (s: ConfigSources = {}): Config => buildConfig({ context: ctx, ...s });
const fromToml = (text: string): Config => build({ file: { path: '/etc/h.toml', text } });

function problems(s: ConfigSources): string[] {
  try {
    build(s);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.message.split('\n').slice(1).map((l) => l.trim());
  }
  return [];
}
const tomlProblems = (text: string) => problems({ file: { path: '/etc/h.toml', text } });

test("Mycelium's example config (config_example.toml) loads, quic:// peers included", () => {
  const c = fromToml(`
peers = [
  "tcp://188.40.132.242:9651",
  "quic://[2a01:4f8:212:fa6::2]:9651",
  "tcp://[2a02:1802:5e:0:8c9e:7dff:fec9:f0d2]:9651",
]
api_addr = "127.0.0.1:8989"
tcp_listen_port = 9651
quic_listen_port = 9651
tun_name = "mycelium"
disable_peer_discovery = false
no_tun = false
`);
  assert.deepEqual(c.peers, ['tcp://188.40.132.242:9651', 'quic://[2a01:4f8:212:fa6::2]:9651', 'tcp://[2a02:1802:5e:0:8c9e:7dff:fec9:f0d2]:9651']);
  assert.equal(c.tun_name, 'mycelium');
  assert.equal(c.api_addr, '127.0.0.1:8989');
});

test('the keys from flags, with the names and short forms of Mycelium', () => {
  const c = build({
    flags: {
      peers: ['tcp://10.0.0.1:9651,tcp://[2001:db8::1]:9651', ' tcp://10.0.0.2:1 '],
      tcp_listen_port: '9000',
      peer_discovery_port: '0',
      disable_peer_discovery: true,
      peer_discovery_interfaces: ['eth0', 'wlan0'],
      no_tun: true,
      tun_name: 'ov0',
      api_addr: '[::1]:9999',
      api_token_file: '~/api.token',
      disable_quic: true,
      quic_listen_port: '1',
    },
  });
  assert.deepEqual(c.peers, ['tcp://10.0.0.1:9651', 'tcp://[2001:db8::1]:9651', 'tcp://10.0.0.2:1']);
  assert.equal(c.tcp_listen_port, 9000);
  assert.equal(c.peer_discovery_port, 0);
  assert.equal(c.disable_peer_discovery, true);
  assert.deepEqual(c.peer_discovery_interfaces, ['eth0', 'wlan0']);
  assert.equal(c.no_tun, true);
  assert.equal(c.tun_name, 'ov0');
  assert.equal(c.api_addr, '[::1]:9999');
  assert.equal(c.api_token_file, '/home/u/api.token');
  assert.equal(build({ flags: { api_addr: '' } }).api_addr, '', '"" turns the API off');
});

test('bad values name the key and say what is wrong', () => {
  assert.deepEqual(tomlProblems('peers = ["tcp://10.0.0.1:9651", "10.0.0.2:9651", "tcp://host.example:9651", "udp://1.2.3.4:1", "tcp://1.2.3.4:0", "tcp://::1:9651"]'), [
    'peers[1]: "10.0.0.2:9651" is not an endpoint (expected tcp://IP:PORT)',
    'peers[2]: "host.example" is not an IPv4 address (IPv6 goes in brackets; host names are not accepted)',
    'peers[3]: unknown protocol "udp" in "udp://1.2.3.4:1" (tcp, tls or quic)',
    'peers[4]: bad port "0" in "tcp://1.2.3.4:0"',
    'peers[5]: "::1" is not an IPv4 address (IPv6 goes in brackets; host names are not accepted)',
  ]);
  assert.deepEqual(tomlProblems('peers = 5'), ['peers: expected an array, got the integer 5']);
  assert.deepEqual(tomlProblems('tcp_listen_port = 70000'), ['tcp_listen_port: must be at most 65535, got 70000']);
  assert.deepEqual(tomlProblems('peer_discovery_port = "9650"'), ['peer_discovery_port: expected a whole number, got the string "9650"']);
  assert.deepEqual(tomlProblems('no_tun = "yes"'), ['no_tun: expected true or false, got the string "yes"']);
  assert.deepEqual(tomlProblems('tun_name = "a-name-that-is-too-long"'), ['tun_name: is 23 bytes; interface names are at most 15']);
  assert.deepEqual(tomlProblems('tun_name = "a/b"'), ['tun_name: must not contain "/", ":" or whitespace']);
  assert.deepEqual(tomlProblems('tun_name = ".."'), ['tun_name: is not a valid interface name']);
  assert.deepEqual(tomlProblems('tun_name = ""'), ['tun_name: must not be empty']);
  assert.deepEqual(tomlProblems('api_addr = "localhost"'), ['api_addr: missing port in "localhost" (write host:port)']);
  assert.deepEqual(tomlProblems('network_name = "x"\nnetwork_key_file = "/k"'), ['network_name: is 1 byte; a network name is 2–64 bytes']);
  assert.deepEqual(tomlProblems(`network_name = "${'n'.repeat(65)}"\nnetwork_key_file = "/k"`), ['network_name: is 65 bytes; a network name is 2–64 bytes']);
});

test('network_name and network_key_file come together; tls:// peers need them', () => {
  assert.deepEqual(tomlProblems('network_name = "lab"'), [
    "network_key_file: is missing: network_name needs the network's key file too (--network-key-file)",
  ]);
  assert.deepEqual(problems({ flags: { network_key_file: '/etc/net.key' } }), [
    "network_name: is missing: network_key_file needs the network's name too (--network-name)",
  ]);
  assert.deepEqual(tomlProblems('peers = ["tcp://10.0.0.1:9651", "tls://10.0.0.2:9651"]'), [
    'peers[1]: tls://10.0.0.2:9651: tls:// peers belong to a private network; set network_name and network_key_file, or use tcp://',
  ]);
  const c = fromToml('network_name = "lab"\nnetwork_key_file = "~/lab.key"\npeers = ["tls://10.0.0.2:9651"]');
  assert.equal(c.network_name, 'lab');
  assert.equal(c.network_key_file, '/home/u/lab.key');
  assert.deepEqual(c.peers, ['tls://10.0.0.2:9651']);
});

test('the key and token files: exactly 32 bytes; one printable word', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = join(dir, 'net.key');
  await writeFile(key, Buffer.alloc(32, 7));
  const k = await readNetworkKeyFile(key);
  assert.ok(k.ok);
  assert.deepEqual(k.value, new Uint8Array(32).fill(7));

  await writeFile(key, Buffer.alloc(33, 7));
  const long = await readNetworkKeyFile(key);
  assert.ok(!long.ok);
  assert.match(long.error.message, /net\.key: is 33 bytes; a network key file holds exactly 32 raw bytes \(create one with `head -c 32 \/dev\/urandom > network\.key`/);
  await writeFile(key, `${'ab'.repeat(32)}\n`);
  const hex = await readNetworkKeyFile(key);
  assert.ok(!hex.ok);
  assert.match(hex.error.message, /is 65 bytes.*looks like a hex key: convert it with `xxd -r -p/);
  const missing = await readNetworkKeyFile(join(dir, 'none'));
  assert.ok(!missing.ok);
  assert.match(missing.error.message, /none: cannot read the network key file: does not exist/);

  const tok = join(dir, 'api.token');
  await writeFile(tok, '  s3cret-Token_1  \n');
  assert.deepEqual(await readApiTokenFile(tok), { ok: true, value: 's3cret-Token_1' });
  for (const [content, why] of [['\n\n', /is empty/], ['two words', /one word of printable ASCII/], ['x'.repeat(2000), /at most 1024/]] as const) {
    await writeFile(tok, content);
    const r = await readApiTokenFile(tok);
    assert.ok(!r.ok, content);
    assert.match(r.error.message, why);
  }

  // Both at once, as `hypha run` reports them: every problem, each under its key.
  await writeFile(key, 'short');
  await writeFile(tok, '');
  const cfg = build({ flags: { network_name: 'lab', network_key_file: key, api_token_file: tok } });
  await assert.rejects(checkConfigFiles(cfg), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.issues.map((i) => i.path), ['network_key_file', 'api_token_file']);
    assert.match(e.message, /network_key_file: .*net\.key: is 5 bytes/);
    return true;
  });
  if (process.getuid?.() !== 0) {
    await writeFile(tok, 'x');
    await chmod(tok, 0);
    assert.match(((await readApiTokenFile(tok)) as { error: { message: string } }).error.message, /permission denied/);
  }
});

test('hypha run: a bad key file is a configuration error (exit 2) naming the key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hypha-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'net.key'), 'not 32 bytes');
  const r = await hyphaInProcess(['run', '--data-dir', dir, '--network-name', 'lab', '--network-key-file', join(dir, 'net.key'), '--no-tun']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid configuration: 1 problem\n {2}network_key_file: .*net\.key: is 12 bytes; a network key file holds exactly 32 raw bytes/);
  const both = await hyphaInProcess(['run', '--data-dir', dir, '--network-name', 'lab']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /network_key_file: is missing/);
});
