// The node's side of Hypha's own routes (src/api/hypha-services.ts): gossip statistics, the partyline for
// programs, and the replicated state, turned into the JSON the routes send.
import { JournalFullError, type Journal, type JournalRead } from '../base/journal.ts';
import type {
  ChatLineJson,
  ChatServices,
  GossipServices,
  Outcome,
  StateChangeJson,
  StateFailureCode,
  StateItemJson,
  StateServices,
  StateStreamEvent,
} from '../api/hypha-services.ts';
import type { GossipEngine } from '../gossip/engine.ts';
import type { ChatLineEvent, PartylineHub } from '../partyline/hub.ts';
import { parseKey } from '../state/entry.ts';
import { StateError, type StateChange, type StateItem, type StateService } from '../state/service.ts';

/** A quiet event stream gets a comment this often, so proxies and idle timeouts keep it open. */
export const SSE_KEEPALIVE_MS = 15_000;
/** Changes one stream reads from the journal at a time. */
const STREAM_BATCH = 256;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fail<C extends string>(code: C, message: string): { ok: false; code: C; message: string } {
  return { ok: false, code, message };
}

// ---- gossip

export function gossipServices(gossip: () => GossipEngine): GossipServices {
  return { stats: () => gossip().stats() };
}

// ---- chat

export interface ChatSources {
  /** Undefined when the node has no partyline. */
  partyline(): { hub: PartylineHub; recent: Journal<ChatLineEvent> } | undefined;
  /** Connected native peers (chat goes to them). */
  connectedPeers(): number;
}

function chatLine(seq: number, l: ChatLineEvent): ChatLineJson {
  return { seq, origin: l.origin, via: l.via, nick: l.nick, text: l.text, nodeId: l.nodeId, nodeName: l.nodeName ?? null, time: iso(l.atMs), timeMs: l.atMs };
}

export function chatServices(src: ChatSources): ChatServices {
  return {
    send: (nick, text) => {
      const p = src.partyline();
      if (!p) return fail('unavailable', 'this node runs no partyline');
      const r = p.hub.say(nick, text);
      if (!r.ok) {
        if (r.code === 'paced') return { ...fail('paced', r.message), retryAfterMs: r.retryAfterMs };
        return fail(r.code === 'stopped' ? 'unavailable' : 'bad-input', r.message);
      }
      // The line is in the journal already (the hub told it first); its seq is the latest.
      const seq = p.recent.last;
      const mesh = r.mesh === 'no-mesh' ? 'no-mesh' : src.connectedPeers() === 0 ? 'no-peers' : 'sent';
      return { ok: true, value: { line: chatLine(seq, r.line), mesh } };
    },
    recent: async (q) => {
      const p = src.partyline();
      if (!p) return fail('unavailable', 'this node runs no partyline');
      let r: JournalRead<ChatLineEvent>;
      try {
        r = await p.recent.wait({ after: q.after, epoch: q.epoch, limit: q.limit, tail: q.after === undefined }, q.timeoutMs, q.signal);
      } catch (e) {
        if (e instanceof JournalFullError) return fail('busy', `too many readers are waiting for chat lines: ${e.message}`);
        throw e;
      }
      return { ok: true, value: { lines: r.entries.map((e) => chatLine(e.seq, e.value)), next: r.next, missed: r.missed, reset: r.reset, epoch: r.epoch } };
    },
  };
}

// ---- state

/** The JSON of a state entry: text when the value is UTF-8, base64 always. */
export function stateItemJson(i: StateItem): StateItemJson {
  let value: string | null;
  try {
    value = utf8.decode(i.value);
  } catch {
    value = null;
  }
  return {
    key: i.key,
    owner: i.owner,
    subkey: i.subkey,
    value,
    valueB64: Buffer.from(i.value.buffer, i.value.byteOffset, i.value.byteLength).toString('base64'),
    ts: i.ts.toString(),
    writtenAt: iso(i.writtenAtMs),
    writtenAtMs: i.writtenAtMs,
    deleted: i.deleted,
    size: i.size,
  };
}

function changeJson(seq: number, c: StateChange): StateChangeJson {
  return { seq, source: c.source, fromPeer: c.fromPeer ?? null, item: stateItemJson(c.item) };
}

const WRITE_FAILURES: Record<string, StateFailureCode> = {
  key: 'bad-key',
  'key-too-long': 'bad-key',
  'value-too-long': 'bad-value',
  namespace: 'namespace',
  reserved: 'namespace',
  'owner-full': 'limit',
  full: 'limit',
  'bytes-full': 'limit',
  stopped: 'unavailable',
  internal: 'unavailable',
};

