// DESIGN.md: "Arrows point down only." This test reads every import in src/ and fails on one that points
// up the layers, so the architecture cannot erode one convenient import at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(import.meta.dirname, '..', 'src');

const below = (...layers: string[]): string[] => layers.flatMap((l) => [l, ...(ALLOWED[l] ?? [])]);
const ALLOWED: Record<string, string[]> = {};
ALLOWED.base = [];
ALLOWED.wire = ['base'];
ALLOWED.crypto = below('wire');
ALLOWED.identity = below('crypto');
ALLOWED.link = below('identity');
ALLOWED.store = below('base');
// Config validates endpoints and addresses with the pure parsers of wire/ and link/.
ALLOWED.config = below('link');
ALLOWED.peers = below('link', 'store');
ALLOWED.gossip = below('peers');
ALLOWED.router = below('peers');
ALLOWED.dataplane = below('router');
ALLOWED.messages = below('dataplane', 'store');
ALLOWED.state = below('gossip', 'store');
ALLOWED.partyline = below('state', 'gossip');
// The API sees the node only through the services interface it defines itself.
ALLOWED.api = below('messages', 'partyline', 'config');
ALLOWED.node = below('api', 'messages', 'partyline', 'config');
ALLOWED.sim = below('node');
ALLOWED.cli = below('node');

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

test('every import in src/ points down the layers of DESIGN.md', () => {
  const wrong: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    const layer = rel.split('/')[0];
    if (!(layer in ALLOWED)) {
      wrong.push(`${rel}: folder "${layer}" is not a layer of DESIGN.md (add it to this test if it should be)`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const target = relative(SRC, join(file, '..', m[1])).split('/')[0];
      if (target === layer || target === '..' || target.startsWith('..')) continue;
      if (!ALLOWED[layer].includes(target)) wrong.push(`${rel} imports ${m[1]} (${layer} → ${target})`);
    }
  }
  assert.deepEqual(wrong, []);
});
