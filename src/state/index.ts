// The state layer's public surface: the replicated map (StateService), desired state, tag selectors, and
// the entry format other layers may need (signing, verification, key syntax).
export * from './service.ts';
export * from './desired.ts';
export * from './selector.ts';
export { DEFAULT_STATE_LIMITS, MAX_KEY_PLUS_VALUE_BYTES, type StateLimits } from './limits.ts';
export { entrySignBytes, signEntry, verifyEntry, parseKey, compareEntries, isNodeId, STATE_DOMAIN_TAG, SIGNATURE_SCHEME_V1, type SignedEntry } from './entry.ts';
export { hlcMs, hlcFromMs, HLC_COUNTER_BITS } from './hlc.ts';
export type { GossipPort, GossipMessage, GossipHandler, PeersPort } from './ports.ts';
export type { SessionReport, StateSyncStats } from './sync.ts';
export { MAX_SYNC_PAYLOAD_BYTES, SYNC_PROTOCOL_VERSION } from './sync-codec.ts';
