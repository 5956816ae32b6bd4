// E2E seal/open of 1,400-byte payloads (the TUN MTU) through src/crypto/e2e.ts: nonce, inner header,
// AES-256-GCM, written into a frame at an offset as the data plane does. With the AEAD addon, and with
// node:crypto beside it as the reference (bench/lib/backends.ts).
// Run: node bench/e2e-seal.ts [seconds per figure, default 2]
import { randomBytes } from 'node:crypto';
import { E2ECipher, e2eKey, open, E2E_OVERHEAD_BYTES } from '../src/crypto/e2e.ts';
import { emit, skip } from './lib/emit.ts';
import { measureBothBackends, NODE_CRYPTO_REFERENCE } from './lib/backends.ts';

const PAYLOAD_BYTES = 1400;
const seconds = Number(process.argv[2] ?? 2);

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

function measure(): { seal: number; open: number } {
  const key = e2eKey(randomBytes(32));
  const cipher = new E2ECipher();
  const payload = randomBytes(PAYLOAD_BYTES);
  const out = new Uint8Array(40 + PAYLOAD_BYTES + E2E_OVERHEAD_BYTES);
  const seal = rate(() => cipher.sealInto(key, 0, payload, out, 40));
  const sealed = out.subarray(40);
  const opened = rate(() => {
    const r = open(key, sealed);
    if (!r.ok) throw new Error('open failed');
  });
  return { seal, open: opened };
}

const r = await measureBothBackends(measure);
for (const dir of ['seal', 'open'] as const) {
  const figure = `${dir}_pkt_per_s`;
  if (r.native === undefined) {
    skip('e2e-seal', figure, `crypto addon not available: ${r.note}`);
    continue;
  }
  emit({
    bench: 'e2e-seal',
    figure,
    value: r.native[dir],
    unit: 'pkt/s',
    what: `E2E ${dir} (AES-256-GCM, Mycelium's user-data frame) of ${PAYLOAD_BYTES}-byte payloads, one thread, AEAD addon`,
    reference: { name: NODE_CRYPTO_REFERENCE, value: r.node[dir] },
    extra: { mbitPerS: Math.round((r.native[dir] * PAYLOAD_BYTES * 8) / 1e6), node: process.version },
  });
}
