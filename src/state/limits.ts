// The bounds of the replicated state ([state] in the config). Every one is enforced on local writes (with
// an error that names the limit) and on entries from peers (refused and counted).
import type { EntrySizeLimits } from './entry.ts';

export interface StateLimits extends EntrySizeLimits {
  /** Whole key "<node_id>/<subkey>", UTF-8 bytes (Micelio: 256). */
  maxKeyBytes: number;
  /** Value bytes (Micelio: 4096). */
  maxValueBytes: number;
  /** Entries one node may have in the map, tombstones included. */
  maxEntriesPerOwner: number;
  /** Entries in the map, all owners, tombstones included (Micelio: 10,000). */
  maxEntries: number;
  /** Sum of the entries' encoded sizes: what the map may hold in memory and on disk. */
  maxBytes: number;
}

export const DEFAULT_STATE_LIMITS: StateLimits = {
  maxKeyBytes: 256,
  maxValueBytes: 4096,
  maxEntriesPerOwner: 10_000,
  maxEntries: 100_000,
  maxBytes: 64 * 1024 * 1024,
};

/** Largest payload a gossip engine relays (Micelio drops bigger ones): one StateUpdate must fit. */
export const MAX_GOSSIP_PAYLOAD_BYTES = 65_536;
/**
 * What an entry adds to its key and value when encoded: node id (64), signature (64), author key (32),
 * timestamp, scheme, field tags and lengths, plus the StateUpdate wrapper — rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 256;
/** The largest key + value the limits may allow, so that every entry can be gossiped and synced. */
export const MAX_KEY_PLUS_VALUE_BYTES = MAX_GOSSIP_PAYLOAD_BYTES - ENTRY_OVERHEAD_BYTES - 1024;
