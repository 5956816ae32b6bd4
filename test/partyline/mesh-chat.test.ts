// The partyline's side of the mesh: local lines leave as signed ChatMessages, remote ones reach every
// local session with their origin, sanitised; bad payloads are counted and ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { GossipEngine } from '../../src/gossip/engine.ts';
import { PartylineHub } from '../../src/partyline/hub.ts';
import { MeshChat } from '../../src/partyline/mesh-chat.ts';
import { decodeChatMessage, encodeChatMessage } from '../../src/wire/micelio/chat.ts';
import { FakePeers, ident, signed } from '../gossip/helpers.ts';
import { FakeOutput } from './helpers.ts';
import { verifyEnvelope } from '../../src/crypto/envelope.ts';

const LOCAL = ident(1);
const REMOTE = ident(2);

function setup() {
  const clock = new VirtualClock();
  const peers = new FakePeers();
  const log = captureLogger();
  const engine = new GossipEngine({ identity: LOCAL, peers, clock, logger: log.logger });
  engine.start();
  const hub = new PartylineHub({ nodeName: 'node-a', clock, logger: log.logger });
  const chat = new MeshChat({ hub, gossip: engine, nodeName: 'node-a', clock, logger: log.logger });
  chat.start();
  const neighbour = peers.connect(REMOTE);
  const alice = new FakeOutput();
  const bob = new FakeOutput();
  const a = hub.join('alice', alice);
  assert.ok(a.ok);
  hub.join('bob', bob);
  alice.take();
  bob.take();
  return { clock, peers, engine, hub, chat, alice, bob, session: a.value, neighbour, log };
}

test('a local line goes to every peer as a signed ChatMessage carrying the node name', async () => {
  const s = setup();
  await s.session.input('hello mesh');
  assert.deepEqual(s.bob.take(), ['[alice] hello mesh']);
  const out = s.peers.take();
  assert.equal(out.length, 1);
  assert.equal(out[0].env.msgType, 3);
  assert.equal(out[0].env.hopCount, 10);
  assert.ok(verifyEnvelope(out[0].env, LOCAL.ed25519Public));
  const chat = decodeChatMessage(out[0].env.payload);
  assert.ok(chat.ok);
  assert.equal(chat.value.nick, 'alice');
  assert.equal(chat.value.text, 'hello mesh');
  assert.equal(chat.value.originName, 'node-a');
  assert.equal(s.chat.stats().sent, 1);
});

test('a remote line reaches every local session once, sanitised, with its origin; it is not sent back', () => {
  const s = setup();
  const payload = encodeChatMessage({ nick: '\x1b[31mbob\x1b[0m', text: '\x1b]0;pwned\x07hi \x1b[2Jthere', timestampSec: 1, originName: 'node-\x1b[1mb' });
  const env = signed(REMOTE, { payload, hopCount: 1 });
  s.peers.deliver(s.neighbour, env);
  s.peers.deliver(s.neighbour, env);
  assert.deepEqual(s.alice.take(), ['[bob@node-b] hi there']);
  assert.deepEqual(s.bob.take(), ['[bob@node-b] hi there']);
  assert.equal(s.peers.take().length, 0);
  // No name (a Micelio node): the short node id.
  s.peers.deliver(s.neighbour, signed(REMOTE, { payload: encodeChatMessage({ nick: 'carol', text: 'from go', timestampSec: 1 }), hopCount: 1 }));
  assert.deepEqual(s.alice.take(), [`[carol@${REMOTE.nodeId.slice(0, 12)}] from go`]);
  assert.equal(s.chat.stats().received, 2);
});

test('a malformed chat payload is counted and logged once per window, and nothing is shown', () => {
  const s = setup();
  for (let i = 0; i < 3; i++) s.peers.deliver(s.neighbour, signed(REMOTE, { payload: Uint8Array.of(0x0a, 0x09, 0x61) }));
  assert.deepEqual(s.alice.take(), []);
  assert.equal(s.chat.stats().malformed, 3);
  assert.equal(s.log.records.filter((r) => r.msg === 'ignoring malformed chat message').length, 1);
});

test('stop disconnects both directions', async () => {
  const s = setup();
  s.chat.stop();
  await s.session.input('local only');
  assert.equal(s.peers.take().length, 0);
  s.peers.deliver(s.neighbour, signed(REMOTE, { payload: encodeChatMessage({ nick: 'x', text: 'y', timestampSec: 1 }) }));
  assert.deepEqual(s.alice.take(), []);
});
