// Desired state (Micelio phase 6). A controller publishes, in its own namespace,
//
//   <controller>/desired/<selector>/<name>  =  value
//
// addressed to the nodes whose tags match <selector> (selector.ts). Each node trusts the controllers in
// [state] controllers; from their live desired entries whose selector matches its own tags it computes
// its effective desired state: for every <name>, the matching entry with the highest timestamp (then the
// greater controller id, then the selector text). Handlers subscribe to changes of it (plugins will).
//
// A node reports what it observes as `<node>/observed/<name>` = JSON {"desired": <desired key>, "ts":
// <its timestamp, decimal>, "value": <text> | "value_b64": <base64>}. With [state] auto_observe (the
// default) the node reports each effective value as soon as it adopts it; a plugin that applies the value
// turns that off and reports through observe() once the value is in effect. Since every node publishes
// its tags (`<node>/_tags`) and its observations, any node can tell, for a desired entry, which nodes it
// targets and which of them have converged to it.
import type { Logger } from '../base/log.ts';
import { Emitter } from '../peers/events.ts';
import { isNodeId } from './entry.ts';
import { decodeTags, matchesSelector, parseSelector, type Selector } from './selector.ts';
import { StateError, TAGS_SUBKEY, type StateChange, type StateItem, type StateService } from './service.ts';

export const DESIRED_SEGMENT = 'desired';
export const OBSERVED_SEGMENT = 'observed';

export interface DesiredEntry {
  /** The full state key of the desired entry. */
  key: string;
  controller: string;
  selector: Selector;
  name: string;
  value: Uint8Array;
  ts: bigint;
}

export interface DesiredChange {
  name: string;
  /** The new effective value, or undefined when nothing is desired for `name` any more. */
  current: DesiredEntry | undefined;
  previous: DesiredEntry | undefined;
}

export interface Observation {
  node: string;
  name: string;
  /** The desired entry the node reports it converged to. */
  desiredKey: string;
  desiredTs: bigint;
  value: Uint8Array | undefined;
  /** When the node wrote the report (its clock, unix ms). */
  atMs: number;
}

export interface Convergence {
  desired: DesiredEntry;
  /** Nodes whose published tags match the selector. */
  targets: string[];
  /** Targets reporting this exact desired version. */
  converged: string[];
  pending: string[];
}

export interface DesiredStateOptions {
  state: StateService;
  logger: Logger;
  /** This node's tags ([node] tags). */
  tags: readonly string[];
  /** Node ids whose desired entries this node follows ([state] controllers). */
  controllers: readonly string[];
  /** Report each effective value as observed when it is adopted (default true). */
  autoObserve?: boolean;
}

interface DesiredEvents {
  change: [change: DesiredChange];
}

/** `<controller>/desired/<selector>/<name>` → its parts, or undefined for any other key. */
export function parseDesiredKey(key: string): { controller: string; selector: Selector; name: string } | undefined {
  const parts = key.split('/');
  if (parts.length < 4 || parts[1] !== DESIRED_SEGMENT || !isNodeId(parts[0])) return undefined;
  const sel = parseSelector(parts[2]);
  const name = parts.slice(3).join('/');
  if (!sel.ok || name === '') return undefined;
  return { controller: parts[0], selector: sel.value, name };
}

export function desiredSubkey(selector: string, name: string): string {
  return `${DESIRED_SEGMENT}/${selector}/${name}`;
}

