// Several overlay nodes, each with a message bus, joined by in-memory links under a VirtualClock. A node
// can be restarted: its bus and overlay are stopped and rebuilt with the same key on the same
// MemoryBacking (what a process restart on the same LMDB directory does), and its links re-made.
import { VirtualClock } from '../../src/base/clock.ts';
import { silentLogger, type Logger } from '../../src/base/log.ts';
import { generateX25519 } from '../../src/crypto/x25519.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { MemoryWire } from '../../src/link/memory.ts';
import { MessageBus, type MessageBusOptions } from '../../src/messages/bus.ts';
import { MemoryBacking, MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/store.ts';
import { formatIpv6, maskPrefix, parseIpv6 } from '../../src/wire/ipv6.ts';
import { prng } from '../helpers/prng.ts';


export interface BusNode {
  keys: { privateKey: Uint8Array; publicKey: Uint8Array };
  backing: MemoryBacking;
  store: Store;
  overlay: Overlay;
  bus: MessageBus;
  ip: string;
  address: Uint8Array;
  pk: string;
}

export interface LinkSpec {
  latencyMs?: number;
  loss?: number;
  seed?: number;
}

type BusExtras = Omit<MessageBusOptions, 'clock' | 'logger' | 'store' | 'overlay'>;

export class BusNet {
  readonly clock: VirtualClock;
  readonly nodes: BusNode[] = [];
  readonly links: { i: number; j: number; spec: LinkSpec; wire: MemoryWire }[] = [];
  private readonly logger: Logger;
  private readonly extras: BusExtras[];
  private readonly makeStore: ((i: number) => Store) | undefined;

  /** `store` opens node i's store (again after a restart); default: memory on the node's backing. */
  constructor(n: number, opts: { clock?: VirtualClock; logger?: Logger; extras?: (i: number) => BusExtras; store?: (i: number) => Store } = {}) {
    this.clock = opts.clock ?? new VirtualClock(1_700_000_000_000);
    this.logger = opts.logger ?? silentLogger();
    this.makeStore = opts.store;
    this.extras = Array.from({ length: n }, (_, i) => opts.extras?.(i) ?? {});
    for (let i = 0; i < n; i++) {
      const keys = generateX25519();
      const backing = new MemoryBacking();
      this.nodes.push(this.build(i, keys, backing));
    }
  }

  private build(i: number, keys: BusNode['keys'], backing: MemoryBacking): BusNode {
    const overlay = new Overlay({ clock: this.clock, logger: this.logger, x25519Private: keys.privateKey, x25519Public: keys.publicKey });
    const store = this.makeStore?.(i) ?? new MemoryStore(backing);
    const bus = new MessageBus({ clock: this.clock, logger: this.logger, store, overlay, ...this.extras[i] });
    const address = overlay.router.address;
    return { keys, backing, store, overlay, bus, ip: formatIpv6(address), address, pk: Buffer.from(keys.publicKey).toString('hex') };
  }

  async start(): Promise<void> {
    for (const n of this.nodes) await n.bus.start();
  }

  link(i: number, j: number, spec: LinkSpec = {}): MemoryWire {
    const wire = new MemoryWire(this.clock, {
      protocol: 'mycelium',
      latencyMs: spec.latencyMs ?? 5,
      loss: spec.loss ?? 0,
      random: prng(spec.seed ?? 1),
    });
    this.nodes[i].overlay.attachLink(wire.a);
    this.nodes[j].overlay.attachLink(wire.b);
    this.links.push({ i, j, spec, wire });
    return wire;
  }

  /** Lets routes settle (Hello/IHU/Update exchange). */
  async settle(ms = 3_000): Promise<void> {
    await this.clock.advance(ms);
  }

  /** Advances virtual time until `cond` holds; throws naming `what` if it never does. */
  async until(cond: () => boolean, what: string, maxMs = 120_000, stepMs = 50): Promise<number> {
    const took = await this.clock.runUntil(cond, maxMs, stepMs);
    if (took < 0) throw new Error(`not within ${maxMs} ms of virtual time: ${what}`);
    return took;
  }

  /** Waits (in virtual time) for a promise that depends on the network. */
  async settleOn<T>(p: Promise<T>, what: string, maxMs = 120_000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    p.then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        done = true;
        error = e;
      },
    );
    await this.until(() => done, what, maxMs);
    if (error !== undefined) throw error;
    return value as T;
  }

  /**
   * Stops node i (bus, overlay, links) and builds it again with the same key on the same backing; the
   * links it had are made again unless `relink` is false.
   */
  async restart(i: number, opts: { relink?: boolean; beforeStart?: () => Promise<void> } = {}): Promise<BusNode> {
    const old = this.nodes[i];
    await old.bus.stop();
    old.overlay.stop();
    await old.store.close();
    const mine = this.links.filter((l) => l.i === i || l.j === i);
    for (const l of mine) l.wire.close('node restart');
    const node = this.build(i, old.keys, old.backing);
    this.nodes[i] = node;
    await opts.beforeStart?.();
    await node.bus.start();
    if (opts.relink !== false) {
      for (const l of mine) {
        this.links.splice(this.links.indexOf(l), 1);
        this.link(l.i, l.j, l.spec);
      }
    }
    return node;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      await n.bus.stop();
      n.overlay.stop();
      await n.store.close();
    }
    for (const l of this.links) l.wire.close('test over');
  }
}

export function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  const r = prng(seed);
  for (let i = 0; i < n; i += 4) {
    const v = (r() * 4294967296) >>> 0;
    out[i] = v & 0xff;
    if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = v >>> 24;
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The /64 of an overlay address, as CIDR text. */
export function subnet64Of(ip: string): string {
  return `${formatIpv6(maskPrefix(parseIpv6(ip)!, 64))}/64`;
}

/** Another address in the /64 of `ip`. */
export function otherInSubnet(ip: string): string {
  const b = parseIpv6(ip)!;
  b[15] ^= 0x5a;
  return formatIpv6(b);
}
