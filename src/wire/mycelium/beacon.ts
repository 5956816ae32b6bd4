// The link-local discovery beacon (reference §2.5): exactly 50 bytes, "mycelium" in ASCII, the
// sender's TCP listen port (u16 BE) and its 40-byte router id. Sent to [ff02::cafe]:9650.
import { err, ok, type Result } from '../../base/result.ts';
import { ROUTER_ID_BYTES } from './router-id.ts';

export const BEACON_MAGIC = new TextEncoder().encode('mycelium');
export const BEACON_BYTES = BEACON_MAGIC.length + 2 + ROUTER_ID_BYTES;

export interface Beacon {
  tcpPort: number;
  routerId: Uint8Array;
}

export function encodeBeacon(b: Beacon): Uint8Array {
  if (!Number.isInteger(b.tcpPort) || b.tcpPort < 0 || b.tcpPort > 0xffff) throw new RangeError(`beacon port ${b.tcpPort} is not a u16`);
  if (b.routerId.length !== ROUTER_ID_BYTES) throw new RangeError(`beacon router id must be ${ROUTER_ID_BYTES} bytes`);
  const out = new Uint8Array(BEACON_BYTES);
  out.set(BEACON_MAGIC, 0);
  out[8] = b.tcpPort >>> 8;
  out[9] = b.tcpPort & 0xff;
  out.set(b.routerId, 10);
  return out;
}

export function decodeBeacon(bytes: Uint8Array): Result<Beacon> {
  if (bytes.length !== BEACON_BYTES) return err('bad-length', `beacon of ${bytes.length} bytes, expected ${BEACON_BYTES}`);
  for (let i = 0; i < BEACON_MAGIC.length; i++) {
    if (bytes[i] !== BEACON_MAGIC[i]) return err('bad-magic', 'beacon does not start with "mycelium"');
  }
  return ok({ tcpPort: (bytes[8] << 8) | bytes[9], routerId: bytes.slice(10, 10 + ROUTER_ID_BYTES) });
}
