import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { PartylineHub, type HubSession, type LocalChatLine, type PartylineHubOptions } from '../../src/partyline/hub.ts';
import { createCommandRegistry } from '../../src/partyline/commands.ts';
import { FakeOutput } from './helpers.ts';

const NODE_B = '24f6ed6acbfe1009c030d7ca567c33ca4830911498236b5561a6c82abec5de28';

function setup(opts: Partial<PartylineHubOptions> = {}) {
  const clock = new VirtualClock();
  const log = captureLogger();
  const sent: LocalChatLine[] = [];
  const hub = new PartylineHub({ nodeName: 'node-a', clock, logger: log.logger, outbound: (l) => sent.push(l), ...opts });
  const join = (nick: string): { s: HubSession; out: FakeOutput } => {
    const out = new FakeOutput();
    const r = hub.join(nick, out);
    if (!r.ok) throw new Error(r.error.message);
    return { s: r.value, out };
  };
  return { clock, log, sent, hub, join };
}

test('join: everyone sees the join line, the newcomer then the welcome banner', () => {
  const { join } = setup();
  const a = join('alice');
  assert.deepEqual(a.out.take(), ['* alice joined the partyline', 'Welcome to node-a partyline!', 'Type /help for commands.', '']);
  assert.equal(a.s.prompt, '[alice]> ');
  const b = join('bob');
  assert.deepEqual(a.out.take(), ['* bob joined the partyline']);
  assert.equal(b.out.lines[0], '* bob joined the partyline');
});

test('chat goes to everyone but the sender, and out to the mesh once', async () => {
  const { join, sent, clock } = setup();
  const a = join('alice');
  const b = join('bob');
  const c = join('carol');
  a.out.take(); b.out.take(); c.out.take();
  await a.s.input('  hello there  ');
  assert.deepEqual(a.out.lines, []);
  assert.deepEqual(b.out.take(), ['[alice] hello there']);
  assert.deepEqual(c.out.take(), ['[alice] hello there']);
  assert.deepEqual(sent, [{ nick: 'alice', text: 'hello there', timestampSec: Math.floor(clock.now() / 1000) }]);
  await a.s.input('   ');
  assert.equal(sent.length, 1, 'blank lines are ignored');
  assert.deepEqual(b.out.lines, []);
});

test('/who, /nick, /quit, /help and unknown commands print exactly what Micelio prints', async () => {
  const { join } = setup();
  const a = join('alice');
  const b = join('bob');
  a.out.take(); b.out.take();

  await a.s.input('/who');
  assert.deepEqual(a.out.take(), ['Online (2): alice, bob']);

  await a.s.input('/nick');
  assert.deepEqual(a.out.take(), ['Usage: /nick <name>']);
  await a.s.input('/nick zed extra');
  assert.deepEqual(a.out.take(), ['* alice is now known as zed']);
  assert.deepEqual(b.out.take(), ['* alice is now known as zed']);
  assert.equal(a.s.prompt, '[zed]> ');

  await a.s.input('/help');
  assert.deepEqual(a.out.take(), [
    'Commands:',
    '  /who           — list online users',
    '  /nick <name>   — change your nickname',
    '  /quit          — disconnect',
    '  /help          — show this help',
    '  /peers         — list connected peers',
  ]);

  await a.s.input('/bogus arg');
  assert.deepEqual(a.out.take(), ['Unknown command: /bogus (try /help)']);
  await a.s.input('/WHO');
  assert.deepEqual(a.out.take(), ['Unknown command: /WHO (try /help)'], 'names are case-sensitive');

  await b.s.input('/quit');
  assert.deepEqual(b.out.take(), ['Goodbye.']);
  assert.equal(b.out.closedWith, 'quit');
  assert.deepEqual(a.out.take(), ['* bob left the partyline']);
  await a.s.input('/who');
  assert.deepEqual(a.out.take(), ['Online (1): zed']);
});

