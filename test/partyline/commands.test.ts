import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CommandRegistry,
  createCommandRegistry,
  formatHelpLine,
  formatPeers,
  parseCommandLine,
} from '../../src/partyline/commands.ts';

test('built-ins are registered in Micelio order, then /peers', () => {
  assert.deepEqual(createCommandRegistry().list().map((c) => c.name), ['/who', '/nick', '/quit', '/help', '/peers']);
});

test('help lines are formatted like Go "  %-14s — %s"', () => {
  assert.equal(formatHelpLine('/nick <name>', 'change your nickname'), '  /nick <name>   — change your nickname');
  assert.equal(formatHelpLine('/who', 'list online users'), '  /who           — list online users');
  assert.equal(formatHelpLine('/a-very-long-usage <x>', 'h'), '  /a-very-long-usage <x> — h');
});

test('re-registering keeps the position; registering after freeze throws', () => {
  const r = new CommandRegistry();
  const h = () => undefined;
  r.register('/a', { usage: '/a', help: 'first', handler: h });
  r.register('b', { usage: '/b', help: 'second', handler: h });
  r.register('/a', { usage: '/a <x>', help: 'replaced', handler: h });
  assert.deepEqual(r.list(), [
    { name: '/a', usage: '/a <x>', help: 'replaced' },
    { name: '/b', usage: '/b', help: 'second' },
  ]);
  r.freeze();
  assert.throws(() => r.register('/c', { usage: '/c', help: '', handler: h }), /frozen/);
  assert.throws(() => new CommandRegistry().register('/two words', { usage: '', help: '', handler: h }), /single word/);
  assert.throws(() => new CommandRegistry().register('/x', { usage: '', help: '' } as never), /handler/);
});

test('command lines split like strings.Fields, keeping the raw remainder', () => {
  assert.deepEqual(parseCommandLine('/set  color   dark  blue '), { name: '/set', args: ['color', 'dark', 'blue'], rest: 'color   dark  blue' });
  assert.deepEqual(parseCommandLine('/who'), { name: '/who', args: [], rest: '' });
});

test('/peers output', () => {
  assert.deepEqual(formatPeers(undefined), ['Peers: this node has no mesh network']);
  assert.deepEqual(formatPeers([]), ['Peers (0): none']);
  assert.deepEqual(
    formatPeers([
      { nodeId: '56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c', name: 'node-a', address: '127.0.0.1:4000', direction: 'outbound', kind: 'micelio' },
      { nodeId: '24f6ed6acbfe1009c030d7ca567c33ca4830911498236b5561a6c82abec5de28' },
    ]),
    ['Peers (2):', '  56475aa75463  node-a  127.0.0.1:4000  outbound  micelio', '  24f6ed6acbfe  -  -'],
  );
});
