// `hypha state get|set|del|list|watch`: the replicated state of a running node, through its HTTP API
// (/api/v1/hypha/state…). Texts follow the partyline's /get, /set, /del and /state (Micelio's, with short node
// ids); --json prints the API's JSON (watch: one change per line). Keys are "<node_id>/<subkey>"; a bare
// subkey is the node's own, a short node id (12 hex) works when it is unambiguous.
import { readFile } from 'node:fs/promises';
import { sseEvents, type ApiClient } from '../api/client.ts';
import type { StateChangeJson, StateItemJson, StateListPage } from '../api/hypha-services.ts';
import { displayKey, displayValue } from '../partyline/state-display.ts';
import { printJson, withClient, type ClientArgs } from './admin.ts';
import { formatTable } from './table.ts';

/** Entries fetched per request while listing. */
const LIST_PAGE = 1000;
const NODE_ID = /^[0-9a-f]{64}$/;

function bytesOf(item: StateItemJson): Uint8Array {
  return new Uint8Array(Buffer.from(item.valueB64, 'base64'));
}

function time(item: StateItemJson): string {
  return item.writtenAt.replace('.000Z', 'Z');
}

function meta(item: StateItemJson): string {
  return `ts=${item.ts} node=${item.owner.slice(0, 12)} at ${time(item)}`;
}

const enc = encodeURIComponent;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A prefix the API can apply (a full node id first) or one matched here, as /state does: key, subkey or short key. */
function localMatch(prefix: string): ((i: StateItemJson) => boolean) | undefined {
  if (prefix === '' || NODE_ID.test(prefix.slice(0, 64))) return undefined;
  return (i) => i.key.startsWith(prefix) || i.subkey.startsWith(prefix) || displayKey(i).startsWith(prefix);
}

async function ok(client: ApiClient, method: string, path: string, body?: unknown): Promise<{ status: number; json?: unknown; message?: string }> {
  const r = await client.request(method, path, body);
  if (r.status === 200) return { status: 200, json: JSON.parse(r.text) as unknown };
  return { status: r.status, message: r.text.trim() || `the node answered ${r.status}` };
}

export function stateGet(args: ClientArgs, key: string, opts: { value: boolean; deleted: boolean }): Promise<number> {
  return withClient('state get', args, async (client) => {
    const r = await ok(client, 'GET', `/hypha/state/${enc(key)}${opts.deleted ? '?deleted=true' : ''}`);
    if (r.status !== 200) {
      args.io.stderr(r.status === 404 ? `${key}: not found (${r.message})\n` : `hypha state get: ${r.message}\n`);
      return 1;
    }
    const item = r.json as StateItemJson;
    if (args.json) printJson(args.io, item);
    else if (opts.value) {
      if (item.value === null) {
        args.io.stderr(`hypha state get: ${item.key} holds ${bytesOf(item).length} bytes that are not UTF-8 text; use --json (valueB64)\n`);
        return 1;
      }
      args.io.stdout(`${item.value}\n`);
    } else if (item.deleted) args.io.stdout(`${displayKey(item)}: deleted (${meta(item)})\n`);
    else args.io.stdout(`${displayKey(item)} = ${displayValue(bytesOf(item))}  (${meta(item)})\n`);
    return 0;
  });
}

export function stateSet(args: ClientArgs, key: string, value: string | undefined, file: string | undefined): Promise<number> {
  return withClient('state set', args, async (client) => {
    if ((value === undefined) === (file === undefined)) {
      args.io.stderr('hypha state set: give the value as an argument or with --file PATH (- reads stdin), not both\n');
      return 2;
    }
    let body: { value: string } | { valueB64: string };
    if (file !== undefined) {
      try {
        body = { valueB64: (file === '-' ? await readStdin() : await readFile(file)).toString('base64') };
      } catch (e) {
        args.io.stderr(`hypha state set: cannot read ${file === '-' ? 'stdin' : file}: ${(e as Error).message}\n`);
        return 1;
      }
    } else body = { value: value as string };
    const r = await ok(client, 'PUT', `/hypha/state/${enc(key)}`, body);
    if (r.status !== 200) {
      args.io.stderr(`hypha state set: ${r.message}\n`);
      return 1;
    }
    const item = r.json as StateItemJson;
    if (args.json) printJson(args.io, item);
    else args.io.stdout(`Set ${displayKey(item)} = ${displayValue(bytesOf(item))} (ts=${item.ts})\n`);
    return 0;
  });
}

