// The engine against bytes a Go node produced (reference §8): a ChatMessage envelope at hop 10 is
// delivered, and relayed as exactly the envelope Go's relay emits at hop 9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';
import { silentLogger } from '../../src/base/log.ts';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import { GossipEngine } from '../../src/gossip/engine.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { PartylineHub } from '../../src/partyline/hub.ts';
import { MeshChat } from '../../src/partyline/mesh-chat.ts';
import { decodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { FakePeers, ident } from './helpers.ts';
import { FakeOutput } from '../partyline/helpers.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };

test('a Go chat envelope is shown to local sessions and relayed byte for byte as Go relays it', () => {
  const A = identityFromSeed(fromHex(vectors.nodeA.ed25519Seed)!);
  const clock = new VirtualClock();
  const peers = new FakePeers();
  const logger = silentLogger();
  const engine = new GossipEngine({ identity: ident(1), peers, clock, logger });
  engine.start();
  const hub = new PartylineHub({ nodeName: 'here', clock, logger });
  new MeshChat({ hub, gossip: engine, nodeName: 'here', clock, logger }).start();
  const screen = new FakeOutput();
  hub.join('zoe', screen);
  screen.take();
  const from = peers.connect(ident(2));
  peers.connect(ident(3));

  const env = decodeEnvelope(fromHex(vectors.chat.envelope)!);
  assert.ok(env.ok);
  peers.deliver(from, env.value);
  // Go sends no node name: the origin is the sender's short node id.
  assert.deepEqual(screen.take(), [`[alice@${A.nodeId.slice(0, 12)}] hello`]);
  const out = peers.take();
  assert.equal(out.length, 1);
  assert.equal(toHex(out[0].bytes), vectors.chat.envelopeHop9);
});
