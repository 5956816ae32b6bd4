// Chat across the mesh: the hub's local lines go out as ChatMessage envelopes (msg_type 3) gossiped to
// every node, and ChatMessages from other nodes are shown to the local sessions. Micelio does the same
// (reference §3.4); on top, each line carries this node's name (a field only Hypha reads), so other
// Hypha nodes show `[alice@node-a] hi`. Lines from Micelio nodes, which carry no name, show the sender's
// short node id instead. The hub sanitises whatever arrives.
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { GossipEngine, GossipMessage } from '../gossip/engine.ts';
import { decodeChatMessage, encodeChatMessage } from '../wire/micelio/chat.ts';
import { MsgType } from '../wire/micelio/envelope.ts';
import type { LocalChatLine, PartylineHub } from './hub.ts';

/** At most one WARN about malformed chat payloads in this window. */
const MALFORMED_LOG_INTERVAL_MS = 10_000;

export interface MeshChatOptions {
  hub: PartylineHub;
  gossip: Pick<GossipEngine, 'handle' | 'broadcast'>;
  /** This node's name, sent with every line ([node] name). */
  nodeName: string;
  clock: Clock;
  logger: Logger;
}

export interface MeshChatStats {
  /** Local lines gossiped. */
  sent: number;
  /** Of those, lines no peer was connected to receive. */
  sentWithoutPeers: number;
  /** Lines from other nodes handed to the hub. */
  received: number;
  /** ChatMessage payloads that did not decode (signed by their sender, so the sender's fault). */
  malformed: number;
}

export class MeshChat {
  private readonly o: MeshChatOptions;
  private readonly log: Logger;
  private off: (() => void) | undefined;
  private lastMalformedLogMs = -Infinity;
  private readonly counters: MeshChatStats = { sent: 0, sentWithoutPeers: 0, received: 0, malformed: 0 };

  constructor(opts: MeshChatOptions) {
    this.o = opts;
    this.log = opts.logger.child({ component: 'partyline' });
  }

  start(): void {
    if (this.off) return;
    this.off = this.o.gossip.handle(MsgType.Chat, (m) => this.onMessage(m));
    this.o.hub.setOutbound((line) => this.send(line));
  }

  stop(): void {
    this.o.hub.setOutbound(undefined);
    this.off?.();
    this.off = undefined;
  }

  stats(): MeshChatStats {
    return { ...this.counters };
  }

  private send(line: LocalChatLine): void {
    const payload = encodeChatMessage({ nick: line.nick, text: line.text, timestampSec: line.timestampSec, originName: this.o.nodeName });
    const r = this.o.gossip.broadcast(MsgType.Chat, payload);
    this.counters.sent++;
    if (r.total === 0) this.counters.sentWithoutPeers++;
  }

  private onMessage(m: GossipMessage): void {
    const chat = decodeChatMessage(m.payload);
    if (!chat.ok) {
      this.counters.malformed++;
      const now = this.o.clock.now();
      if (now - this.lastMalformedLogMs >= MALFORMED_LOG_INTERVAL_MS) {
        this.lastMalformedLogMs = now;
        this.log.warn({ sender: m.senderId.slice(0, 12), reason: chat.error.message }, 'ignoring malformed chat message');
      }
      return;
    }
    this.counters.received++;
    const { nick, text, originName } = chat.value;
    this.o.hub.deliverRemote(nick, text, originName === undefined ? { nodeId: m.senderId } : { nodeId: m.senderId, name: originName });
  }
}
