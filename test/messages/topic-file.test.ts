import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { formatCidr } from '../../src/messages/cidr.ts';
import { loadTopicFile, parseTopicFile, TopicFileError } from '../../src/messages/topic-file.ts';
import { BusNet, utf8 } from './helpers.ts';

const MYCELIUM_EXAMPLE = `default = "Accept"
"legacy" = ["10.0.0.0/8"]

["example.topic"]
subnets = ["503:5478:df06:d79a::/64", "400::1"]
forward_socket = "/run/app.sock"

[other]
subnets = []
`;

test("Mycelium's topic file format: default, topics with subnets and forward sockets, the legacy list form", () => {
  const cfg = parseTopicFile(MYCELIUM_EXAMPLE, 'topics.toml');
  assert.equal(cfg.defaultAccept, true);
  const byName = new Map(cfg.topics.map((t) => [new TextDecoder().decode(t.topic), t]));
  assert.deepEqual(byName.get('example.topic')!.sources.map(formatCidr), ['503:5478:df06:d79a::/64', '400::1/128']);
  assert.equal(byName.get('example.topic')!.forwardSocket, '/run/app.sock');
  assert.deepEqual(byName.get('other')!.sources, []);
  assert.deepEqual(byName.get('legacy')!.sources.map(formatCidr), ['10.0.0.0/8']);
  assert.equal(parseTopicFile('default = "Reject"\n').defaultAccept, false);
  assert.equal(parseTopicFile('').defaultAccept, undefined);
});

test('a malformed topic file is an error that names the file and the line', () => {
  const cases: [string, RegExp][] = [
    ['default = "Accept"\n["t"\nsubnets = []\n', /^f\.toml:2: TOML syntax error/],
    ['default = "Maybe"\n', /^f\.toml:1: default must be "Accept" or "Reject"/],
    ['\n\n["t"]\nsubnets = ["400::/7", "not-an-ip"]\n', /^f\.toml:4: topic "t": "not-an-ip" is not an IP address or CIDR/],
    ['["t"]\nsubnets = ["400::/129"]\n', /^f\.toml:2: topic "t": "400::\/129": prefix length must be 0 to 128/],
    ['["t"]\nsubnet = ["400::/7"]\n', /^f\.toml:2: topic "t": unknown key "subnet" \(did you mean subnets\?\)/],
    ['["t"]\nsubnets = "400::/7"\n', /^f\.toml:2: topic "t": subnets must be an array/],
    ['["t"]\nsubnets = [1]\n', /^f\.toml:2: topic "t": subnets must be strings/],
    ['["t"]\nforward_socket = 5\n', /^f\.toml:2: topic "t": forward_socket must be a path string/],
    [`["t"]\nforward_socket = "${'x'.repeat(120)}"\n`, /^f\.toml:2: topic "t": the forward socket path is 120 bytes/],
    ['x = 1\n', /^f\.toml:1: "x" must be a topic table/],
    ['[a.b]\nsubnets = []\n', /^f\.toml:1: topic "a" has a sub-table "b": a topic name containing dots must be quoted/],
    [`["${'t'.repeat(256)}"]\n`, /^f\.toml:1: topic "t+…" is 256 bytes; at most 255/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseTopicFile(text, 'f.toml'), (e: unknown) => e instanceof TopicFileError && re.test(e.message), `${JSON.stringify(text)} → ${re}`);
  }
});

test('loadTopicFile reports a missing file by name', async () => {
  await assert.rejects(loadTopicFile('/nonexistent/topics.toml'), /\/nonexistent\/topics\.toml: cannot read the topic config file: does not exist/);
});

test('property: any text either parses or fails with a TopicFileError, never anything else', () => {
  const pieces = fc.constantFrom('default = "Accept"\n', '["t"]\n', 'subnets = ["400::/7"]\n', 'forward_socket = "/s"\n', '[', ']', '"', '=', '\n', 'x', '400::/7', '#c\n', '[[t]]\n');
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(pieces, { maxLength: 20 }).map((a) => a.join(''))), (text) => {
      try {
        parseTopicFile(text, 'p.toml');
      } catch (e) {
        assert.ok(e instanceof TopicFileError, String(e));
        assert.match(e.message, /^p\.toml(:\d+)?: /);
      }
    }),
    { numRuns: 2000 },
  );
});

test('the file applies at start on top of the stored configuration and wins for what it names', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-topics-'));
  try {
    const file = path.join(dir, 'topics.toml');
    writeFileSync(file, 'default = "Reject"\n["from-file"]\nsubnets = ["400::/7"]\n');
    const cfg = await loadTopicFile(file);
    const net = new BusNet(1, { extras: () => ({ topicFile: cfg }) });
    await net.start();
    const { bus } = net.nodes[0];
    assert.equal(bus.getDefaultTopicAccept(), false);
    assert.deepEqual(bus.topicSources(utf8('from-file')), { ok: true, value: ['400::/7'] });
    // Changes at run time persist; the file's topic comes back as the file says at the next start.
    assert.ok((await bus.addTopicSource(utf8('runtime'), '400::1')).ok);
    assert.ok((await bus.addTopicSource(utf8('from-file'), '500::/8')).ok);
    const n2 = await net.restart(0);
    assert.deepEqual(n2.bus.topicSources(utf8('runtime')), { ok: true, value: ['400::1/128'] });
    assert.deepEqual(n2.bus.topicSources(utf8('from-file')), { ok: true, value: ['400::/7'] });
    await net.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
