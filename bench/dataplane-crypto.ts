// The per-packet ciphers of the data plane, by backend, at 1,400-byte packets: AES-256-GCM (E2E seal/open)
// and ChaCha20-Poly1305 (Noise transport of native links). Backends: our addon over Node's own OpenSSL (one
// context per key, reused), node:crypto (createCipheriv per packet from a cached KeyObject), and WebCrypto
// (subtle.encrypt, promise per packet, 64 in flight, work on libuv's thread pool). One figure per
// algorithm and direction: the native backend against node:crypto; WebCrypto and the rest in `extra`.
// Run: node bench/dataplane-crypto.ts [ms per measurement, default 1500]
import { randomBytes, webcrypto } from 'node:crypto';
import { aeadBackendNote, aeadKey, type AeadAlgorithm, type AeadBackend } from '../src/crypto/aead.ts';
import { emit, skip } from './lib/emit.ts';

const PACKET_BYTES = 1_400;
const MS = Number(process.argv[2] ?? 1500);
const IN_FLIGHT = 64;

function rate(fn: () => void): number {
  for (let i = 0; i < 2_000; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
  }
  return (n * 1000) / (performance.now() - t0);
}

async function rateAsync(fn: () => Promise<unknown>): Promise<number> {
  const run = async (ms: number): Promise<number> => {
    let n = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (performance.now() - t0 < ms) {
        await fn();
        n++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return (n * 1000) / (performance.now() - t0);
  };
  await run(200);
  return run(MS);
}

function measure(alg: AeadAlgorithm, backend: AeadBackend): { seal: number; open: number } {
  const key = aeadKey(alg, randomBytes(32), backend);
  const nonce = randomBytes(12);
  const frame = new Uint8Array(40 + PACKET_BYTES + 16);
  frame.set(randomBytes(PACKET_BYTES), 40);
  const seal = rate(() => key.seal(nonce, 0, null, frame, 40, PACKET_BYTES, frame, 40));
  const sealed = new Uint8Array(PACKET_BYTES + 16);
  key.seal(nonce, 0, null, frame, 40, PACKET_BYTES, sealed, 0);
  const out = new Uint8Array(PACKET_BYTES);
  const open = rate(() => {
    if (!key.open(nonce, 0, null, sealed, 0, PACKET_BYTES, out, 0)) throw new Error('open failed');
  });
  return { seal, open };
}

async function measureWebCrypto(alg: AeadAlgorithm): Promise<{ seal: number; open: number } | undefined> {
  if (alg !== 'aes-256-gcm') return undefined; // WebCrypto has no ChaCha20-Poly1305 in Node 24
  const key = await webcrypto.subtle.importKey('raw', randomBytes(32), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const iv = randomBytes(12);
  const pt = randomBytes(PACKET_BYTES);
  const seal = await rateAsync(() => webcrypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, pt));
  const ct = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, pt);
  const open = await rateAsync(() => webcrypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, ct));
  return { seal, open };
}

const note = aeadBackendNote();
for (const alg of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
  const node = measure(alg, 'node');
  const web = await measureWebCrypto(alg);
  const native = note === undefined ? measure(alg, 'native') : undefined;
  for (const dir of ['seal', 'open'] as const) {
    const figure = `${alg === 'aes-256-gcm' ? 'aes_gcm' : 'chacha_poly'}_${dir}_pkt_per_s`;
    if (native === undefined) {
      skip('dataplane-crypto', figure, `native backend not built: ${note}`);
      continue;
    }
    emit({
      bench: 'dataplane-crypto',
      figure,
      value: native[dir],
      unit: 'pkt/s',
      what: `${alg} ${dir} of ${PACKET_BYTES}-byte packets, one thread, key set up once (native addon over Node's OpenSSL)`,
      reference: { name: 'node:crypto, createCipheriv per packet from a KeyObject', value: node[dir] },
      extra: { webCryptoPktPerS: web === undefined ? null : Math.round(web[dir]), webCryptoInFlight: IN_FLIGHT },
    });
  }
}
