// One interface for every link. A link moves whole protocol units ("messages") between two nodes:
// on a native link a message is one Micelio frame payload (an Envelope); on a Mycelium link it is one
// Mycelium packet (4-byte header + body). peers/, gossip/ and router/ see only this interface and never
// know whether the bytes travel over TCP, TLS or memory (DESIGN.md, "Links are interchangeable").

import type { Result } from '../base/result.ts';

export type LinkProtocol = 'native' | 'mycelium';
export type LinkTransport = 'tcp' | 'tls' | 'memory';
export type LinkDirection = 'inbound' | 'outbound';

export interface LinkStats {
  txBytes: number;
  rxBytes: number;
  txMessages: number;
  rxMessages: number;
  /** Messages refused by send() because the queue was full. */
  dropped: number;
  /** Clock time of the last message received, or of link creation. */
  lastRxMs: number;
  /** Clock time of the last message sent, or of link creation. */
  lastTxMs: number;
}

export interface LinkEvents {
  /** One complete message. The buffer belongs to the receiver (it is not reused by the link). */
  onMessage(msg: Uint8Array): void;
  /** Called once, after which the link sends and receives nothing. */
  onClose(reason: string): void;
}

export interface Link {
  /** Unique within the process, for logs and tables. */
  readonly id: number;
  readonly protocol: LinkProtocol;
  readonly transport: LinkTransport;
  readonly direction: LinkDirection;
  /** Text form of the local and remote socket addresses (`host:port`, `[v6]:port`, `mem:N`). */
  readonly localAddress: string;
  readonly remoteAddress: string;
  /**
   * The remote's X25519 static key as proven by the Noise handshake (native links), or undefined
   * where the transport does not authenticate the peer (Mycelium TCP).
   */
  readonly remoteStatic: Uint8Array | undefined;
  readonly closed: boolean;
  /** Starts delivery. Messages that arrived before are delivered first, in order. */
  attach(events: LinkEvents): void;
  /**
   * Queues one message. Never blocks: returns false (and counts a drop) when the link is closed or its
   * send queue is full, which is the backpressure policy of every link.
   */
  send(msg: Uint8Array): boolean;
  /** The link closes itself, reason "idle timeout", when nothing arrives for `ms` (0 disables). */
  setIdleTimeout(ms: number): void;
  close(reason: string): void;
  stats(): LinkStats;
}

export interface LinkError {
  code: string;
  message: string;
}

export interface AcceptHandlers {
  /** Runs for every incoming connection before any crypto; a returned string refuses it with that reason. */
  preCheck?(remoteAddress: string): string | undefined;
  /** A connection that completed its handshake. The callee owns the link from now on. */
  onLink(link: Link): void;
}

export interface LinkListener {
  /** The bound address (`host:port`), with the real port when listening on port 0. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Makes links of one kind: dial an address, listen on one. The TCP implementation is
 * native-tcp.ts; the simulator provides one over memory wires.
 */
export interface LinkFactory {
  dial(address: string): Promise<Result<Link, LinkError>>;
  listen(address: string, handlers: AcceptHandlers): Promise<Result<LinkListener, LinkError>>;
  /** Stops listeners and aborts handshakes in progress; established links belong to their owners. */
  close(): Promise<void>;
}

let nextLinkId = 1;
/** Process-wide counter for link ids; ids only label links in logs, so sharing it between nodes is harmless. */
export function allocateLinkId(): number {
  return nextLinkId++;
}
