import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatHostPort, isWildcardHost, splitHostPort } from '../../src/config/hostport.ts';

test('host:port splitting', () => {
  assert.deepEqual(splitHostPort('example.org:4000'), { ok: true, value: { host: 'example.org', port: 4000 } });
  assert.deepEqual(splitHostPort('[2001:db8::1]:4000'), { ok: true, value: { host: '2001:db8::1', port: 4000 } });
  assert.deepEqual(splitHostPort(':4000'), { ok: true, value: { host: '', port: 4000 } });
  for (const bad of ['example.org', 'h:', 'h:x', 'h:65536', '[::1]', '[::1', '[zz]:1', '::1:4000', 'a b:1', '-:1', 'h:-1']) {
    assert.equal(splitHostPort(bad).ok, false, bad);
  }
});

test('wildcard hosts', () => {
  for (const w of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::ffff:0.0.0.0', '0000::']) assert.ok(isWildcardHost(w), w);
  for (const n of ['127.0.0.1', '::1', 'example.org', '0.0.0.1', '::ffff:1.2.3.4', '']) assert.ok(!isWildcardHost(n), n);
});

test('splitting never throws and round-trips what it accepts (property)', () => {
  fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
    const r = splitHostPort(s);
    if (r.ok) assert.deepEqual(splitHostPort(formatHostPort(r.value)), r);
    isWildcardHost(s);
  }), { numRuns: 1000 });
  const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6());
  fc.assert(fc.property(host, fc.integer({ min: 0, max: 65535 }), (h, port) => {
    const r = splitHostPort(formatHostPort({ host: h, port }));
    assert.ok(r.ok, h);
    assert.deepEqual(r.value, { host: h, port });
  }), { numRuns: 500 });
});