function writeFailure(e: unknown): { ok: false; code: StateFailureCode; message: string } {
  if (e instanceof StateError) return fail(WRITE_FAILURES[e.code] ?? 'bad-value', e.message);
  throw e;
}

export interface StateSources {
  state(): StateService;
  /** Every change of the map since the node started, numbered (StatePart.changes). */
  changes(): Journal<StateChange>;
}

export function stateServices(src: StateSources): StateServices {
  /** The full key for `key`, or why it is not one. */
  const resolve = (key: string): Outcome<string, StateFailureCode> => {
    const full = src.state().resolveKey(key);
    const parsed = parseKey(full);
    if (!parsed.ok) return fail('bad-key', parsed.error.message);
    return { ok: true, value: full };
  };
  const prefixFilter = (prefix: string | undefined) => (prefix === undefined || prefix === '' ? undefined : (c: StateChange) => c.item.key.startsWith(prefix));

  return {
    nodeId: () => src.state().nodeId,
    list: (q) => {
      const state = src.state();
      const items = state.list({ prefix: q.prefix, after: q.after, includeDeleted: q.includeDeleted, limit: q.limit + 1 });
      const more = items.length > q.limit;
      const page = more ? items.slice(0, q.limit) : items;
      return { ok: true, value: { node: state.nodeId, items: page.map(stateItemJson), next: more ? page[page.length - 1].key : null } };
    },
    get: (key, includeDeleted) => {
      const full = resolve(key);
      if (!full.ok) return full;
      const item = src.state().getEntry(full.value);
      if (!item || (item.deleted && !includeDeleted)) {
        return fail('not-found', item ? `${full.value} was deleted (ask with deleted=true for its tombstone)` : `no key ${full.value}`);
      }
      return { ok: true, value: stateItemJson(item) };
    },
    put: async (key, value) => {
      try {
        return { ok: true, value: stateItemJson(await src.state().put(key, value)) };
      } catch (e) {
        return writeFailure(e);
      }
    },
    delete: async (key) => {
      const full = resolve(key);
      if (!full.ok) return full;
      try {
        const t = await src.state().delete(key);
        return t ? { ok: true, value: stateItemJson(t) } : fail('not-found', `${full.value} holds no value`);
      } catch (e) {
        return writeFailure(e);
      }
    },
    changes: async (q) => {
      let r: JournalRead<StateChange>;
      try {
        r = await src.changes().wait({ after: q.after, epoch: q.epoch, limit: q.limit, filter: prefixFilter(q.prefix) }, q.timeoutMs, q.signal);
      } catch (e) {
        if (e instanceof JournalFullError) return fail('busy', `too many readers are waiting for state changes: ${e.message}`);
        throw e;
      }
      return { ok: true, value: { changes: r.entries.map((e) => changeJson(e.seq, e.value)), next: r.next, missed: r.missed, reset: r.reset, epoch: r.epoch } };
    },
    follow: (q) => {
      const journal = src.changes();
      if (journal.waiting >= journal.maxWaiters) return fail('busy', `${journal.maxWaiters} readers are following the state already; try again later`);
      return { ok: true, value: followChanges(journal, q.after, q.epoch, q.signal, prefixFilter(q.prefix)) };
    },
  };
}

/** The changes after the cursor, then each new one as it comes, a keepalive when quiet; ends when `signal` aborts. */
async function* followChanges(
  journal: Journal<StateChange>,
  after: number | undefined,
  epoch: string | undefined,
  signal: AbortSignal,
  filter: ((c: StateChange) => boolean) | undefined,
): AsyncGenerator<StateStreamEvent> {
  let cursor = after;
  let cursorEpoch = epoch;
  while (!signal.aborted) {
    let r: JournalRead<StateChange>;
    try {
      r = await journal.wait({ after: cursor, epoch: cursorEpoch, limit: STREAM_BATCH, filter }, SSE_KEEPALIVE_MS, signal);
    } catch (e) {
      if (e instanceof JournalFullError) return;
      throw e;
    }
    if (signal.aborted) return;
    if (r.missed > 0 || r.reset) yield { kind: 'missed', missed: r.missed, reset: r.reset, epoch: r.epoch, next: r.next };
    for (const e of r.entries) yield { kind: 'change', change: changeJson(e.seq, e.value), epoch: r.epoch };
    if (r.entries.length === 0 && r.missed === 0 && !r.reset) yield { kind: 'keepalive' };
    cursor = r.next;
    cursorEpoch = r.epoch;
  }
}
