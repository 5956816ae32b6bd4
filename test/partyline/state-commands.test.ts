// /state, /get, /set, /del, /tags and /desired as a user sees them in the partyline, on two nodes joined
// by the fake mesh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartylineHub, type HubSession } from '../../src/partyline/hub.ts';
import { registerStateCommands, displayValue } from '../../src/partyline/state-commands.ts';
import { DesiredState } from '../../src/state/desired.ts';
import { FakeMesh, type FakeNode } from '../helpers/fake-mesh.ts';
import { FakeOutput } from './helpers.ts';

async function setup() {
  const mesh = new FakeMesh();
  const ctrl = await mesh.add({ tags: ['controller'] });
  const eu = await mesh.add({ tags: ['EU', 'prod'] });
  mesh.connect(ctrl, eu);
  const desired = new Map<FakeNode, DesiredState>();
  for (const n of [ctrl, eu]) {
    const d = new DesiredState({ state: n.state, logger: n.log.logger, tags: n.state.ownTags, controllers: [ctrl.nodeId] });
    d.start();
    desired.set(n, d);
  }
  const shell = (n: FakeNode): { s: HubSession; out: FakeOutput; run(line: string): Promise<string[]> } => {
    const hub = new PartylineHub({ nodeName: 'n', clock: mesh.clock, logger: n.log.logger });
    registerStateCommands(hub.commands, { state: n.state, desired: desired.get(n) });
    const out = new FakeOutput();
    const r = hub.join('alice', out);
    if (!r.ok) throw new Error(r.error.message);
    out.take();
    return {
      s: r.value,
      out,
      run: async (line) => {
        await r.value.input(line);
        return out.take();
      },
    };
  };
  await mesh.settle([ctrl, eu]);
  return { mesh, ctrl, eu, desired, shell };
}

test('/set, /get, /del and /state print what happened, with short node ids', async () => {
  const { mesh, ctrl, eu, shell } = await setup();
  const a = shell(ctrl);
  const short = ctrl.nodeId.slice(0, 12);
  const set = await a.run('/set color  dark  blue');
  assert.match(set[0], new RegExp(`^Set ${short}/color = dark  blue \\(ts=\\d+\\)$`));
  assert.match((await a.run('/get color'))[0], new RegExp(`^${short}/color = dark  blue  \\(ts=\\d+ node=${short} at \\d{4}-\\d\\d-\\d\\dT`));
  assert.deepEqual(await a.run('/get nothing'), ['nothing: not found']);
  assert.deepEqual(await a.run('/set color'), ['Usage: /set <key> <value>']);
  assert.deepEqual(await a.run('/get'), ['Usage: /get <key>']);
  const foreign = await a.run(`/set ${eu.nodeId}/x 1`);
  assert.match(foreign[0], /^Error: key .* belongs to node .*; a node writes only its own keys/);
  assert.match((await a.run('/set _tags x'))[0], /^Error: keys starting with "_" are written by the node itself/);
  assert.match((await a.run(`/set ${'k'.repeat(300)} v`))[0], /^Error: key .* is \d+ bytes; \[state\] max_key_bytes is 256/);

  // On the other node, by full key and by short owner id.
  await mesh.settle([ctrl, eu]);
  const b = shell(eu);
  assert.match((await b.run(`/get ${short}/color`))[0], /= dark {2}blue/);
  const st = await b.run('/state color');
  assert.equal(st[0], 'State (1 entry from 1 node):');
  assert.match(st[1], new RegExp(`^ {2}${short}/color +  = dark {2}blue {2}\\(ts=`));

  assert.match((await a.run('/del color'))[0], new RegExp(`^Deleted ${short}/color \\(ts=\\d+\\)$`));
  assert.match((await a.run('/get color'))[0], /^color: deleted \(ts=/);
  assert.deepEqual(await a.run('/del color'), ['color: not found']);
  await mesh.stop();
});

test('/state lists everything and says when it is empty under a prefix; values that are not text show as hex', async () => {
  const { mesh, ctrl, shell } = await setup();
  const a = shell(ctrl);
  await ctrl.state.put('bin', Uint8Array.of(0, 1, 2, 255));
  const all = await a.run('/state');
  assert.match(all[0], /^State \(\d+ entries from 2 nodes\):$/);
  assert.ok(all.some((l) => l.includes('/bin') && l.includes('= 0x000102ff')));
  assert.deepEqual(await a.run('/state nope/'), ['State: nothing under nope/']);
  assert.equal(displayValue(new TextEncoder().encode('a\u001b[31mb')), 'a\\x1b[31mb');
  assert.equal(displayValue(new TextEncoder().encode('x'.repeat(500))).length < 200, true);
  await mesh.stop();
});

test('/tags shows this node\'s tags and those of the others', async () => {
  const { mesh, ctrl, eu, shell } = await setup();
  const lines = await shell(eu).run('/tags');
  assert.deepEqual(lines, ['Tags of this node: EU, prod', 'Other nodes (1):', `  ${ctrl.nodeId.slice(0, 12)}  controller`]);
  await mesh.stop();
});

test('/desired shows the effective desired state and, for published entries, who converged', async () => {
  const { mesh, ctrl, eu, shell } = await setup();
  const a = shell(ctrl);
  assert.match((await a.run('/set desired/EU/motd hello')).join('\n'), /^Set /);
  await mesh.settle([ctrl, eu]);
  await mesh.clock.advance(1_000);
  await mesh.settle([ctrl, eu]);
  const b = await shell(eu).run('/desired');
  assert.equal(b[0], `Desired state of this node (tags: EU, prod; controllers: ${ctrl.nodeId.slice(0, 12)}):`);
  assert.match(b[1], /^ {2}motd {13}= hello {2}\(from \w{12} selector EU, ts=\d+, observed\)$/);
  const c = await a.run('/desired');
  assert.deepEqual(c.slice(0, 2), [`Desired state of this node (tags: controller; controllers: ${ctrl.nodeId.slice(0, 12)}):`, '  (nothing)']);
  assert.equal(c[2], 'Published desired state (1):');
  assert.equal(c[3], `  ${ctrl.nodeId.slice(0, 12)}/desired/EU/motd = hello  converged 1/1`);
  await mesh.stop();
});
