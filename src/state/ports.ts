// What the state layer needs from the layers below it, as interfaces: the gossip engine (msg_type
// handlers, mesh broadcast, signed direct messages) and the peer manager (who is connected, and when).
// src/gossip/engine.ts's GossipEngine and src/peers' PeerManager satisfy them; tests and the simulator
// may pass anything with the same shape.
import type { GossipMessage as EngineGossipMessage } from '../gossip/engine.ts';
import type { PeerManager } from '../peers/manager.ts';

/** A verified gossip message as the engine delivers it; the state does not read the Lamport field. */
export type GossipMessage = Omit<EngineGossipMessage, 'lamportTs'>;

export type GossipHandler = (msg: GossipMessage) => void;

export interface GossipPort {
  /** Registers the handler of a msg_type; returns the function that removes it. */
  handle(msgType: number, handler: GossipHandler): () => void;
  /** Gossips a signed message to the mesh (hop 10). */
  broadcast(msgType: number, payload: Uint8Array): { messageId: string; sent: number; total: number };
  /** Sends a signed message to one neighbour only (hop 1); false if it is not connected or its queue is full. */
  sendDirect(peerNodeId: string, msgType: number, payload: Uint8Array): boolean;
}

/** The peer manager as the state layer sees it: connect / disconnect events and the connected peers. */
export type PeersPort = Pick<PeerManager, 'on' | 'peers' | 'peer'>;