export function stateDel(args: ClientArgs, key: string): Promise<number> {
  return withClient('state del', args, async (client) => {
    const r = await ok(client, 'DELETE', `/hypha/state/${enc(key)}`);
    if (r.status !== 200) {
      args.io.stderr(r.status === 404 ? `${key}: not found (${r.message})\n` : `hypha state del: ${r.message}\n`);
      return 1;
    }
    const item = r.json as StateItemJson;
    if (args.json) printJson(args.io, item);
    else args.io.stdout(`Deleted ${displayKey(item)} (ts=${item.ts})\n`);
    return 0;
  });
}

export interface ListOpts {
  prefix: string;
  own: boolean;
  deleted: boolean;
  limit: number | undefined;
}

export function stateList(args: ClientArgs, o: ListOpts): Promise<number> {
  return withClient('state list', args, async (client) => {
    const local = o.own ? undefined : localMatch(o.prefix);
    let prefix = local ? '' : o.prefix;
    if (o.own) {
      const first = await client.getJson<StateListPage>('/hypha/state?limit=1');
      prefix = `${first.node}/${o.prefix}`;
    }
    const items: StateItemJson[] = [];
    let after: string | null = null;
    do {
      const q = new URLSearchParams({ limit: String(LIST_PAGE), ...(prefix === '' ? {} : { prefix }), ...(after === null ? {} : { after }), ...(o.deleted ? { deleted: 'true' } : {}) });
      const page: StateListPage = await client.getJson<StateListPage>(`/hypha/state?${q}`);
      for (const i of page.items) if (local === undefined || local(i)) items.push(i);
      after = page.next;
    } while (after !== null && (o.limit === undefined || items.length < o.limit));
    const shown = o.limit === undefined ? items : items.slice(0, o.limit);
    if (args.json) {
      printJson(args.io, shown);
      return 0;
    }
    if (shown.length === 0) {
      args.io.stdout(o.prefix === '' && !o.own ? 'State: (empty)\n' : `State: nothing under ${o.own ? 'this node\'s ' : ''}${o.prefix || 'keys'}\n`);
      return 0;
    }
    const owners = new Set(shown.map((i) => i.owner)).size;
    args.io.stdout(`State (${shown.length} ${shown.length === 1 ? 'entry' : 'entries'} from ${owners} ${owners === 1 ? 'node' : 'nodes'}):\n`);
    args.io.stdout(formatTable(
      [{ header: 'Key' }, { header: 'Value' }, { header: 'Written' }],
      shown.map((i) => [displayKey(i), i.deleted ? '(deleted)' : displayValue(bytesOf(i)), time(i)]),
    ));
    return 0;
  });
}

function describeChange(c: StateChangeJson): string {
  const i = c.item;
  const from = c.source === 'local' ? 'here' : `from ${(c.fromPeer ?? '?').slice(0, 12)}`;
  return i.deleted
    ? `${time(i)}  deleted ${displayKey(i)}  (${from})`
    : `${time(i)}  ${displayKey(i)} = ${displayValue(bytesOf(i))}  (${from})`;
}

/** Follows the node's changes until Ctrl-C (or `stop` aborts); exit 1 if the node goes away. */
export function stateWatch(args: ClientArgs, prefix: string, stop?: AbortSignal): Promise<number> {
  return withClient('state watch', args, async (client) => {
    const ac = new AbortController();
    const onSignal = () => ac.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    stop?.addEventListener('abort', onSignal, { once: true });
    const local = localMatch(prefix);
    try {
      const q = local || prefix === '' ? '' : `?prefix=${enc(prefix)}`;
      const res = await client.openStream(`/hypha/state/_events${q}`, ac.signal);
      if (!args.json) args.io.stderr(`watching ${prefix === '' ? 'the state' : `keys under ${prefix}`} (Ctrl-C to stop)\n`);
      for await (const ev of sseEvents(res.body as ReadableStream<Uint8Array>)) {
        if (ev.event === 'change') {
          const c = JSON.parse(ev.data) as StateChangeJson;
          if (local !== undefined && !local(c.item)) continue;
          args.io.stdout(args.json ? `${JSON.stringify(c)}\n` : `${describeChange(c)}\n`);
        } else if (ev.event === 'missed') {
          const m = JSON.parse(ev.data) as { missed: number; reset: boolean };
          if (args.json) args.io.stdout(`${ev.data}\n`);
          else args.io.stderr(`* ${m.reset ? 'the node restarted' : `${m.missed} changes were missed (this watch fell behind)`}: \`hypha state list\` shows the state now\n`);
        }
      }
      if (ac.signal.aborted) return 0;
      args.io.stderr('hypha state watch: the node closed the stream (stopped?)\n');
      return 1;
    } catch (e) {
      if (ac.signal.aborted) return 0;
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stop?.removeEventListener('abort', onSignal);
    }
  });
}
