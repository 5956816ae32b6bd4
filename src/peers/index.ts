// The peers layer's public surface.
export * from './manager.ts';
export * from './store.ts';
export { buildHello, verifyHello, type HelloContent, type VerifiedHello } from './hello.ts';
export { PeerTable, discoveryBackoffMs, type MergeResult } from './table.ts';
