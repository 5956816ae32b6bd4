import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIpv6, parseIpv6, prefixContains, maskPrefix } from '../../src/wire/ipv6.ts';
import { isIPv6 } from 'node:net';

test('RFC 5952 formatting', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['0548:c783:d7ce:74a3:0000:0000:0000:0000', '548:c783:d7ce:74a3::'],
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
  ];
  for (const [full, want] of cases) assert.equal(formatIpv6(parseIpv6(full)!), want);
});

test('parse rejects what is not an IPv6 address', () => {
  for (const bad of ['', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '::1.2.3.256', 'abc'])
    assert.equal(parseIpv6(bad), undefined, bad);
  assert.deepEqual(parseIpv6('[::1]'), parseIpv6('::1'));
});

test('format and parse round-trip, and agree with node:net (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      const s = formatIpv6(b);
      assert.ok(isIPv6(s), s);
      assert.deepEqual(parseIpv6(s), b);
    }),
  );
  fc.assert(fc.property(fc.string(), (s) => {
    parseIpv6(s); // never throws
  }));
});

test('prefix tests', () => {
  const a = parseIpv6('548:c783:d7ce:74a3:9ba1:a0cb:ae21:338d')!;
  assert.ok(prefixContains(parseIpv6('400::')!, 7, a));
  assert.ok(!prefixContains(parseIpv6('600::')!, 7, a));
  assert.equal(formatIpv6(maskPrefix(a, 64)), '548:c783:d7ce:74a3::');
  assert.equal(formatIpv6(maskPrefix(a, 7)), '400::');
});
