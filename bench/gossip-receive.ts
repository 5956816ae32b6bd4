// The cost of one incoming gossiped chat message on a node: decode the envelope, check sizes and the
// seen cache, look up the key, verify the Ed25519 signature, take a token, mark seen, deliver to the
// chat handler, re-encode with hop_count − 1 and queue it for 3 of 4 neighbours. Also: a duplicate
// (dropped at the seen check) and the signature check alone, for scale.
import { randomUUID } from 'node:crypto';
import { VirtualClock } from '../src/base/clock.ts';
import { silentLogger } from '../src/base/log.ts';
import { ed25519PublicKeyObject, ed25519Verify } from '../src/crypto/ed25519.ts';
import { GossipEngine } from '../src/gossip/engine.ts';
import { identityFromSeed } from '../src/identity/identity.ts';
import { Emitter } from '../src/peers/events.ts';
import type { PeerHandle, PeerManagerEvents } from '../src/peers/manager.ts';
import { encodeChatMessage } from '../src/wire/micelio/chat.ts';
import { decodeEnvelope, encodeEnvelope, envelopeSignBytes } from '../src/wire/micelio/envelope.ts';
import { emit } from './lib/emit.ts';
import { newEnvelope } from '../src/crypto/envelope.ts';

const BENCH = 'gossip';
const N = 20_000;
const id = (n: number) => identityFromSeed(Uint8Array.from({ length: 32 }, (_, i) => (n * 7 + i) & 0xff));
const local = id(1);
const origin = id(2);
const neighbours = [3, 4, 5, 6].map(id);

// The peer manager as the engine sees it; send() just counts (the link's queue is not measured here).
let queued = 0;
const handles = neighbours.map((n) => ({ nodeId: n.nodeId, ed25519PublicKey: n.ed25519Public, connected: true }) as PeerHandle);
const events = new Emitter<PeerManagerEvents>(silentLogger());
const peers = {
  on: <K extends keyof PeerManagerEvents>(e: K, fn: (...a: PeerManagerEvents[K]) => void) => events.on(e, fn),
  peers: () => handles,
  peer: (nodeId: string) => handles.find((h) => h.nodeId === nodeId),
  send: () => (queued++, true),
  broadcast: () => ({ sent: handles.length, total: handles.length }),
};
const clock = new VirtualClock();
// The per-origin limit would stop one origin after 20 messages; lift it to measure the work itself.
const engine = new GossipEngine({ identity: local, peers, clock, logger: silentLogger(), ratePerS: 1e12, burst: 1e12, seenMaxEntries: 2 * N });
let delivered = 0;
engine.handle(3, () => delivered++);
engine.learnKey(origin.nodeId, origin.ed25519Public, 1);

const payload = encodeChatMessage({ nick: 'alice', text: 'the quick brown fox jumps over the lazy dog, '.repeat(2), timestampSec: 1_700_000_000, originName: 'node-a' });
const wire: Uint8Array[] = [];
for (let i = 0; i < N + 1000; i++) {
  wire.push(encodeEnvelope(newEnvelope({ msgType: 3, payload, senderId: origin.nodeId, signingKey: origin.signingKey, hopCount: 9, senderPubkey: origin.ed25519Public, messageId: randomUUID() })));
}

function run(from: number, count: number): number {
  const start = performance.now();
  for (let i = from; i < from + count; i++) {
    const env = decodeEnvelope(wire[i]);
    if (env.ok) engine.receive(neighbours[0].nodeId, env.value);
  }
  return performance.now() - start;
}

run(N, 1000); // warm-up on separate messages
const ms = run(0, N);
if (delivered !== N + 1000 || queued !== 3 * (N + 1000)) throw new Error(`unexpected: delivered ${delivered}, queued ${queued}`);
emit({
  bench: BENCH,
  figure: 'incoming_chat_us',
  value: (ms * 1000) / N,
  unit: 'µs/message',
  what: `one new ${wire[0].length}-byte chat envelope from a neighbour: decode, checks, Ed25519 verify, seen, deliver, re-encode and relay to 3 of 4 neighbours (${N} messages)`,
  extra: { envelopeBytes: wire[0].length, messagesPerS: Math.round((N * 1000) / ms) },
});

// Duplicates: the same envelopes again, dropped at the seen check.
const dupMs = run(0, N);
emit({
  bench: BENCH,
  figure: 'duplicate_chat_us',
  value: (dupMs * 1000) / N,
  unit: 'µs/message',
  what: 'a chat envelope already seen: decode and drop at the seen check',
});

// The signature check alone: with the key parsed once (as the keyring keeps it), and importing the raw
// 32-byte key on every call (what the keyring avoids).
const env0 = decodeEnvelope(wire[0]);
if (!env0.ok) throw new Error('decode');
const raw = engine.publicKeyOf(origin.nodeId)!;
const data = envelopeSignBytes(env0.value);
for (const [figure, key, what] of [
  ['ed25519_verify_us', ed25519PublicKeyObject(raw), 'node:crypto Ed25519 verify of one chat envelope, key parsed once (the keyring way)'],
  ['ed25519_verify_raw_key_us', raw, 'node:crypto Ed25519 verify of one chat envelope, importing the raw 32-byte key each time'],
] as const) {
  const vStart = performance.now();
  for (let i = 0; i < 5000; i++) ed25519Verify(key, data, env0.value.signature);
  emit({ bench: BENCH, figure, value: ((performance.now() - vStart) * 1000) / 5000, unit: 'µs/verify', what });
}
