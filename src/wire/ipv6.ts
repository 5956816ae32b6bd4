// IPv6 addresses as 16-byte arrays: RFC 5952 text, parsing, and prefix tests. Pure functions, no I/O.

/** RFC 5952 text: lowercase, leading zeros dropped, the longest run (≥ 2) of zero groups compressed. */
export function formatIpv6(b: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[offset + 2 * i] << 8) | b[offset + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

/** Parses IPv6 text (with optional `::` and embedded IPv4 tail); undefined if it is not one. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (s.length === 0 || s.length > 45) return undefined;
  const out = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return undefined;
  const parseSide = (part: string): number[] | undefined => {
    if (part === '') return [];
    const words: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (i === pieces.length - 1 && p.includes('.')) {
        const v4 = p.split('.');
        if (v4.length !== 4) return undefined;
        const n = v4.map((x) => (/^\d{1,3}$/.test(x) ? Number(x) : 256));
        if (n.some((x) => x > 255)) return undefined;
        words.push((n[0] << 8) | n[1], (n[2] << 8) | n[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      words.push(parseInt(p, 16));
    }
    return words;
  };
  let words: number[];
  if (dbl >= 0) {
    const left = parseSide(s.slice(0, dbl));
    const right = parseSide(s.slice(dbl + 2));
    if (!left || !right || left.length + right.length > 7) return undefined;
    words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    const all = parseSide(s);
    if (!all || all.length !== 8) return undefined;
    words = all;
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

/** True if the first `prefixLen` bits of `addr` equal those of `prefix`. */
export function prefixContains(prefix: Uint8Array, prefixLen: number, addr: Uint8Array): boolean {
  const full = prefixLen >> 3;
  for (let i = 0; i < full; i++) if (prefix[i] !== addr[i]) return false;
  const rem = prefixLen & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (prefix[full] & mask) === (addr[full] & mask);
}

/** Copy of `addr` with every bit past `prefixLen` cleared. */
export function maskPrefix(addr: Uint8Array, prefixLen: number): Uint8Array {
  const out = new Uint8Array(16);
  const full = prefixLen >> 3;
  out.set(addr.subarray(0, full));
  const rem = prefixLen & 7;
  if (rem !== 0) out[full] = addr[full] & ((0xff << (8 - rem)) & 0xff);
  return out;
}

/** True for 400::/7, the overlay's global prefix. */
export function isOverlayAddress(addr: Uint8Array): boolean {
  return (addr[0] & 0xfe) === 0x04;
}
