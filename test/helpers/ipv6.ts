/** A minimal IPv6 packet (next header UDP) for data-plane tests. */
export function ipv6Packet(src: Uint8Array, dst: Uint8Array, hopLimit: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  p[0] = 0x60;
  p[4] = payload.length >> 8;
  p[5] = payload.length & 0xff;
  p[6] = 17;
  p[7] = hopLimit;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(payload, 40);
  return p;
}
