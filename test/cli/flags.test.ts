import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addConfigFlags, readConfigFlags } from '../../src/cli/flags.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { CONFIG_SCHEMA, option } from '../../src/config/schema.ts';
import { boolType, intType, listType, peerAddressType } from '../../src/config/types.ts';

// The Mycelium-style keys later issues add, to show each is one table entry and its flag just works.
const schema = {
  ...CONFIG_SCHEMA,
  peers: option({ type: listType(peerAddressType()), default: [], help: 'peers to connect to', flag: 'peers' }),
  tcp_listen_port: option({ type: intType({ min: 0, max: 65535 }), default: 9651, help: 'TCP listen port', flag: 'tcp-listen-port', short: 't' }),
  no_tun: option({ type: boolType(), default: false, help: 'do not create a TUN device', flag: 'no-tun' }),
};

function parse(argv: string[]) {
  const cmd = new Command('run').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const bindings = addConfigFlags(cmd, schema);
  cmd.parse(argv, { from: 'user' });
  const flags = readConfigFlags(cmd, bindings);
  return { flags, config: resolveConfig(schema, { flags, context: { homeDir: '/h', hostname: 'x' } }), help: cmd.helpInformation() };
}

test('flags generated from the table: values, lists, short aliases and --no- switches', () => {
  const none = parse([]);
  assert.deepEqual(none.flags, {}, 'defaults are not reported as given flags');
  assert.equal(none.config.no_tun, false);
  assert.equal(none.config.tcp_listen_port, 9651);
  const some = parse(['--peers', 'a.example:9651', 'b.example:9651', '-t', '9000', '--no-tun', '--max-peers', '3', '--tags', 'x,y', '--tags', 'z']);
  assert.deepEqual(some.flags, {
    peers: ['a.example:9651', 'b.example:9651'],
    tcp_listen_port: '9000',
    no_tun: true,
    'network.max_peers': '3',
    'node.tags': ['x,y', 'z'],
  });
  assert.deepEqual(some.config.peers, ['a.example:9651', 'b.example:9651']);
  assert.equal(some.config.tcp_listen_port, 9000);
  assert.equal(some.config.no_tun, true);
  assert.deepEqual(some.config.node.tags, ['x', 'y', 'z']);
  assert.match(some.help.replace(/\s+/g, ' '), /-t, --tcp-listen-port <n> TCP listen port \(default: 9651; config tcp_listen_port\)/);
  assert.match(some.help.replace(/\s+/g, ' '), /--no-tun do not create a TUN device \(default: false; config no_tun\)/);
});
