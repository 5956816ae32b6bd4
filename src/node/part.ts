// What the composition root knows about a part of the node: a name, and start/stop. Everything else a part
// needs (clock, logger, identity, store, other parts) it receives through its constructor in parts.ts.
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { Config } from '../config/schema.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import type { Store } from '../store/store.ts';

export interface NodePart {
  /** Short and unique within a node, e.g. "peers"; used in logs and by HyphaNode.part(). */
  readonly name: string;
  /** Called once, in registration order. A rejection aborts the start and stops the parts already started. */
  start(): Promise<void> | void;
  /** Called once, in reverse order, also after a failed start of a later part. Must not throw for "already stopped". */
  stop(): Promise<void> | void;
  /** Facts for the "node running" log line, read after start, e.g. `{ listen: '127.0.0.1:40123' }`. */
  describe?(): Record<string, unknown>;
}

/** Everything the node builds before its parts, handed to the part registry. */
export interface NodeContext {
  readonly config: Config;
  readonly clock: Clock;
  /** The node's logger; give each part a child: `ctx.logger.child({ component: 'peers' })`. */
  readonly logger: Logger;
  readonly identity: NodeIdentity;
  readonly store: Store;
}
