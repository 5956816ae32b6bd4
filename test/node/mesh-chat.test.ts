// Chat across real nodes (HyphaNode: LMDB, native Noise links, gossip, the SSH partyline) on 127.0.0.1.
// Users log in with an SSH client (ssh2) and a key from the node's authorized_keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeChatMessage } from '../../src/wire/micelio/chat.ts';
import { MsgType } from '../../src/wire/micelio/envelope.ts';
import { FakeOutput, waitFor } from '../partyline/helpers.ts';
import { gossipSettled, startHyphaNode, tempBase, waitLinked } from '../helpers/hypha-nodes.ts';
import { sshLogin } from '../helpers/ssh-shell.ts';
import { sshUserKey } from '../helpers/ssh-keys.ts';

const aliceKey = sshUserKey();
const carolKey = sshUserKey();
const KEYS = `${aliceKey.public}\n${carolKey.public}\n`;

test('a chain A–B–C with a redundant A–C link: a line typed on A shows once on C, with its origin', async (t) => {
  const base = await tempBase(t, 'hypha-meshchat-');
  const a = await startHyphaNode(t, base, 'node-a', { authorizedKeys: KEYS });
  const b = await startHyphaNode(t, base, 'node-b', { authorizedKeys: KEYS, flags: { 'network.bootstrap': [a.addr] } });
  const c = await startHyphaNode(t, base, 'node-c', { authorizedKeys: KEYS, flags: { 'network.bootstrap': [b.addr, a.addr] } });
  await waitLinked([
    [a, b],
    [b, c],
    [a, c],
  ]);
  const alice = await sshLogin(t, a.sshPort, 'alice', aliceKey.private);
  await alice.see('[alice]> ');
  const carol = await sshLogin(t, c.sshPort, 'carol', carolKey.private);
  await carol.see('[carol]> ');

  await t.test('the line arrives exactly once, though C hears it from A and from B', async () => {
    alice.type('hello from a\r');
    await carol.see('[alice@node-a] hello from a');
    await waitFor(() => gossipSettled([a, b, c]), 'every copy of the line to be handled');
    assert.equal(carol.count('[alice@node-a] hello from a'), 1);
    // Counted for chat (msg_type 3) alone: the replicated state gossips on the same engine.
    assert.equal(c.gossip.stats().byType['3']?.received, 1);
    assert.equal(a.gossip.stats().byType['3']?.originated, 1);
    const copies = [a, b, c].reduce((n, x) => n + x.gossip.stats().dropped.duplicate, 0);
    assert.ok(copies >= 1, 'the redundant path delivered a duplicate somewhere, and it was dropped');
    assert.ok(!alice.screen().includes('[alice@node-a] hello from a'), 'not echoed back to its sender');
  });

  await t.test('/who, /nick, /help, /peers and /quit print what Micelio prints, and the new nick crosses the mesh', async () => {
    carol.type('/who\r');
    await carol.see('Online (1): carol');
    carol.type('/nick caz\r');
    await carol.see('[caz]> ');
    carol.type('/help\r');
    await carol.see('  /peers         — list connected peers');
    carol.type('hi alice\r');
    await alice.see('[caz@node-c] hi alice');
    carol.type('/peers\r');
    await carol.see('Peers (2):');
    carol.type('/quit\r');
    await waitFor(carol.closed, 'carol\'s session to close after /quit');
    const screen = carol.screen();
    const from = screen.indexOf('[alice@node-a] hello from a');
    const upToPeers = screen.slice(from, screen.indexOf('Peers (2):') + 1);
    assert.deepEqual(upToPeers, [
      '[alice@node-a] hello from a',
      '[carol]> /who',
      'Online (1): carol',
      '[carol]> /nick caz',
      '* carol is now known as caz',
      '[caz]> /help',
      'Commands:',
      '  /who           — list online users',
      '  /nick <name>   — change your nickname',
      '  /quit          — disconnect',
      '  /help          — show this help',
      '  /peers         — list connected peers',
      '  /state [prefix] — list the replicated state (optionally keys or subkeys starting with prefix)',
      "  /get <key>     — show one key (a key without a node id is this node's)",
      '  /set <key> <value> — set a key of this node (the value is the rest of the line)',
      '  /del <key>     — delete a key of this node',
      "  /tags          — this node's tags and those other nodes publish",
      '  /desired       — effective desired state of this node, and who converged to published desired state',
      '[caz]> hi alice',
      '[caz]> /peers',
      'Peers (2):',
    ]);
    assert.deepEqual(screen.slice(-3), ['[caz]> /quit', 'Goodbye.', '']);
  });

  await t.test('a line full of terminal escapes from another node arrives without them', async () => {
    const payload = encodeChatMessage({
      nick: '\x1b[31mmallory\x1b[0m',
      text: '\x1b]0;pwned\x07look \x1b[2J\x1b[Hhere\r\n[root] fake line',
      timestampSec: 0,
      originName: 'node-\x1b[5mb',
    });
    b.gossip.broadcast(MsgType.Chat, payload);
    // CR LF become spaces: a remote line cannot start a forged line of its own.
    await alice.see('[mallory@node-b] look here  [root] fake line');
    const raw = alice.raw();
    assert.ok(!raw.includes('pwned') && !raw.includes('\x1b]') && !raw.includes('\x1b[2J') && !raw.includes('\x1b[31m'), JSON.stringify(raw.slice(-300)));
  });
});

