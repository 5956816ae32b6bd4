// How a message is cut into CHUNK packets. Mycelium cuts 1,300-byte chunks, and its receiver drops a chunk
// smaller than 250 bytes unless its index is ceil(length/250)−1 — which the last of several 1,300-byte
// chunks never has. So Mycelium cannot deliver a message of, say, 1,400 bytes (1,300 + 100) even to
// itself (checked against v0.7.10). Hypha keeps Mycelium's chunk count and moves bytes from the second
// last chunk into a short last one until it has 250, which every Mycelium receiver accepts.

export const CHUNK_BYTES = 1_300;
/** Mycelium's receiver refuses smaller chunks (except one it takes for the last). */
export const MIN_CHUNK_BYTES = 250;

export function chunkCount(length: number): number {
  return Math.ceil(length / CHUNK_BYTES);
}

/** Whether the last chunk is topped up from the second last one. */
function rebalanced(length: number, count: number): boolean {
  return count >= 2 && length - (count - 1) * CHUNK_BYTES < MIN_CHUNK_BYTES;
}

export function chunkOffset(length: number, count: number, i: number): number {
  if (i === count - 1 && rebalanced(length, count)) return length - MIN_CHUNK_BYTES;
  return i * CHUNK_BYTES;
}

export function chunkSize(length: number, count: number, i: number): number {
  if (rebalanced(length, count)) {
    if (i === count - 1) return MIN_CHUNK_BYTES;
    if (i === count - 2) return length - MIN_CHUNK_BYTES - i * CHUNK_BYTES;
  }
  return Math.min(CHUNK_BYTES, length - i * CHUNK_BYTES);
}

/** The largest chunk index a receiver accepts for a message of `length` bytes (Mycelium's bound). */
export function maxChunkIndex(length: number): number {
  return length === 0 ? 0 : Math.ceil(length / MIN_CHUNK_BYTES) - 1;
}
