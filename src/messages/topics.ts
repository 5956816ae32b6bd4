// Topic access control and forwarding (reference §5.4): per topic an allow-list of source subnets and an
// optional Unix socket; topics without an entry follow the default action (accept unless set otherwise).
// An existing topic with an empty list accepts nobody. Replies bypass the check (the bus decides that).
//
// Persistence: every change made at run time is written to the store before the call returns, so it
// survives a restart. A --topic-config file is applied at start on top of what was stored: the file wins
// for `default` (when it sets it) and for every topic it names; topics added at run time stay.
import { toHex } from '../base/bytes.ts';
import type { Bucket, Store } from '../store/store.ts';
import { jsonBucket } from '../store/store.ts';
import { MAX_TOPIC_BYTES } from '../wire/mycelium/message.ts';
import { cidrContains, formatCidr, parseCidr, sameCidr, type Cidr } from './cidr.ts';
import { MAX_SOURCES_PER_TOPIC, MAX_TOPICS, socketPathProblem, type TopicFileConfig } from './topic-file.ts';
import { base64, busError, fromBase64, type BusResult } from './types.ts';

interface TopicRecord {
  kind: 'topic';
  /** base64 */
  topic: string;
  sources: string[];
  forwardSocket: string | null;
}
interface DefaultRecord {
  kind: 'default';
  accept: boolean;
}
type StoredTopic = TopicRecord | DefaultRecord;

export const TOPICS_BUCKET = jsonBucket<StoredTopic>('msg-topics');
const DEFAULT_KEY = 'default';

interface TopicEntry {
  topic: Uint8Array;
  sources: Cidr[];
  forwardSocket: string | undefined;
}

const keyOf = (topic: Uint8Array): string => `t.${toHex(topic)}`;

function checkTopic(topic: Uint8Array): BusResult<void> {
  if (topic.length > MAX_TOPIC_BYTES) return busError('topic-too-large', `topic of ${topic.length} bytes; at most ${MAX_TOPIC_BYTES} allowed`);
  return { ok: true, value: undefined };
}

export class TopicTable {
  private defaultAccept = true;
  private readonly topics = new Map<string, TopicEntry>();
  private readonly bucket: Bucket<StoredTopic>;

  constructor(store: Store) {
    this.bucket = store.bucket(TOPICS_BUCKET);
    for (const [key, rec] of this.bucket.entries()) {
      if (rec.kind === 'default') this.defaultAccept = rec.accept;
      else if (rec.kind === 'topic') {
        const topic = fromBase64(rec.topic);
        if (topic === undefined) continue;
        const sources = rec.sources.map(parseCidr).flatMap((c) => (c.ok ? [c.value] : []));
        this.topics.set(key, { topic, sources, forwardSocket: rec.forwardSocket ?? undefined });
      }
    }
  }

  /** Applies a --topic-config file (see the header) and stores the result. */
  async applyFile(cfg: TopicFileConfig): Promise<void> {
    const writes: Promise<void>[] = [];
    if (cfg.defaultAccept !== undefined) {
      this.defaultAccept = cfg.defaultAccept;
      writes.push(this.bucket.put(DEFAULT_KEY, { kind: 'default', accept: cfg.defaultAccept }));
    }
    for (const t of cfg.topics) {
      const key = keyOf(t.topic);
      this.topics.set(key, { topic: t.topic, sources: [...t.sources], forwardSocket: t.forwardSocket });
      writes.push(this.persist(key));
    }
    await Promise.all(writes);
  }

  /** Whether a (non-reply) message on `topic` from `src` (16 bytes) is accepted. */
  allowed(topic: Uint8Array, src: Uint8Array): boolean {
    const e = this.topics.get(keyOf(topic));
    if (e === undefined) return this.defaultAccept;
    return e.sources.some((c) => cidrContains(c, src));
  }

  forwardSocketOf(topic: Uint8Array): string | undefined {
    return this.topics.get(keyOf(topic))?.forwardSocket;
  }

  getDefaultAccept(): boolean {
    return this.defaultAccept;
  }

  async setDefaultAccept(accept: boolean): Promise<BusResult<void>> {
    this.defaultAccept = accept;
    return this.write(this.bucket.put(DEFAULT_KEY, { kind: 'default', accept }));
  }

  list(): Uint8Array[] {
    return [...this.topics.values()].map((e) => Uint8Array.from(e.topic));
  }

