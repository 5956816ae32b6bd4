// A Go-Micelio-like peer for in-process tests: it speaks only the Micelio protocol, built from the wire
// codecs — hello with version "0.1.0" (not `hypha/…`), keepalive every 20 s — over an in-memory native
// link, and records every envelope it receives, decoded, so a test can assert on each one.
import type { Clock, Timer } from '../../src/base/clock.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import type { Link } from '../../src/link/link.ts';
import { buildHello } from '../../src/peers/hello.ts';
import type { Envelope } from '../../src/wire/gen/micelio_pb.ts';
import { KEEPALIVE_ENVELOPE_BYTES, MsgType, decodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import type { MemoryNetwork } from './memory-links.ts';

/** What Micelio's Go node sends in its hello. */
export const MICELIO_VERSION = '0.1.0';
const MICELIO_KEEPALIVE_MS = 20_000;

export class MicelioPeer {
  readonly id: NodeIdentity;
  readonly link: Link;
  /** Every envelope received, in order. */
  readonly received: Envelope[] = [];
  /** Frames that did not decode as an envelope (there should be none). */
  readonly undecodable: Uint8Array[] = [];
  closedReason: string | undefined;
  private readonly keepalive: Timer;

  private constructor(id: NodeIdentity, link: Link, clock: Clock) {
    this.id = id;
    this.link = link;
    link.attach({
      onMessage: (m) => {
        const env = decodeEnvelope(m);
        if (env.ok) this.received.push(env.value);
        else this.undecodable.push(m);
      },
      onClose: (reason) => {
        this.closedReason = reason;
        this.keepalive.cancel();
      },
    });
    this.keepalive = clock.setInterval(() => link.send(KEEPALIVE_ENVELOPE_BYTES), MICELIO_KEEPALIVE_MS);
  }

  /** Dials `address` on the memory network as Micelio would and sends its hello. */
  static async connect(net: MemoryNetwork, clock: Clock, address: string, seed: Uint8Array, name = 'micelio'): Promise<MicelioPeer> {
    const id = identityFromSeed(seed);
    const link = await net.factory(name, id.x25519Public).dial(address);
    if (!link.ok) throw new Error(link.error.message);
    const p = new MicelioPeer(id, link.value, clock);
    link.value.send(buildHello(id, { version: MICELIO_VERSION, tags: [], listenAddr: '' }, MsgType.PeerHello));
    return p;
  }

  get connected(): boolean {
    return !this.link.closed;
  }

  types(): number[] {
    return this.received.map((e) => e.msgType);
  }

  send(bytes: Uint8Array): boolean {
    return this.link.send(bytes);
  }

  close(): void {
    this.keepalive.cancel();
    this.link.close('test over');
  }
}
