// What Hypha's own routes (/api/v1/hypha/gossip, /chat, /state) need from a node: members of NodeServices
// (services.ts), implemented in src/node/services.ts. As in services.ts, the value types are the JSON bodies
// the routes send.
import type { GossipStats } from '../gossip/engine.ts';

/** A failure a route turns into a 4xx/503 with `message` as the text. */
export interface ServiceFailure<C extends string> {
  ok: false;
  code: C;
  message: string;
  /** For "paced" and "busy": when trying again makes sense. */
  retryAfterMs?: number;
}

export type Outcome<T, C extends string> = { ok: true; value: T } | ServiceFailure<C>;

// ---- gossip

export interface GossipServices {
  stats(): GossipStats;
}

// ---- chat

/** One line of the partyline as the API shows it (sanitised, as sessions saw it). */
export interface ChatLineJson {
  /** Position in this node's recent-lines log; pass the last one seen as `after`. */
  seq: number;
  /** Typed on this node (SSH session or API), or arrived from the mesh. */
  origin: 'local' | 'remote';
  via: 'ssh' | 'api' | 'mesh';
  nick: string;
  text: string;
  /** The node the line comes from (this node's id for local lines). */
  nodeId: string;
  /** That node's name if known. */
  nodeName: string | null;
  /** When this node showed the line: ISO 8601 and unix ms. */
  time: string;
  timeMs: number;
}

/** A read of the recent-lines log (GET /hypha/chat) or of state changes: a page and the cursor to go on with. */
export interface CursorPage {
  /** Pass as `after` (with `epoch`) to get what comes next. */
  next: number;
  /** Items after `after` that the bounded log no longer held: re-read the source if it matters. */
  missed: number;
  /** `epoch` was not this run's (the node restarted): the page starts at the oldest item held. */
  reset: boolean;
  /** Identifies this run of the node's log; cursors are only meaningful within one. */
  epoch: string;
}

export interface ChatPage extends CursorPage {
  lines: ChatLineJson[];
}

export interface ChatSent {
  line: ChatLineJson;
  /** "sent": gossiped to the connected peers; "no-peers": no peer is connected; "no-mesh": chat over the mesh is off. */
  mesh: 'sent' | 'no-peers' | 'no-mesh';
}

export interface CursorQuery {
  after?: number;
  epoch?: string;
  limit: number;
  /** Wait this long for something new when there is nothing yet (0 = answer at once). */
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ChatServices {
  /** Says `text` as `nick` on this node's partyline (sessions see it; the mesh gets it). */
  send(nick: string, text: string): Outcome<ChatSent, 'bad-input' | 'paced' | 'unavailable'>;
  /** Recent lines after the cursor (without one: the latest `limit`), waiting up to timeoutMs for one. */
  recent(q: CursorQuery): Promise<Outcome<ChatPage, 'busy' | 'unavailable'>>;
}

// ---- state

/**
 * A state entry in JSON. Values are bytes: `valueB64` always holds them (standard base64); `value` holds them
 * as text when they are valid UTF-8, else null. Timestamps are decimal strings (64-bit hybrid logical clock).
 */
export interface StateItemJson {
  key: string;
  /** The node that owns (and alone writes) the key. */
  owner: string;
  subkey: string;
  value: string | null;
  valueB64: string;
  ts: string;
  /** The author's wall-clock time of the write: ISO 8601 and unix ms. */
  writtenAt: string;
  writtenAtMs: number;
  deleted: boolean;
  /** Bytes of the signed entry as stored and sent. */
  size: number;
}

export interface StateListPage {
  /** This node's id: a key without one is in its namespace. */
  node: string;
  items: StateItemJson[];
  /** Pass as `after` for the next page; null when this was the last. */
  next: string | null;
}

export interface StateChangeJson {
  seq: number;
  /** Written on this node, or received from a peer. */
  source: 'local' | 'peer';
  /** The neighbour it came from (source "peer"). */
  fromPeer: string | null;
  /** The new version; `deleted` true for a deletion. */
  item: StateItemJson;
}

export interface StateChangesPage extends CursorPage {
  changes: StateChangeJson[];
}

/** One event of a server-sent stream of state changes. */
export type StateStreamEvent =
  | { kind: 'change'; change: StateChangeJson; epoch: string }
  | { kind: 'missed'; missed: number; reset: boolean; epoch: string; next: number }
  | { kind: 'keepalive' };

export type StateFailureCode = 'bad-key' | 'bad-value' | 'limit' | 'namespace' | 'not-found' | 'busy' | 'unavailable';

export interface StateServices {
  /** This node's id. */
  nodeId(): string;
  /** Keys starting with `prefix` (full keys), in key order, after `after`. */
  list(q: { prefix?: string; after?: string; limit: number; includeDeleted: boolean }): Outcome<StateListPage, StateFailureCode>;
  /** A key (a bare subkey is this node's); with includeDeleted, a tombstone too. */
  get(key: string, includeDeleted: boolean): Outcome<StateItemJson, StateFailureCode>;
  /** Writes a key of this node's namespace; resolves once durable. */
  put(key: string, value: Uint8Array): Promise<Outcome<StateItemJson, StateFailureCode>>;
  /** Deletes a key of this node's namespace (the tombstone is returned). */
  delete(key: string): Promise<Outcome<StateItemJson, StateFailureCode>>;
  /** Changes after the cursor (without one: from now on), waiting up to timeoutMs. */
  changes(q: CursorQuery & { prefix?: string }): Promise<Outcome<StateChangesPage, StateFailureCode>>;
  /** Changes as a stream until `signal` aborts, with a keepalive when quiet. */
  follow(q: { prefix?: string; after?: number; epoch?: string; signal: AbortSignal }): Outcome<AsyncIterable<StateStreamEvent>, StateFailureCode>;
}
