// Helpers for the tests of Hypha's own routes: two real nodes in this process linked natively (chat and state
// cross between them), HTTP calls, shape checks against the OpenAPI document, and a server-sent-event reader.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiPart } from '../../src/node/parts.ts';
import { checkJson } from '../helpers/json-schema.ts';
import { linked, startHyphaNode, type RunningNode } from '../helpers/hypha-nodes.ts';
import { waitFor } from '../helpers/poll.ts';

export type Doc = {
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

export interface ApiNode extends RunningNode {
  /** http://127.0.0.1:port/api/v1 */
  url: string;
  apiAddr: string;
  nodeId: string;
}

export async function startApiNode(t: TestContext, base: string, name: string, flags: Record<string, string | boolean | string[]> = {}): Promise<ApiNode> {
  const n = await startHyphaNode(t, base, name, { flags: { api_addr: '127.0.0.1:0', 'state.sync_interval': '1s', ...flags } });
  const api = n.node.part<ApiPart>('api')!.server!;
  return { ...n, url: api.url!, apiAddr: api.address!, nodeId: n.node.identity.nodeId };
}

/** Two nodes, B bootstrapping to A, linked. */
export async function startPair(t: TestContext, base: string, flags: Record<string, string | boolean | string[]> = {}): Promise<[ApiNode, ApiNode]> {
  const a = await startApiNode(t, base, 'a', flags);
  const b = await startApiNode(t, base, 'b', { ...flags, 'network.bootstrap': [a.addr] });
  await waitFor(() => linked(a, b), 'a and b linked', 30_000);
  return [a, b];
}

export interface Answer {
  status: number;
  type: string;
  text: string;
  json(): unknown;
}

export async function call(n: { url: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${n.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as unknown };
}

export async function getJson<T>(n: { url: string }, path: string): Promise<T> {
  const r = await call(n, 'GET', path);
  assert.equal(r.status, 200, `GET ${path}: ${r.status} ${r.text}`);
  return r.json() as T;
}

export function assertShape(doc: Doc, value: unknown, method: string, template: string, status = 200): void {
  const op = doc.paths[`/api/v1${template}`]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${template} is in the document`);
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema;
  assert.ok(schema, `${method} ${template} documents a JSON ${status}`);
  assert.deepEqual(checkJson(value, schema, doc.components.schemas), [], `${method} ${template}: ${JSON.stringify(value)}`);
}

/** Asserts a plain-text error with this status whose message matches. */
export function assertError(r: Answer, status: number, message: RegExp): void {
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  assert.match(r.type, /^text\/plain/);
  assert.match(r.text, message);
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Opens a server-sent event stream and collects its events until closed. */
export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<{ events: SseEvent[]; status: number; type: string; comments: number; close(): void; waitFor(n: number, what: string): Promise<void> }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const events: SseEvent[] = [];
  let comments = 0;
  const out = {
    events,
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    get comments() {
      return comments;
    },
    close: () => ac.abort(),
    waitFor: (n: number, what: string) => waitFor(() => events.length >= n, what, 30_000),
  };
  if (!res.body) return out;
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev: SseEvent = { data: '' };
          const data: string[] = [];
          let comment = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comment = true;
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0 && ev.event === undefined) {
            if (comment) comments++;
            continue;
          }
          ev.data = data.join('\n');
          events.push(ev);
        }
      }
    } catch {
      // aborted
    }
  })();
  return out;
}
