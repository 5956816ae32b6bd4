// Noise XX handshakes per second: both ends of a full three-message handshake (fresh ephemerals,
// six X25519 operations, BLAKE2s HKDF, ChaCha20-Poly1305) in one process, plus the split. Prints
// one JSON line. Target: at least 300 handshakes/s, so a node can take a burst of inbound peers.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { NoiseXXHandshake } from '../src/crypto/noise.ts';
import { identityFromSeed } from '../src/identity/identity.ts';
import { emit } from './lib/emit.ts';

const a = identityFromSeed(randomBytes(32));
const b = identityFromSeed(randomBytes(32));

function handshake(): void {
  const ini = new NoiseXXHandshake({ initiator: true, staticKey: { privateKey: a.x25519PrivateKey, publicKey: a.x25519Public } });
  const res = new NoiseXXHandshake({ initiator: false, staticKey: { privateKey: b.x25519PrivateKey, publicKey: b.x25519Public } });
  for (let i = 0; i < 3; i++) {
    const [w, r] = i % 2 === 0 ? [ini, res] : [res, ini];
    const m = w.writeMessage();
    if (!m.ok || !r.readMessage(m.value).ok) throw new Error('handshake failed');
  }
  if (!ini.complete || !res.complete) throw new Error('handshake incomplete');
}

const durationMs = Number(process.env.BENCH_MS ?? 2000);
for (let i = 0; i < 50; i++) handshake(); // warm-up
let n = 0;
const start = performance.now();
while (performance.now() - start < durationMs) {
  handshake();
  n++;
}
const elapsed = performance.now() - start;
emit({
  bench: 'noise-handshake',
  figure: 'handshakes_per_s',
  value: (n / elapsed) * 1000,
  unit: 'handshakes/s',
  what: 'full Noise XX handshakes (three messages, six X25519), initiator and responder both computed in one process on one core',
  target: { op: '>=', value: 300 },
  extra: { iterations: n },
});
