// E2E seal/open throughput at 1,400-byte payloads (the TUN MTU): AES-256-GCM with a cached KeyObject, as
// the data plane does it (Mycelium's format: ciphertext ‖ tag ‖ nonce).
//   node bench/e2e-seal.ts [CPU seconds per figure, default 2]. Rates are per second of this thread's CPU.
import { createCipheriv, randomBytes } from 'node:crypto';
import { E2ECipher, e2eKey, open, E2E_OVERHEAD_BYTES } from '../src/crypto/e2e.ts';
import { cpuRate, emit } from './lib/emit.ts';

const PAYLOAD_BYTES = 1400;
const seconds = Number(process.argv[2] ?? 2);

const key = e2eKey(randomBytes(32));
const cipher = new E2ECipher();
const payload = randomBytes(PAYLOAD_BYTES);
const out = new Uint8Array(40 + PAYLOAD_BYTES + E2E_OVERHEAD_BYTES);

function rate(fn: () => void): number {
  return cpuRate(fn, seconds * 1000, 500).perCpuS;
}

const seal = rate(() => cipher.sealInto(key, 0, payload, out, 40));
const sealed = out.subarray(40);
const opened = rate(() => {
  const r = open(key, sealed);
  if (!r.ok) throw new Error('open failed');
});
// Reference: bare node:crypto AES-256-GCM on the same bytes (one cipher object per packet, raw key), the
// floor any Node implementation of Mycelium's format pays.
const rawKey = randomBytes(32);
const nonce = randomBytes(12);
const bare = rate(() => {
  const c = createCipheriv('aes-256-gcm', rawKey, nonce);
  c.update(payload);
  c.final();
  c.getAuthTag();
});

for (const [figure, v, what] of [
  ['seal_packets_per_s', seal, 'E2E seal (inner header, AES-256-GCM with the cached per-peer key, tag and nonce appended) of one 1,400-byte packet into a frame buffer'],
  ['open_packets_per_s', opened, 'E2E open (AES-256-GCM decrypt and tag check) of one sealed 1,400-byte packet'],
] as const) {
  emit({
    bench: 'e2e',
    figure,
    value: v,
    unit: 'packets/CPU-s',
    what: `${what}, one core`,
    reference: { name: 'bare node:crypto AES-256-GCM encrypt', value: Math.round(bare) },
    extra: { payloadBytes: PAYLOAD_BYTES, mbitPerS: Math.round((v * PAYLOAD_BYTES * 8) / 1e6) },
  });
}