test('/nick refuses what would not display: empty after sanitising, or too long', async () => {
  const { join } = setup();
  const a = join('alice');
  a.out.take();
  await a.s.input('/nick \x1b[31m');
  assert.deepEqual(a.out.take(), ['Usage: /nick <name>']);
  await a.s.input('/nick ' + 'x'.repeat(33));
  assert.deepEqual(a.out.take(), ['Nick too long (max 32 characters)']);
  await a.s.input('/nick \x1b[1mbold\x1b[0m');
  assert.deepEqual(a.out.take(), ['* alice is now known as bold']);
});

test('a username full of escapes becomes a clean nick', () => {
  const { join } = setup();
  assert.equal(join('\x1b]0;x\x07eve\x1b[5m').s.nick, 'eve');
  assert.equal(join('\x1b[2J').s.nick, 'guest');
});

test('remote lines show their origin, are sanitised, and never go back to the mesh', () => {
  const { hub, join, sent } = setup();
  const a = join('alice');
  a.out.take();
  hub.deliverRemote('bob', 'hi', { nodeId: NODE_B, name: 'node-b' });
  hub.deliverRemote('bob', 'no name known', { nodeId: NODE_B });
  hub.deliverRemote('\x1b[31mmal\x1b[0mlory', '\x1b[2J\x1b]0;pwned\x07look \x1b[5mhere\x1b[0m\r\n[alice] fake', { nodeId: NODE_B, name: 'node\x1b[8m-b' });
  hub.deliverRemote('bob', '\x1b[2J', { nodeId: NODE_B });
  assert.deepEqual(a.out.take(), [
    '[bob@node-b] hi',
    '[bob@24f6ed6acbfe] no name known',
    '[mallory@node-b] look here  [alice] fake',
  ]);
  assert.equal(sent.length, 0);
  assert.equal(hub.stats().remoteLinesEmpty, 1);
});

test('a slow terminal drops its own lines (counted, WARN once, told later); others get everything', async () => {
  const { join, log, hub } = setup({ sessionQueueLines: 8 });
  const slow = join('slow');
  const fast = join('fast');
  const talker = join('talker');
  slow.out.take(); fast.out.take(); talker.out.take();
  slow.out.slow = true;
  for (let i = 0; i < 100; i++) await talker.s.input(`line ${i}`);
  assert.equal(fast.out.lines.length, 100);
  assert.equal(fast.out.lines[99], '[talker] line 99');
  // The first line was taken by the terminal (which then reported "full"), 8 wait, 91 were dropped.
  assert.equal(slow.out.lines.length, 1);
  assert.equal(slow.s.queuedLines, 8);
  assert.equal(slow.s.droppedLines, 91);
  assert.equal(hub.stats().outputLinesDropped, 91);
  assert.equal(log.records.filter((r) => r.msg.includes('dropping lines')).length, 1);
  // The terminal catches up: the queued lines arrive in order, then a notice.
  slow.out.slow = false;
  slow.s.drained();
  assert.deepEqual(slow.out.lines.slice(1), [
    ...Array.from({ length: 8 }, (_, i) => `[talker] line ${i + 1}`),
    '* 91 lines were dropped: your terminal was not keeping up.',
  ]);
  assert.ok(log.has('info', 'caught up'));
});

test('at most maxSessions sessions; a free slot can be taken again', () => {
  const { hub, join, log } = setup({ maxSessions: 2 });
  const a = join('a');
  join('b');
  const r = hub.join('c', new FakeOutput());
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.error.message === 'Sorry, the partyline is full (2 sessions). Try again later.');
  assert.equal(hub.stats().refusedFull, 1);
  assert.ok(log.has('warn', 'partyline full'));
  a.s.leave();
  assert.equal(hub.join('c', new FakeOutput()).ok, true);
});

