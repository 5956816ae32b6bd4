// Node identities derived from the simulation seed: node i of seed s always has the same keys, so a
// run replays exactly and a failing one can be rebuilt. Deriving one (Ed25519 public key, X25519
// conversion, key objects) costs about a millisecond; a cache shared between networks built in one
// process (a benchmark that runs several configurations) pays it once per node.
import { createHash } from 'node:crypto';
import { identityFromSeed, type NodeIdentity } from '../identity/identity.ts';
import type { Seed } from './random.ts';

/** The 32-byte Ed25519 seed of simulated node `index` under `seed`. */
export function simIdentitySeed(seed: Seed, index: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`hypha-sim-identity|${typeof seed}:${String(seed)}|${index}`).digest());
}

export class IdentityCache {
  private readonly cache = new Map<string, NodeIdentity>();

  get(seed: Seed, index: number): NodeIdentity {
    const key = `${typeof seed}:${String(seed)}|${index}`;
    let id = this.cache.get(key);
    if (id === undefined) {
      id = identityFromSeed(simIdentitySeed(seed, index));
      this.cache.set(key, id);
    }
    return id;
  }

  get size(): number {
    return this.cache.size;
  }
}
