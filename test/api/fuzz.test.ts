// Every route the API serves gets random and invalid input (path parameters, query strings, bodies, content
// types, headers): the answer is never a 5xx, and every error is a text/plain message that says something.
// The node behind it is real (in this process), so the handlers' own checks are exercised too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ApiServer } from '../../src/api/server.ts';
import { startOverlayNode } from '../helpers/overlay-nodes.ts';

// Only loopback endpoints are ever valid here: a random body must not make the node dial the world.
const endpointLike = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('tcp://127.0.0.1:1', 'tcp://[::1]:2', 'tls://127.0.0.1:3', 'quic://[::1]:4', 'tcp://127.0.0.1:0', 'tcp://[::1]', 'tcp://', ''),
  fc.string({ maxLength: 20 }).map((s) => `tcp://${s}`),
  fc.string({ maxLength: 20 }).map((s) => `tcp://127.0.0.1:${s}`),
);
const ipLike = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.constantFrom('::', '::1', '400::1', '4ff::', 'fe80::1%eth0', '1.2.3.4', '::ffff:1.2.3.4', '[::1]', '400::1/64', '0:0:0:0:0:0:0:0:0'),
  fc.ipV6(),
  fc.ipV4(),
);
const paramValue = fc.oneof(endpointLike, ipLike);
/** A path segment as a client may send it: encoded, or raw with characters that upset URL parsers. */
const segment = fc.oneof(
  paramValue.map((v) => encodeURIComponent(v)),
  fc.string({ unit: fc.constantFrom(...'%/?#:[]@!$&\'()*+,;=. a1~-_'.split('')), maxLength: 12 }),
);
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ endpoint: fc.oneof(endpointLike, fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
  fc.constant(''),
  fc.constant('{"__proto__":{"x":1},"endpoint":"tcp://[::1]:5"}'),
  fc.constant('{"constructor":{"prototype":{"x":1}}}'),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')),
);
const contentType = fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=latin1', 'garbage', ''), { nil: undefined });
// A numeric timeout would make GET /messages wait that long: those become 0 (long-polls are tested elsewhere).
const query = fc.dictionary(fc.constantFrom('peek', 'timeout', 'topic', 'x', '', '__proto__', 'a[b]'), fc.string({ maxLength: 10 }), { maxKeys: 3 })
  .map((q) => Object.entries(q).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(k === 'timeout' && /^\s*[\d.]+\s*$/.test(v) ? '0' : v)}`).join('&'));
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

interface Case {
  method: string;
  url: string;
  body: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
}

async function checkCase(api: ApiServer, c: Case): Promise<void> {
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.authorization !== undefined) headers.authorization = c.authorization;
  const r = await api.app.inject({ method: c.method as 'GET', url: c.url, payload: c.body, headers });
  const what = `${c.method} ${c.url} (${c.contentType}) ${JSON.stringify(c.body)} → ${r.statusCode} ${r.body}`;
  assert.ok(r.statusCode < 500, what);
  if (r.statusCode >= 400 && c.method !== 'HEAD') {
    assert.match(String(r.headers['content-type']), /^text\/plain/, what);
    assert.ok(r.body.trim().length > 5, what);
  }
}

/**
 * The templates of every documented route, e.g. ["GET", "/api/v1/admin/peers/{endpoint}"]. Routes that answer
 * with an endless text/event-stream are left out: inject() would wait for their end forever; they get random
 * input over a real socket in hypha-fuzz.test.ts.
 */
function documentedRoutes(api: ApiServer): [string, string][] {
  const doc = api.document as { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>> };
  const streams = (op: { responses?: Record<string, { content?: Record<string, unknown> }> }) =>
    Object.values(op.responses ?? {}).some((r) => r.content?.['text/event-stream'] !== undefined);
  return Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => !streams(op)).map(([m]): [string, string] => [m.toUpperCase(), p]));
}

test('random and invalid input to every route never gets a 5xx, and every error says what is wrong (property)', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-fuzz-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const n = await startOverlayNode(t, base, 'fuzz');
  const api = n.api!;
  const routes = documentedRoutes(api);
  assert.ok(routes.length >= 10);
  for (const [m, template] of routes) {
    const c = fc.record({
      // Mostly the route's own method; sometimes another (404 or 405-like answers must be clean too).
      method: fc.oneof({ weight: 4, arbitrary: fc.constant(m) }, { weight: 1, arbitrary: method }),
      segments: fc.array(segment, { minLength: 2, maxLength: 2 }),
      query,
      body: fc.option(body, { nil: undefined }),
      contentType,
    }).map(({ method, segments, query, body, contentType }): Case => {
      let i = 0;
      const path = template.replace(/\{\w+\}/g, () => segments[i++]);
      return { method, url: query === '' ? path : `${path}?${query}`, body: method === 'GET' || method === 'HEAD' ? undefined : body, contentType, authorization: undefined };
    });
    await fc.assert(fc.asyncProperty(c, (x) => checkCase(api, x)), { numRuns: 150 });
  }
  // Whatever got through as a valid endpoint went to loopback only; nothing is left dialling the world.
  assert.ok(n.mycelium.peers().every((p) => /^(127\.0\.0\.1|\[::1\]):/.test(p.endpoint.addr.socket)), JSON.stringify(n.mycelium.peers()));
});

test('random URLs, methods and Authorization headers against a node with a token: 401 or 404, never a 5xx (property)', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-fuzz-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await writeFile(join(base, 'token'), 'tok3n');
  const n = await startOverlayNode(t, base, 'fuzz', { api_token_file: join(base, 'token') });
  const api = n.api!;
  const c = fc.record({
    method,
    path: fc.oneof(fc.constantFrom(...documentedRoutes(api).map(([, p]) => p)), fc.array(segment, { maxLength: 4 }).map((s) => `/api/v1/${s.join('/')}`),
      fc.string({ maxLength: 30 }).map((s) => `/${encodeURIComponent(s)}`)),
    authorization: fc.option(fc.oneof(fc.constant('Bearer tok3n'), fc.constant('bearer tok3n'), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }).map((s) => `Bearer ${s}`)), { nil: undefined }),
    body: fc.option(body, { nil: undefined }),
    contentType,
  }).map((x): Case => ({ method: x.method, url: x.path, body: x.method === 'GET' || x.method === 'HEAD' ? undefined : x.body, contentType: x.contentType, authorization: x.authorization }));
  await fc.assert(fc.asyncProperty(c, (x) => checkCase(api, x)), { numRuns: 500 });
});