test('idle sessions are closed after the timeout; any input restarts the countdown', async () => {
  const { join, clock, hub } = setup({ idleTimeoutMs: 30 * 60_000 });
  const a = join('alice');
  const b = join('bob');
  await clock.advance(29 * 60_000);
  b.s.touch();
  await clock.advance(60_000);
  assert.equal(a.out.closedWith, 'idle');
  assert.equal(a.out.lines.at(-1), 'Idle for 30m: disconnecting.');
  assert.equal(b.out.closedWith, undefined);
  assert.ok(b.out.lines.includes('* alice left the partyline'));
  await b.s.input('still here');
  await clock.advance(29 * 60_000);
  assert.equal(b.out.closedWith, undefined);
  await clock.advance(60_000);
  assert.equal(b.out.closedWith, 'idle');
  assert.equal(hub.sessionCount, 0);
  assert.equal(hub.stats().idleDisconnects, 2);
});

test('idle timeout 0 disables it', async () => {
  const { join, clock } = setup({ idleTimeoutMs: 0 });
  const a = join('alice');
  await clock.advance(24 * 3_600_000);
  assert.equal(a.out.closedWith, undefined);
});

test('local lines to the mesh are paced at 10/s with a burst of 20; the sender is told', async () => {
  const { join, sent, clock, hub } = setup();
  const a = join('alice');
  const b = join('bob');
  a.out.take();
  for (let i = 0; i < 25; i++) await a.s.input(`m${i}`);
  assert.equal(sent.length, 20);
  assert.equal(b.out.lines.filter((l) => l.startsWith('[alice]')).length, 25, 'local sessions still see every line');
  assert.equal(a.out.take().filter((l) => l.includes('not sent to other nodes')).length, 5);
  await clock.advance(1000);
  for (let i = 0; i < 12; i++) await a.s.input(`n${i}`);
  assert.equal(sent.length, 30);
  assert.equal(hub.stats().localLinesPaced, 7);
});

test('plugins add commands with a context: args, raw rest, writer (sanitised), services', async () => {
  const commands = createCommandRegistry();
  commands.register('/echo', {
    usage: '/echo <text>',
    help: 'say it back',
    handler: (ctx) => ctx.write(`${ctx.session.nick} on ${ctx.services.nodeName}: ${ctx.rest} (${ctx.args.length})\n\x1b[31msecond`),
  });
  commands.register('/boom', { usage: '/boom', help: 'fails', handler: async () => { throw new Error('kaput'); } });
  const { join, hub, log } = setup({ commands, services: { peers: () => [] } });
  const a = join('alice');
  a.out.take();
  await a.s.input('/echo  a   b');
  assert.deepEqual(a.out.take(), ['alice on node-a: a   b (2)', 'second']);
  await a.s.input('/boom');
  assert.deepEqual(a.out.take(), ['Error: kaput']);
  assert.ok(log.has('warn', 'command failed'));
  await a.s.input('/peers');
  assert.deepEqual(a.out.take(), ['Peers (0): none']);
  hub.setPeersProvider(() => [{ nodeId: NODE_B, name: 'node-b', address: '10.0.0.2:4000', direction: 'outbound' }]);
  await a.s.input('/peers');
  assert.deepEqual(a.out.take(), ['Peers (1):', '  24f6ed6acbfe  node-b  10.0.0.2:4000  outbound']);
  assert.equal(hub.stats().commandErrors, 1);
});

test('a failing outbound port is logged and does not break local chat', async () => {
  const { join, hub, log } = setup({ outbound: () => { throw new Error('mesh down'); } });
  const a = join('alice');
  const b = join('bob');
  b.out.take();
  await a.s.input('hi');
  assert.deepEqual(b.out.take(), ['[alice] hi']);
  assert.ok(log.has('warn', 'outbound port failed'));
  hub.setOutbound(undefined);
  await a.s.input('again');
  assert.equal(hub.stats().outboundErrors, 1);
});

test('stop closes every session and refuses new ones', () => {
  const { hub, join } = setup();
  const a = join('alice');
  const b = join('bob');
  hub.stop();
  assert.equal(a.out.closedWith, 'stopped');
  assert.equal(b.out.closedWith, 'stopped');
  assert.equal(a.out.lines.at(-1), '* The partyline is shutting down.');
  assert.ok(!a.out.lines.includes('* bob left the partyline'));
  assert.equal(hub.join('carol', new FakeOutput()).ok, false);
});
