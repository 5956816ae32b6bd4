// The data plane's view of the host network stack: something that yields IPv6 packets the kernel wants
// to send into the overlay and accepts packets to hand back. The TUN device implements it; tests use an
// in-memory device; `--no-tun` uses none.

export interface PacketDevice {
  /** Interface name, e.g. "hypha0". */
  readonly name: string;
  readonly mtu: number;
  /**
   * Sets the receiver of packets read from the device (whole IPv6 packets, no extra header). The
   * buffer belongs to the receiver.
   */
  onPacket(handler: (packet: Uint8Array) => void): void;
  /** Writes one IPv6 packet to the host; false if it was dropped (device closed or queue full). */
  write(packet: Uint8Array): boolean;
  close(): void;
}
