// The small pieces: allow-list entries, the RTT estimator, how messages are cut into chunks, and the
// receiver's chunk and DONE rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blake3 } from '@noble/hashes/blake3.js';
import { cidrContains, formatCidr, parseCidr, sameCidr } from '../../src/messages/cidr.ts';
import { CHUNK_BYTES, chunkCount, chunkOffset, chunkSize, MIN_CHUNK_BYTES } from '../../src/messages/chunks.ts';
import { PartialMessage } from '../../src/messages/inbound.ts';
import { INITIAL_RTO_MS, MAX_RTO_MS, MIN_RTO_MS, RttEstimator } from '../../src/messages/rtt.ts';
import { fromBase64 } from '../../src/messages/types.ts';
import { parseIpv6 } from '../../src/wire/ipv6.ts';

test('allow-list entries: IPs and CIDRs, IPv6 and IPv4, matching and equality', () => {
  const c = (s: string) => {
    const r = parseCidr(s);
    assert.ok(r.ok, s);
    return r.value;
  };
  assert.equal(formatCidr(c('503:5478:df06:d79a::/64')), '503:5478:df06:d79a::/64');
  assert.equal(formatCidr(c('400::1')), '400::1/128');
  assert.equal(formatCidr(c('10.1.2.3')), '10.1.2.3/32');
  assert.ok(cidrContains(c('400::/7'), parseIpv6('5ff::1')!));
  assert.ok(!cidrContains(c('400::/7'), parseIpv6('600::1')!));
  assert.ok(!cidrContains(c('0.0.0.0/0'), parseIpv6('400::1')!), 'IPv4 entries never match overlay sources');
  assert.ok(sameCidr(c('400::1/64'), c('400::/64')));
  assert.ok(!sameCidr(c('400::/64'), c('400::/65')));
  for (const bad of ['', 'x', '400::/', '400::/-1', '1.2.3.256', '1.2.3.4/33', '[400::1]', '400::1/64/1']) assert.equal(parseCidr(bad).ok, false, bad);
  fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => void parseCidr(s)));
});

test('RTT estimator: RFC 6298 smoothing, floor, ceiling and backoff', () => {
  const r = new RttEstimator();
  assert.equal(r.rtoMs, INITIAL_RTO_MS);
  r.sample(100);
  assert.equal(r.srttMs, 100);
  assert.equal(r.rttvarMs, 50);
  assert.equal(r.rtoMs, 300);
  r.sample(100);
  assert.equal(r.rttvarMs, 37.5);
  r.backoff();
  assert.equal(r.rtoMs, 500);
  for (let i = 0; i < 20; i++) r.backoff();
  assert.equal(r.rtoMs, MAX_RTO_MS);
  r.sample(1);
  assert.ok(r.rtoMs >= MIN_RTO_MS && r.rtoMs < 500);
});

test('chunks: Mycelium\'s count and 1,300-byte size, with a short last chunk topped up to 250 bytes', () => {
  for (const len of [0, 1, 249, 250, 1300, 1301, 1400, 1549, 1550, 2600, 2700, 1024 * 1024, 16 * 1024 * 1024 + 7]) {
    const n = chunkCount(len);
    assert.equal(n, Math.ceil(len / CHUNK_BYTES));
    let end = 0;
    for (let i = 0; i < n; i++) {
      assert.equal(chunkOffset(len, n, i), end, `len ${len} chunk ${i}`);
      const size = chunkSize(len, n, i);
      assert.ok(size <= CHUNK_BYTES);
      if (n > 1) assert.ok(size >= MIN_CHUNK_BYTES, `len ${len} chunk ${i} has ${size} bytes`);
      end += size;
    }
    assert.equal(end, len);
  }
  assert.deepEqual([chunkSize(1400, 2, 0), chunkSize(1400, 2, 1)], [1150, 250]);
});

test('receiver chunk rules: bounds, index limit, minimum size except the chunk that ends the message', () => {
  const mk = (length: number) => new PartialMessage({ id: new Uint8Array(8), src: new Uint8Array(16), dst: new Uint8Array(16), isReply: false, topic: new Uint8Array(0), length, now: 0 });
  const p = mk(1400);
  assert.equal(p.addChunk(0, 1300, new Uint8Array(101), 0)?.code, 'out-of-bounds');
  assert.equal(p.addChunk(6, 0, new Uint8Array(10), 0)?.code, 'index-too-high');
  assert.equal(p.addChunk(0, 0, new Uint8Array(100), 0)?.code, 'too-small');
  // Mycelium's own 1,300 + 100 split: the short chunk ends the message, so Hypha takes it.
  assert.equal(p.addChunk(0, 0, new Uint8Array(1300).fill(1), 0), undefined);
  assert.equal(p.addChunk(1, 1300, new Uint8Array(100).fill(2), 0), undefined);
  const data = new Uint8Array(1400).fill(1);
  data.fill(2, 1300);
  assert.deepEqual(p.complete(2, blake3(data)), { ok: true, data });
  assert.equal((p.complete(3, blake3(data)) as { code: string }).code, 'count');
  assert.equal((p.complete(2, new Uint8Array(32)) as { code: string }).code, 'checksum');
  const gap = mk(2600);
  gap.addChunk(0, 0, new Uint8Array(1300), 0);
  gap.addChunk(2, 1300, new Uint8Array(1300), 0);
  assert.equal((gap.complete(2, blake3(new Uint8Array(2600))) as { code: string }).code, 'missing');
  const overlap = mk(2600);
  overlap.addChunk(0, 0, new Uint8Array(1300), 0);
  overlap.addChunk(1, 1000, new Uint8Array(1300), 0);
  assert.equal((overlap.complete(2, blake3(new Uint8Array(2600))) as { code: string }).code, 'not-contiguous');
  assert.deepEqual(mk(0).complete(0, blake3(new Uint8Array(0))), { ok: true, data: new Uint8Array(0) });
});

test('strict base64 for API input', () => {
  assert.deepEqual(fromBase64('aGVsbG8='), new TextEncoder().encode('hello'));
  assert.deepEqual(fromBase64('aGVsbG8'), new TextEncoder().encode('hello'));
  assert.deepEqual(fromBase64(''), new Uint8Array(0));
  for (const bad of ['a', 'aGVsbG8*', 'aGV=sbG8', 'aGVsbG8===', '====']) assert.equal(fromBase64(bad), undefined, bad);
});
