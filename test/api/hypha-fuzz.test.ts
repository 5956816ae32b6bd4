// Random and invalid input to every route of Hypha's own (/hypha/gossip, /hypha/chat, /hypha/state…): keys,
// prefixes, cursors, bodies and content types as a careless or hostile client sends them. The answer is never
// a 5xx, every error is a text/plain message that says something, and every success has the documented shape.
// The event stream is fuzzed over a real socket (its answer never ends by itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ApiPart } from '../../src/node/parts.ts';
import { checkJson } from '../helpers/json-schema.ts';
import { tempBase } from '../helpers/hypha-nodes.ts';
import { startApiNode, type Doc } from './hypha-helpers.ts';

const hex = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'.split('')), minLength, maxLength });
const nodeIdLike = fc.oneof(hex(64, 64).map((s) => s.toLowerCase()), hex(0, 70), fc.constant(''));
const keyLike = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.tuple(nodeIdLike, fc.string({ maxLength: 20 })).map(([id, sub]) => `${id}/${sub}`),
  fc.constantFrom('_tags', '_x', '/', '//', 'a/b/c', ' ', '\t', '\u0000', 'é', '\ud800', 'x'.repeat(300), '_changes', '_events', '%', '..', '.'),
);
/** A path segment: properly encoded, or raw characters URL parsers trip over. */
const segment = fc.oneof(
  keyLike.map((k) => encodeURIComponent(k.replace(/[\ud800-\udfff]/g, '?'))),
  fc.string({ unit: fc.constantFrom(...'%/?#:[]@!$&\'()*+,;=. a1~-_'.split('')), maxLength: 12 }),
);
const smallNumber = fc.constantFrom('0', '1', '5', '100', '1000', '1001', '-1', '1.5', '1e3', '0x10', '', ' ', 'NaN', 'true', '99999999999999999999');
/** Long-poll waits stay short: a random test must not sit out real timeouts. */
const timeout = fc.constantFrom('0', '0.01', '0.05', '-1', '601', 'soon', '', '1e-3', 'Infinity');
const query = fc.record({
  prefix: keyLike,
  after: fc.oneof(smallNumber, keyLike),
  epoch: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('abc', 'a-b_c', '')),
  limit: smallNumber,
  timeout,
  deleted: fc.constantFrom('true', 'false', '1', 'yes', ''),
  x: fc.string({ maxLength: 5 }),
}, { requiredKeys: [] }).map((q) => Object.entries(q).map(([k, v]) => `${k}=${encodeURIComponent(String(v).replace(/[\ud800-\udfff]/g, '?'))}`).join('&'));
const jsonish = fc.jsonValue({ maxDepth: 2 });
const body = fc.oneof(
  fc.record({ nick: fc.oneof(fc.string({ maxLength: 40 }), jsonish), text: fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), jsonish) }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc.record({ value: fc.oneof(fc.string({ maxLength: 50 }), fc.string({ unit: 'binary', maxLength: 30 }), jsonish), valueB64: fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 }), jsonish) }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  jsonish.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
  fc.constant(''),
  fc.constant('{"__proto__":{"value":"x"},"nick":"a","text":"b"}'),
  fc.constant(`{"value":"${'x'.repeat(70_000)}"}`),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')),
);
const contentType = fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'garbage', ''), { nil: undefined });
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

test('random and invalid input to every Hypha route: no 5xx, errors in words, successes in the documented shape (property)', async (t) => {
  const base = await tempBase(t, 'hypha-fuzz-h-');
  const n = await startApiNode(t, base, 'fuzz');
  const api = n.node.part<ApiPart>('api')!.server!;
  const doc = api.document as Doc;
  const routes = Object.entries(doc.paths)
    .filter(([p]) => p.startsWith('/api/v1/hypha/'))
    .flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase(), template: p, op })));
  assert.ok(routes.length >= 8, routes.map((r) => `${r.method} ${r.template}`).join(', '));
  let successes = 0;
  for (const r of routes) {
    const streams = Object.values(r.op.responses).some((x) => x.content?.['text/event-stream'] !== undefined);
    const c = fc.record({
      method: fc.oneof({ weight: 4, arbitrary: fc.constant(r.method) }, { weight: 1, arbitrary: method }),
      segment,
      query,
      body: fc.option(body, { nil: undefined }),
      contentType,
    });
    await fc.assert(fc.asyncProperty(c, async (x) => {
      const path = r.template.replace(/\{\w+\}/g, x.segment);
      const url = `${path}?${x.query}`;
      const payload = x.method === 'GET' || x.method === 'HEAD' ? undefined : x.body;
      const headers: Record<string, string> = {};
      if (x.contentType !== undefined) headers['content-type'] = x.contentType;
      let status: number;
      let type: string;
      let text: string;
      // A {key} segment of "_events" lands on the event stream's own route, which never ends either.
      if (x.method === 'GET' && (streams || path.endsWith('/state/_events'))) {
        // A real request that is dropped once the answer starts: an open stream is a success.
        const ac = new AbortController();
        const res = await fetch(`http://${n.apiAddr}${url}`, { headers, signal: ac.signal });
        status = res.status;
        type = res.headers.get('content-type') ?? '';
        text = status === 200 ? '' : await res.text();
        ac.abort();
      } else {
        const res = await api.app.inject({ method: x.method as 'GET', url, payload, headers });
        status = res.statusCode;
        type = String(res.headers['content-type'] ?? '');
        text = res.body;
      }
      const what = `${x.method} ${url} (${x.contentType}) ${JSON.stringify(payload)?.slice(0, 200)} → ${status} ${text.slice(0, 200)}`;
      assert.ok(status < 500, what);
      if (status >= 400 && x.method !== 'HEAD') {
        assert.match(type, /^text\/plain/, what);
        assert.ok(text.trim().length > 5, what);
      }
      if (status === 200 && x.method === r.method && x.method !== 'HEAD') {
        successes++;
        if (streams || type.startsWith('text/event-stream')) {
          assert.match(type, /^text\/event-stream/, what);
        } else {
          const schema = r.op.responses['200']?.content?.['application/json']?.schema;
          assert.ok(schema, what);
          assert.deepEqual(checkJson(JSON.parse(text), schema, doc.components.schemas), [], what);
        }
      }
    }), { numRuns: 120 });
  }
  assert.ok(successes > 50, `only ${successes} random requests succeeded: the generators miss the valid inputs`);
  // The node is still well: its state answers and the journal has no stuck readers.
  const ok = await api.app.inject({ method: 'GET', url: '/api/v1/hypha/state' });
  assert.equal(ok.statusCode, 200);
});
