// Desired state without auto-observe (what a plugin does): the node reports convergence only when told,
// the latest matching entry wins, untrusted controllers are ignored, and a tag change of the controller's
// selector moves the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DesiredState, type DesiredChange } from '../../src/state/desired.ts';
import { StateError } from '../../src/state/service.ts';
import { FakeMesh } from '../helpers/fake-mesh.ts';

test('a plugin-style node reports observed state itself; the newest matching entry wins', async () => {
  const mesh = new FakeMesh();
  const ctrl = await mesh.add();
  const other = await mesh.add();
  const node = await mesh.add({ tags: ['EU', 'prod'] });
  mesh.connect(ctrl, node);
  mesh.connect(other, node);
  const d = new DesiredState({ state: node.state, logger: node.log.logger, tags: ['EU', 'prod'], controllers: [ctrl.nodeId], autoObserve: false });
  d.start();
  const cd = new DesiredState({ state: ctrl.state, logger: ctrl.log.logger, tags: [], controllers: [] });
  const od = new DesiredState({ state: other.state, logger: other.log.logger, tags: [], controllers: [] });
  const changes: DesiredChange[] = [];
  d.subscribe((c) => changes.push(c));

  await cd.publish('EU', 'version', '1');
  await mesh.settle([ctrl, node, other]);
  assert.equal(new TextDecoder().decode(d.get('version')!.value), '1');
  const entry = cd.allDesired()[0];
  assert.deepEqual(cd.convergence(entry).pending, [node.nodeId], 'not observed yet: auto_observe is off');

  await d.observe('version', '1');
  await mesh.settle([ctrl, node, other]);
  assert.deepEqual(cd.convergence(entry).converged, [node.nodeId]);

  // A more specific selector published later wins (latest write); an untrusted node's entry never counts.
  await od.publish('*', 'version', 'rogue');
  await cd.publish('EU,prod', 'version', '2');
  await mesh.settle([ctrl, node, other]);
  assert.equal(new TextDecoder().decode(d.get('version')!.value), '2');
  assert.equal(d.get('version')!.selector.text, 'EU,prod');
  assert.deepEqual(cd.convergence(cd.allDesired().find((x) => x.selector.text === 'EU,prod')!).pending, [node.nodeId]);
  // Withdrawing the newer entry falls back to the older one.
  await cd.withdraw('EU,prod', 'version');
  await mesh.settle([ctrl, node, other]);
  assert.equal(new TextDecoder().decode(d.get('version')!.value), '1');
  assert.deepEqual(changes.map((c) => c.current && new TextDecoder().decode(c.current.value)), ['1', '2', '1']);

  await assert.rejects(cd.publish('a,,b', 'x', 'y'), (e: unknown) => e instanceof StateError && e.code === 'selector');
  await assert.rejects(d.observe('nothing', 'x'), (e: unknown) => e instanceof StateError && e.code === 'no-desired');
  await d.stop();
  await mesh.stop();
});
