// E2E seal/open throughput at 1,400-byte payloads (the TUN MTU): one JSON line.
// Run: node bench/e2e-seal.ts [seconds per figure, default 2]
import { E2ECipher, e2eKey, open, E2E_OVERHEAD_BYTES } from '../src/crypto/e2e.ts';
import { randomBytes } from 'node:crypto';

const PAYLOAD_BYTES = 1400;
const seconds = Number(process.argv[2] ?? 2);

const key = e2eKey(randomBytes(32));
const cipher = new E2ECipher();
const payload = randomBytes(PAYLOAD_BYTES);
const out = new Uint8Array(40 + PAYLOAD_BYTES + E2E_OVERHEAD_BYTES);

function rate(fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn(); // warm-up
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
  }
  return n / ((performance.now() - t0) / 1000);
}

const seal = rate(() => cipher.sealInto(key, 0, payload, out, 40));
const sealed = out.subarray(40);
const opened = rate(() => {
  const r = open(key, sealed);
  if (!r.ok) throw new Error('open failed');
});

console.log(
  JSON.stringify({
    bench: 'e2e-seal',
    payloadBytes: PAYLOAD_BYTES,
    sealPacketsPerSec: Math.round(seal),
    openPacketsPerSec: Math.round(opened),
    sealMbitPerSec: Math.round((seal * PAYLOAD_BYTES * 8) / 1e6),
    openMbitPerSec: Math.round((opened * PAYLOAD_BYTES * 8) / 1e6),
    node: process.version,
  }),
);
