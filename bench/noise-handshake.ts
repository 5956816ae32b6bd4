// Noise XX handshakes per second: both ends of a full three-message handshake (fresh ephemerals, six
// X25519 operations, BLAKE2s HKDF, ChaCha20-Poly1305) in one process, plus the split. Target: at least
// 300 handshakes/s, so a node can take a burst of inbound peers. Counted per second of this thread's CPU
// time (the machine is shared: wall-clock rates are in `extra`).
//   node bench/noise-handshake.ts   (BENCH_MS=2000 of CPU per figure)
import { randomBytes } from 'node:crypto';
import { NoiseXXHandshake } from '../src/crypto/noise.ts';
import { identityFromSeed } from '../src/identity/identity.ts';
import { cpuRate, emit, round } from './lib/emit.ts';

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

const r = cpuRate(handshake, Number(process.env.BENCH_MS ?? 2000), 10);
emit({
  bench: 'noise',
  figure: 'handshakes_per_s',
  value: r.perCpuS,
  unit: 'handshakes/CPU-s',
  what: `complete Noise XX handshakes with both the initiator and the responder computed on this one thread (${r.operations} handshakes); a node doing only its own side manages about twice this`,
  target: { op: '>=', value: 300 },
  extra: { perWallSecond: round(r.perWallS, 1), iterations: r.operations },
});
