// HyphaNode, the composition root (DESIGN.md): builds every part of a node from one Config — clock, logger,
// identity, store, then the parts of registerParts() — starts them in order and stops them in reverse.
// Everything can be injected, so the simulator runs thousands of nodes in one process on a VirtualClock
// and MemoryStores without touching the disk.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemClock, type Clock } from '../base/clock.ts';
import { createLogger, type Logger } from '../base/log.ts';
import { toHex } from '../base/bytes.ts';
import type { Config } from '../config/schema.ts';
import { loadOrCreateIdentity } from '../identity/files.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import { aeadBackendNote, defaultAeadBackend } from '../crypto/aead.ts';
import { sshFingerprint } from '../identity/openssh.ts';
import { LmdbStore, LMDB_DIR_NAME } from '../store/lmdb.ts';
import type { Store } from '../store/store.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import type { NodeContext, NodePart } from './part.ts';
import { registerParts } from './parts.ts';

export type NodeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface HyphaNodeOptions {
  /** SystemClock by default; the simulator passes a VirtualClock. */
  clock?: Clock;
  /** A logger built from config.logging by default. */
  logger?: Logger;
  /** Loaded from (or created in) <data_dir>/identity/ by default; injected, no identity file is touched. */
  identity?: NodeIdentity;
  /**
   * LmdbStore in <data_dir>/hypha.lmdb/ by default, with the data dir locked (hypha.pid) against a second
   * process. The node closes the store on stop either way.
   */
  store?: Store;
  /** registerParts by default; tests and the simulator may register their own. */
  parts?: (ctx: NodeContext) => NodePart[];
}

const DATA_DIR_MODE = 0o700;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class HyphaNode {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly identity: NodeIdentity;
  readonly store: Store;
  private readonly registered: readonly NodePart[];
  private readonly lock: DataDirLock | undefined;
  private started: NodePart[] = [];
  private current: NodeState = 'created';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(ctx: NodeContext, parts: (ctx: NodeContext) => NodePart[], lock: DataDirLock | undefined) {
    this.lock = lock;
    this.config = ctx.config;
    this.clock = ctx.clock;
    this.logger = ctx.logger;
    this.identity = ctx.identity;
    this.store = ctx.store;
    this.registered = parts(ctx);
    const names = new Set<string>();
    for (const p of this.registered) {
      if (names.has(p.name)) throw new Error(`two node parts are named "${p.name}"`);
      names.add(p.name);
    }
  }

  /**
   * Builds a node: data dir (0700), identity, store, then the registered parts (constructed, not started).
   * Throws IdentityFileError, StoreError or DataDirLockedError, whose messages say what to fix.
   */
  static async create(config: Config, opts: HyphaNodeOptions = {}): Promise<HyphaNode> {
    const clock = opts.clock ?? new SystemClock();
    const logger = opts.logger ?? createLogger({ level: config.logging.level, format: config.logging.format });
    const dataDir = config.node.data_dir;
    let identity = opts.identity;
    if (!identity || !opts.store) {
      await mkdir(dataDir, { recursive: true, mode: DATA_DIR_MODE }).catch((e: unknown) => {
        throw new Error(`cannot create the data dir ${dataDir}: ${errorText(e)}; choose another --data-dir`, { cause: e });
      });
    }
    const lock = opts.store ? undefined : await lockDataDir(dataDir);
    let store: Store | undefined;
    try {
      if (!identity) {
        const loaded = await loadOrCreateIdentity(dataDir);
        for (const w of loaded.warnings) logger.warn({ component: 'identity' }, w);
        if (loaded.created) logger.info({ component: 'identity', keyFile: loaded.paths.keyPath }, 'created a new node identity');
        identity = loaded.identity;
      }
      store = opts.store ?? new LmdbStore(join(dataDir, LMDB_DIR_NAME));
      return new HyphaNode({ config, clock, logger, identity, store }, opts.parts ?? registerParts, lock);
    } catch (e) {
      await store?.close();
      await lock?.release();
      throw e;
    }
  }

  get state(): NodeState {
    return this.current;
  }

  get parts(): readonly NodePart[] {
    return this.registered;
  }

  /** The registered part with this name, e.g. `node.part<PeerManager>('peers')`. */
  part<T extends NodePart>(name: string): T | undefined {
    return this.registered.find((p) => p.name === name) as T | undefined;
  }

  /** Starts every part in order; if one fails, stops those already started, closes the store and rethrows. */
  start(): Promise<void> {
    if (this.current === 'starting' || this.current === 'running') return this.starting ?? Promise.resolve();
    if (this.current !== 'created') return Promise.reject(new Error(`node cannot start: it is ${this.current}`));
    this.current = 'starting';
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const id = this.identity;
    this.logger.info({ nodeId: id.nodeId, address: id.addressText, dataDir: this.config.node.data_dir }, 'starting node');
    // Noise links and the E2E seal both use the AEAD backend: one line, whatever parts run.
    const slowCrypto = aeadBackendNote();
    if (slowCrypto !== undefined) this.logger.warn(slowCrypto);
    for (const part of this.registered) {
      try {
        await part.start();
        this.started.push(part);
      } catch (e) {
        this.logger.error({ part: part.name, err: errorText(e) }, `part ${part.name} failed to start; stopping the node`);
        await this.shutdown();
        throw new Error(`${part.name} failed to start: ${errorText(e)}`, { cause: e });
      }
    }
    this.current = 'running';
    const facts: Record<string, unknown> = {};
    for (const p of this.started) Object.assign(facts, p.describe?.());
    this.logger.info({
      nodeName: this.config.node.name,
      nodeId: id.nodeId,
      address: id.addressText,
      publicKey: toHex(id.x25519Public),
      ed25519PublicKey: toHex(id.ed25519Public),
      sshFingerprint: sshFingerprint(id.ed25519Public),
      listen: this.config.network.listen || '(none: outbound only)',
      sshListen: this.config.ssh.listen || '(disabled)',
      store: this.store.location,
      parts: this.started.map((p) => p.name),
      crypto: defaultAeadBackend(),
      ...facts,
    }, 'node running');
  }

  /** Stops the started parts in reverse order, then closes the store. Idempotent; never throws. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // A stop during start waits for the start to settle, so no part is left half-started.
      if (this.starting) await this.starting.catch(() => undefined);
      if (this.current === 'stopped') return;
      await this.shutdown();
      this.logger.info('node stopped');
    })();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.current = 'stopping';
    for (const part of [...this.started].reverse()) {
      try {
        await part.stop();
      } catch (e) {
        this.logger.error({ part: part.name, err: errorText(e) }, `part ${part.name} failed to stop cleanly`);
      }
    }
    this.started = [];
    try {
      await this.store.close();
    } catch (e) {
      this.logger.error({ err: errorText(e) }, 'closing the store failed');
    }
    await this.lock?.release().catch((e: unknown) => this.logger.warn({ err: errorText(e) }, 'could not remove the data dir lock'));
    this.current = 'stopped';
  }
}