export function observedSubkey(name: string): string {
  return `${OBSERVED_SEGMENT}/${name}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeObservation(desired: { key: string; ts: bigint }, value: Uint8Array | undefined): Uint8Array {
  const rec: Record<string, string> = { desired: desired.key, ts: desired.ts.toString() };
  if (value !== undefined) {
    try {
      rec.value = utf8.decode(value);
    } catch {
      rec.value_b64 = Buffer.from(value).toString('base64');
    }
  }
  return new TextEncoder().encode(JSON.stringify(rec));
}

export function decodeObservation(item: StateItem): Observation | undefined {
  if (item.deleted || !item.subkey.startsWith(`${OBSERVED_SEGMENT}/`)) return undefined;
  try {
    const rec = JSON.parse(utf8.decode(item.value)) as Record<string, unknown>;
    if (typeof rec.desired !== 'string' || typeof rec.ts !== 'string' || !/^\d{1,20}$/.test(rec.ts)) return undefined;
    let value: Uint8Array | undefined;
    if (typeof rec.value === 'string') value = new TextEncoder().encode(rec.value);
    else if (typeof rec.value_b64 === 'string') value = new Uint8Array(Buffer.from(rec.value_b64, 'base64'));
    return { node: item.owner, name: item.subkey.slice(OBSERVED_SEGMENT.length + 1), desiredKey: rec.desired, desiredTs: BigInt(rec.ts), value, atMs: item.writtenAtMs };
  } catch {
    return undefined;
  }
}

function wins(a: DesiredEntry, b: DesiredEntry): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts;
  if (a.controller !== b.controller) return a.controller > b.controller;
  return a.selector.text > b.selector.text;
}

function sameVersion(a: DesiredEntry | undefined, b: DesiredEntry | undefined): boolean {
  return a?.key === b?.key && a?.ts === b?.ts;
}

export class DesiredState {
  readonly tags: readonly string[];
  readonly controllers: ReadonlySet<string>;
  readonly autoObserve: boolean;
  private readonly state: StateService;
  private readonly log: Logger;
  private readonly events: Emitter<DesiredEvents>;
  /** Live desired entries of trusted controllers that match this node, by key. */
  private readonly candidates = new Map<string, DesiredEntry>();
  private readonly current = new Map<string, DesiredEntry>();
  private off: (() => void) | undefined;
  private readonly writes = new Set<Promise<unknown>>();

  constructor(o: DesiredStateOptions) {
    this.state = o.state;
    this.log = o.logger.child({ component: 'desired' });
    this.tags = [...o.tags];
    this.controllers = new Set(o.controllers);
    this.autoObserve = o.autoObserve ?? true;
    this.events = new Emitter(this.log);
  }

  /** Call after the state service started (its entries are loaded). */
  start(): void {
    for (const c of this.controllers) for (const item of this.state.list({ prefix: `${c}/${DESIRED_SEGMENT}/` })) this.consider(item);
    this.off = this.state.onChange((c) => this.onChange(c));
    this.recompute();
    if (this.autoObserve) this.reconcileObserved();
    this.log.info({ tags: this.tags, controllers: [...this.controllers].map((c) => c.slice(0, 12)), effective: this.current.size }, 'desired state ready');
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    await Promise.allSettled([...this.writes]);
  }

  /** The effective desired state of this node, by name. */
  effective(): DesiredEntry[] {
    return [...this.current.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): DesiredEntry | undefined {
    return this.current.get(name);
  }

  /** Called with every change of the effective desired state; returns the function that unsubscribes. */
  subscribe(fn: (c: DesiredChange) => void): () => void {
    return this.events.on('change', fn);
  }

  /**
   * Publishes a desired value as this node (a controller): `<this node>/desired/<selector>/<name>`.
   * Throws StateError for a bad selector or name, or a write the limits refuse.
   */
  async publish(selector: string, name: string, value: Uint8Array | string): Promise<StateItem> {
    const sel = parseSelector(selector);
    if (!sel.ok) throw new StateError('selector', sel.error.message);
    if (name === '') throw new StateError('key', 'the desired name is empty');
    return this.state.put(desiredSubkey(selector, name), value);
  }

  /** Withdraws a desired value this node published. */
  async withdraw(selector: string, name: string): Promise<StateItem | undefined> {
    return this.state.delete(desiredSubkey(selector, name));
  }

  /** Reports what this node observes for `name`, and which desired version that is (default: the effective one). */
  async observe(name: string, value: Uint8Array | string | undefined, desired?: { key: string; ts: bigint }): Promise<StateItem> {
    const d = desired ?? this.current.get(name);
    if (!d) throw new StateError('no-desired', `nothing is desired for ${JSON.stringify(name)} on this node`);
    const v = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    return this.state.put(observedSubkey(name), encodeObservation(d, v));
  }

  /** What `node` reports for `name` (from its `<node>/observed/<name>` entry). */
  observation(node: string, name: string): Observation | undefined {
    const item = this.state.get(`${node}/${observedSubkey(name)}`);
    return item ? decodeObservation(item) : undefined;
  }

  /** The tags `node` publishes (`<node>/_tags`), if known. */
  tagsOf(node: string): string[] | undefined {
    const item = this.state.get(`${node}/${TAGS_SUBKEY}`);
    return item ? decodeTags(item.value) : undefined;
  }

  /** Every live desired entry in the map (all controllers, trusted or not), by key. */
  allDesired(): DesiredEntry[] {
    const out: DesiredEntry[] = [];
    for (const { owner } of this.state.owners()) {
      for (const item of this.state.list({ prefix: `${owner}/${DESIRED_SEGMENT}/` })) {
        const d = this.toDesired(item);
        if (d) out.push(d);
      }
    }
    return out;
  }

  /** Which nodes a desired entry targets (by their published tags), and which of them report it. */
  convergence(d: DesiredEntry): Convergence {
    const targets: string[] = [];
    const converged: string[] = [];
    const pending: string[] = [];
    for (const { owner } of this.state.owners()) {
      const tags = this.tagsOf(owner);
      if (!tags || !matchesSelector(d.selector, tags)) continue;
      targets.push(owner);
      const obs = this.observation(owner, d.name);
      if (obs && obs.desiredKey === d.key && obs.desiredTs === d.ts) converged.push(owner);
      else pending.push(owner);
    }
    return { desired: d, targets, converged, pending };
  }

  // ---------------------------------------------------------------------------------------------

  private toDesired(item: StateItem): DesiredEntry | undefined {
    if (item.deleted) return undefined;
    const p = parseDesiredKey(item.key);
    if (!p) return undefined;
    return { key: item.key, controller: p.controller, selector: p.selector, name: p.name, value: item.value, ts: item.ts };
  }

  /** Tracks a desired entry of a trusted controller that matches this node; true if the set changed. */
  private consider(item: StateItem): boolean {
    if (!this.controllers.has(item.owner) || !item.subkey.startsWith(`${DESIRED_SEGMENT}/`)) return false;
    const d = this.toDesired(item);
    if (d && matchesSelector(d.selector, this.tags)) {
      this.candidates.set(item.key, d);
      return true;
    }
    return this.candidates.delete(item.key);
  }

  private onChange(c: StateChange): void {
    if (this.consider(c.item)) this.recompute();
  }

  private recompute(): void {
    const next = new Map<string, DesiredEntry>();
    for (const d of this.candidates.values()) {
      const held = next.get(d.name);
      if (!held || wins(d, held)) next.set(d.name, d);
    }
    const names = new Set([...next.keys(), ...this.current.keys()]);
    const changes: DesiredChange[] = [];
    for (const name of names) {
      const previous = this.current.get(name);
      const current = next.get(name);
      if (!sameVersion(previous, current)) changes.push({ name, current, previous });
    }
    this.current.clear();
    for (const [k, v] of next) this.current.set(k, v);
    for (const c of changes) {
      this.log.info({ name: c.name, from: c.current?.key, ts: c.current?.ts.toString() }, c.current ? 'desired state changed' : 'desired state withdrawn');
      this.events.emit('change', c);
      if (this.autoObserve) this.report(c.name, c.current);
    }
  }

  /** Publishes (or withdraws) this node's observation of `name`, unless it already says so. */
  private report(name: string, d: DesiredEntry | undefined): void {
    const held = this.observation(this.state.nodeId, name);
    let p: Promise<unknown>;
    if (d) {
      if (held && held.desiredKey === d.key && held.desiredTs === d.ts) return;
      p = this.state.put(observedSubkey(name), encodeObservation(d, d.value));
    } else {
      if (!this.state.get(`${this.state.nodeId}/${observedSubkey(name)}`)) return;
      p = this.state.delete(observedSubkey(name));
    }
    const q = p.catch((e: unknown) => this.log.warn({ name, err: (e as Error).message }, 'could not publish the observed state'));
    this.writes.add(q);
    void q.finally(() => this.writes.delete(q));
  }

  private reconcileObserved(): void {
    for (const d of this.current.values()) this.report(d.name, d);
    for (const item of this.state.list({ prefix: `${this.state.nodeId}/${OBSERVED_SEGMENT}/` })) {
      const name = item.subkey.slice(OBSERVED_SEGMENT.length + 1);
      if (!this.current.has(name)) this.report(name, undefined);
    }
  }
}
