// A Go-Micelio-like peer (speaks only the Micelio protocol, hello version "0.1.0") connected to a Hypha
// node whose native links carry the overlay to other Hypha nodes: it gets chat and peer exchange as
// before and never an overlay envelope; overlay envelopes it sends are dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MsgType, OVERLAY_CONTROL_MSG_TYPE, OVERLAY_DATA_MSG_TYPE, encodeChatMessage, encodeOverlayEnvelope } from '../../src/wire/micelio/index.ts';
import { encodeControlFrame, encodeDataFrame } from '../../src/wire/mycelium/packet.ts';
import { OneNet } from '../helpers/onenet.ts';
import { MicelioPeer } from '../helpers/micelio-peer.ts';

const MICELIO_TYPES = new Set<number>([MsgType.PeerHello, MsgType.PeerHelloAck, MsgType.Chat, MsgType.PeerExchange, MsgType.Keepalive]);

test('a Micelio-only peer gets chat and peer exchange and never an overlay envelope', async () => {
  const net = new OneNet();
  const H = await net.add('H', { gossip: true });
  const H2 = await net.add('H2', { gossip: true });
  await net.native('H2', 'H');
  const seed = new Uint8Array(createHash('sha256').update('micelio peer').digest());
  const m = await MicelioPeer.connect(net.net, net.clock, H.pm.listenAddress!, seed);
  await net.clock.runUntil(() => H.pm.connectedCount === 2, 5_000);
  const handle = H.pm.peer(m.id.nodeId);
  assert.ok(handle, 'H accepted the Micelio peer');
  assert.equal(handle.isHypha, false);
  assert.equal(handle.version, '0.1.0');

  // Two minutes of everything the overlay does: Hellos and IHUs every second, route requests (which
  // flood to every neighbour), data both ways; chat from both Hypha nodes; the peer-exchange timer every 30 s.
  let seq = 0;
  for (let t = 0; t < 120; t++) {
    net.ping('H', 'H2', seq++);
    net.ping('H2', 'H', seq++);
    if (t % 10 === 0) {
      H.overlay.router.requestRoute(new Uint8Array(16).fill(0x04, 0, 1).fill(t + 1, 1));
      const chat = encodeChatMessage({ nick: 'h', text: `hello ${t}`, timestampSec: Math.floor(net.clock.now() / 1000) });
      H.gossip!.broadcast(MsgType.Chat, chat);
      H2.gossip!.broadcast(MsgType.Chat, chat);
    }
    await net.clock.advance(1_000);
  }
  assert.ok(H.pongs.size > 100 && H2.pongs.size > 100, 'the overlay ran between the Hypha nodes all along');
  assert.ok(H.overlay.router.stats.routeRequestsSent > 0);
  assert.ok(m.connected, 'the Micelio peer is still connected');
  assert.equal(m.undecodable.length, 0);
  // Every envelope it received is one Micelio knows — and never an overlay one.
  for (const env of m.received) {
    assert.ok(MICELIO_TYPES.has(env.msgType), `Micelio peer received msg_type ${env.msgType}`);
    assert.notEqual(env.msgType, OVERLAY_CONTROL_MSG_TYPE);
    assert.notEqual(env.msgType, OVERLAY_DATA_MSG_TYPE);
  }
  const types = m.types();
  assert.ok(types.includes(MsgType.PeerHelloAck));
  // The full list on connect; later exchanges carry only changes, and nothing changed here.
  assert.ok(types.filter((t) => t === MsgType.PeerExchange).length >= 1, 'peer exchange on connect');
  const chats = m.received.filter((e) => e.msgType === MsgType.Chat);
  assert.ok(chats.length >= 24, `chat from H and (relayed) from H2: ${chats.length}`);
  assert.ok(chats.some((e) => e.senderId === H2.id.nodeId), 'chat relayed from the other Hypha node');
  // Whatever the caller does, the peer manager will not put an overlay envelope on a Micelio link.
  assert.equal(H.pm.sendOverlay(handle, OVERLAY_CONTROL_MSG_TYPE, encodeControlFrame({ kind: 'hello', flags: 0, seqno: 0, intervalCs: 100 })), false);
  m.close();
  await net.stop();
});

test('unsigned overlay envelopes from a Micelio peer are dropped and counted; its link and the overlay carry on', async () => {
  const net = new OneNet();
  const H = await net.add('H', { gossip: true });
  await net.add('H2');
  await net.native('H2', 'H');
  const seed = new Uint8Array(createHash('sha256').update('micelio peer 2').digest());
  const m = await MicelioPeer.connect(net.net, net.clock, H.pm.listenAddress!, seed);
  await net.clock.runUntil(() => H.pm.connectedCount === 2, 5_000);
  const hello = encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: 1, intervalCs: 100 });
  const data = encodeDataFrame({ hopLimit: 64, src: new Uint8Array(16).fill(4, 0, 1), dst: H.address, rawData: new Uint8Array(40) });
  for (let i = 0; i < 10; i++) {
    m.send(encodeOverlayEnvelope(OVERLAY_CONTROL_MSG_TYPE, hello));
    m.send(encodeOverlayEnvelope(OVERLAY_DATA_MSG_TYPE, data));
  }
  await net.clock.advance(1_000);
  assert.equal(H.pm.stats().overlayFromNonHypha, 20);
  assert.equal(H.gossip!.stats().received, 0, 'none of it reached gossip');
  assert.equal(H.overlay.router.neighbourCount, 1, 'the Micelio peer is no overlay neighbour');
  assert.equal(H.overlay.dataplane.counters.forwarded + H.device.written.length, 0, 'its data packet went nowhere');
  assert.ok(m.connected);
  assert.ok(!m.types().includes(OVERLAY_CONTROL_MSG_TYPE));
  assert.ok(await net.pingUntil('H', 'H2', () => H.pongs.size > 0, 10_000), 'the overlay between Hypha nodes is unaffected');
  m.close();
  await net.stop();
});
