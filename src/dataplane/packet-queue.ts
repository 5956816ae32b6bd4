// Packets waiting for a route, per destination /64, bounded per subnet and in total. When a subnet's
// queue or the whole queue is full the new packet is refused (and counted); the caller decides
// whether that earns an ICMP error.

export class PacketQueue<T> {
  private readonly queues = new Map<string, T[]>();
  private total = 0;
  readonly maxPerSubnet: number;
  readonly maxTotal: number;
  /** Packets refused because a limit was reached. */
  refused = 0;

  constructor(maxPerSubnet: number, maxTotal: number) {
    this.maxPerSubnet = maxPerSubnet;
    this.maxTotal = maxTotal;
  }

  get size(): number {
    return this.total;
  }

  /** Queues `item` under `subnetKey`; false (and counted) if a limit is reached. */
  push(subnetKey: string, item: T): boolean {
    let q = this.queues.get(subnetKey);
    if (this.total >= this.maxTotal || (q !== undefined && q.length >= this.maxPerSubnet)) {
      this.refused++;
      return false;
    }
    if (q === undefined) {
      q = [];
      this.queues.set(subnetKey, q);
    }
    q.push(item);
    this.total++;
    return true;
  }

  /** Removes and returns everything queued under `subnetKey`, oldest first. */
  take(subnetKey: string): T[] {
    const q = this.queues.get(subnetKey);
    if (q === undefined) return [];
    this.queues.delete(subnetKey);
    this.total -= q.length;
    return q;
  }

  clear(): void {
    this.queues.clear();
    this.total = 0;
  }
}
