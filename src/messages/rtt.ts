// Round-trip time and retransmission timeout per destination, as RFC 6298 computes them for TCP:
// SRTT and RTTVAR from samples of packets sent once (Karn), RTO = SRTT + 4·RTTVAR clamped to
// [MIN_RTO_MS, MAX_RTO_MS], doubled on every timeout until a new sample arrives. Mycelium instead
// resends everything unacknowledged every 100 ms, whatever the path's round trip.

/** RFC 6298 says 1 s; the bus uses it until the first sample of a destination. */
export const INITIAL_RTO_MS = 1_000;
/** RFC 6298 allows a smaller floor than its 1 s; 200 ms is what Linux uses. */
export const MIN_RTO_MS = 200;
/** Ceiling of the backed-off timeout: a message keeps probing a dead path at least this often. */
export const MAX_RTO_MS = 10_000;
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;
/** Clock granularity G of RFC 6298. */
const GRANULARITY_MS = 1;

export class RttEstimator {
  srttMs: number | undefined;
  rttvarMs = 0;
  private baseRtoMs = INITIAL_RTO_MS;
  private backoffs = 0;

  /** The current retransmission timeout, including backoff. */
  get rtoMs(): number {
    return Math.min(MAX_RTO_MS, this.baseRtoMs * 2 ** this.backoffs);
  }

  /** A round trip measured on a packet that was sent exactly once. */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.srttMs === undefined) {
      this.srttMs = r;
      this.rttvarMs = r / 2;
    } else {
      this.rttvarMs = (1 - BETA) * this.rttvarMs + BETA * Math.abs(this.srttMs - r);
      this.srttMs = (1 - ALPHA) * this.srttMs + ALPHA * r;
    }
    this.baseRtoMs = Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, this.srttMs + Math.max(GRANULARITY_MS, K * this.rttvarMs)));
    this.backoffs = 0;
  }

  /** A retransmission timer expired: double the timeout (RFC 6298 §5.5). */
  backoff(): void {
    if (this.rtoMs < MAX_RTO_MS) this.backoffs++;
  }
}