test('a flood from one origin is rate-limited at 10/s, burst 20, while another origin still gets through', async (t) => {
  const base = await tempBase(t, 'hypha-flood-');
  const r = await startHyphaNode(t, base, 'receiver', { flags: { 'ssh.listen': '' } });
  const x = await startHyphaNode(t, base, 'flooder', { flags: { 'ssh.listen': '', 'network.bootstrap': [r.addr] } });
  const y = await startHyphaNode(t, base, 'polite', { flags: { 'ssh.listen': '', 'network.bootstrap': [r.addr] } });
  await waitLinked([
    [r, x],
    [r, y],
  ]);
  const watcher = new FakeOutput();
  assert.ok(r.hub.join('watcher', watcher).ok);

  const started = performance.now();
  // Straight into gossip: the hub would pace a person at the same rate before it reached the mesh.
  for (let i = 0; i < 60; i++) x.gossip.broadcast(MsgType.Chat, encodeChatMessage({ nick: 'x', text: `flood ${i}`, timestampSec: 0, originName: 'flooder' }));
  for (let i = 0; i < 5; i++) y.gossip.broadcast(MsgType.Chat, encodeChatMessage({ nick: 'y', text: `polite ${i}`, timestampSec: 0, originName: 'polite' }));
  await waitFor(() => watcher.lines.filter((l) => l.startsWith('[y@polite]')).length === 5, 'all five polite lines at the receiver');
  await waitFor(() => gossipSettled([r, x, y]), 'the flood to be handled everywhere');
  const elapsedS = (performance.now() - started) / 1000;

  const flood = watcher.lines.filter((l) => l.startsWith('[x@flooder]'));
  assert.ok(flood.length >= 20, `the burst of 20 gets through (got ${flood.length})`);
  assert.ok(flood.length <= 20 + Math.ceil(10 * elapsedS), `no more than the burst plus 10/s over ${elapsedS.toFixed(2)} s (got ${flood.length})`);
  assert.ok(r.gossip.stats().dropped['rate-limited'] >= 60 - flood.length - 1);
  assert.deepEqual(
    watcher.lines.filter((l) => l.startsWith('[y@polite]')),
    [0, 1, 2, 3, 4].map((i) => `[y@polite] polite ${i}`),
  );
  assert.ok(r.log.has('warn', 'rate-limited'), 'the receiver says why it drops');
});
