// The gossip layer's public surface.
export * from './engine.ts';
export * from './keyring.ts';
export * from './rate-limit.ts';
export * from './seen.ts';
