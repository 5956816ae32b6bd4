// An in-memory PacketDevice for tests and the simulator: `inject()` plays the kernel sending a packet
// into the overlay; packets the data plane writes land in `written` (or a callback).
import type { PacketDevice } from './device.ts';

export class MemoryDevice implements PacketDevice {
  readonly name: string;
  readonly mtu: number;
  readonly written: Uint8Array[] = [];
  /** Packets kept in `written` before the oldest is dropped. */
  readonly maxWritten: number;
  dropped = 0;
  private handler: ((packet: Uint8Array) => void) | undefined;
  private isClosed = false;
  private readonly onWrite: ((packet: Uint8Array) => void) | undefined;

  constructor(opts: { name?: string; mtu?: number; maxWritten?: number; onWrite?: (packet: Uint8Array) => void } = {}) {
    this.name = opts.name ?? 'mem0';
    this.mtu = opts.mtu ?? 1400;
    this.maxWritten = opts.maxWritten ?? 10_000;
    this.onWrite = opts.onWrite;
  }

  onPacket(handler: (packet: Uint8Array) => void): void {
    this.handler = handler;
  }

  /** The host sends `packet` into the overlay. */
  inject(packet: Uint8Array): void {
    if (!this.isClosed) this.handler?.(packet);
  }

  write(packet: Uint8Array): boolean {
    if (this.isClosed) return false;
    const copy = Uint8Array.from(packet);
    if (this.onWrite) this.onWrite(copy);
    if (this.written.length >= this.maxWritten) {
      this.written.shift();
      this.dropped++;
    }
    this.written.push(copy);
    return true;
  }

  close(): void {
    this.isClosed = true;
  }
}