  /** Adds a topic with an empty allow-list (which refuses everyone until sources are added). Idempotent. */
  async add(topic: Uint8Array): Promise<BusResult<void>> {
    const c = checkTopic(topic);
    if (!c.ok) return c;
    const key = keyOf(topic);
    if (this.topics.has(key)) return { ok: true, value: undefined };
    if (this.topics.size >= MAX_TOPICS) return busError('too-many-topics', `${MAX_TOPICS} topics are configured already; remove one first`);
    this.topics.set(key, { topic: Uint8Array.from(topic), sources: [], forwardSocket: undefined });
    return this.write(this.persist(key));
  }

  async remove(topic: Uint8Array): Promise<BusResult<void>> {
    const c = checkTopic(topic);
    if (!c.ok) return c;
    const key = keyOf(topic);
    if (!this.topics.delete(key)) return this.notFound(topic);
    return this.write(this.bucket.delete(key));
  }

  /** The topic's allow-list as CIDR text, or topic-not-found. */
  sources(topic: Uint8Array): BusResult<string[]> {
    const e = this.topics.get(keyOf(topic));
    if (e === undefined) return this.notFound(topic);
    return { ok: true, value: e.sources.map(formatCidr) };
  }

  /** Adds a source (IP or CIDR), creating the topic if needed, as Mycelium does. */
  async addSource(topic: Uint8Array, subnet: string): Promise<BusResult<void>> {
    const c = checkTopic(topic);
    if (!c.ok) return c;
    const cidr = parseCidr(subnet);
    if (!cidr.ok) return busError('bad-subnet', cidr.message);
    const key = keyOf(topic);
    let e = this.topics.get(key);
    if (e === undefined) {
      if (this.topics.size >= MAX_TOPICS) return busError('too-many-topics', `${MAX_TOPICS} topics are configured already; remove one first`);
      e = { topic: Uint8Array.from(topic), sources: [], forwardSocket: undefined };
      this.topics.set(key, e);
    }
    if (!e.sources.some((s) => sameCidr(s, cidr.value))) {
      if (e.sources.length >= MAX_SOURCES_PER_TOPIC) return busError('too-many-sources', `topic ${base64(topic)} has ${MAX_SOURCES_PER_TOPIC} sources already`);
      e.sources.push(cidr.value);
    }
    return this.write(this.persist(key));
  }

  /** Removes a source; removing one that is not listed is not an error, an unknown topic is. */
  async removeSource(topic: Uint8Array, subnet: string): Promise<BusResult<void>> {
    const c = checkTopic(topic);
    if (!c.ok) return c;
    const cidr = parseCidr(subnet);
    if (!cidr.ok) return busError('bad-subnet', cidr.message);
    const key = keyOf(topic);
    const e = this.topics.get(key);
    if (e === undefined) return this.notFound(topic);
    e.sources = e.sources.filter((s) => !sameCidr(s, cidr.value));
    return this.write(this.persist(key));
  }

  forwardSocket(topic: Uint8Array): BusResult<string | null> {
    const e = this.topics.get(keyOf(topic));
    if (e === undefined) return this.notFound(topic);
    return { ok: true, value: e.forwardSocket ?? null };
  }

  /** Sets (a path) or clears (null) the topic's forward socket. The topic must exist. */
  async setForwardSocket(topic: Uint8Array, path: string | null): Promise<BusResult<void>> {
    const c = checkTopic(topic);
    if (!c.ok) return c;
    if (path !== null) {
      const problem = socketPathProblem(path);
      if (problem) return busError('bad-socket-path', problem);
    }
    const key = keyOf(topic);
    const e = this.topics.get(key);
    if (e === undefined) return this.notFound(topic);
    e.forwardSocket = path ?? undefined;
    return this.write(this.persist(key));
  }

  private notFound(topic: Uint8Array): { ok: false; error: { code: 'topic-not-found'; message: string } } {
    return { ok: false, error: { code: 'topic-not-found', message: `topic ${JSON.stringify(base64(topic))} (base64) is not configured` } };
  }

  private persist(key: string): Promise<void> {
    const e = this.topics.get(key);
    if (e === undefined) return this.bucket.delete(key);
    return this.bucket.put(key, { kind: 'topic', topic: base64(e.topic), sources: e.sources.map(formatCidr), forwardSocket: e.forwardSocket ?? null });
  }

  private async write(p: Promise<void>): Promise<BusResult<void>> {
    try {
      await p;
      return { ok: true, value: undefined };
    } catch (e) {
      return busError('store-failed', `could not save the topic configuration: ${(e as Error).message}`);
    }
  }
}
