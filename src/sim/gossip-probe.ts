// Measures how one gossiped message spreads through a simulated mesh: which nodes it reached, in
// which round (hop) and at what virtual time, and how many redundant copies the nodes received. The
// message is broadcast by a real GossipEngine and relayed by the real engines of every other node.
import type { GossipStats } from '../gossip/engine.ts';
import type { SimNetwork } from './network.ts';

/** A plugin msg_type no real handler uses, so probes never reach chat or state. */
export const GOSSIP_PROBE_MSG_TYPE = 4242;

export interface GossipSpread {
  origin: number;
  messageId: string;
  /** Nodes other than the origin that were up when it was sent. */
  targets: number;
  /** Of those, how many delivered it. */
  reached: number;
  /** reached / targets. */
  coverage: number;
  /** reachedByRound[r] = nodes that had it after round r (r = hops travelled; index 0 = 0). */
  reachedByRound: number[];
  /** Virtual ms after the broadcast at which each reached node first had it, ascending. */
  arrivalMs: number[];
  /** Copies received beyond the first (duplicates and own-message echoes), over all nodes. */
  redundantCopies: number;
  /** Envelope sends made for this message, over all nodes (the origin's included). */
  sends: number;
}

/** Rounds until `fraction` of targets had the message, or undefined if it never got there. */
export function roundsTo(s: GossipSpread, fraction: number): number | undefined {
  const need = Math.ceil(fraction * s.targets - 1e-9);
  const r = s.reachedByRound.findIndex((n) => n >= need);
  return r < 0 ? undefined : r;
}

/** Virtual ms until `fraction` of targets had the message, or undefined. */
export function timeTo(s: GossipSpread, fraction: number): number | undefined {
  const need = Math.ceil(fraction * s.targets - 1e-9);
  return need <= 0 ? 0 : s.arrivalMs[need - 1];
}

function copiesIn(st: GossipStats): number {
  return st.dropped.duplicate + st.dropped['own-message'];
}

function sendsIn(st: GossipStats): number {
  return st.broadcast + st.forwarded + st.sendDropped;
}

export class GossipProbe {
  private readonly net: SimNetwork;
  private readonly msgType: number;
  /** messageId → per node index: round of first delivery (−1 = not yet). */
  private readonly rounds = new Map<string, { round: Int16Array; atMs: Float64Array; sentAt: number }>();
  private readonly attached = new WeakSet<object>();

  constructor(net: SimNetwork, msgType = GOSSIP_PROBE_MSG_TYPE) {
    this.net = net;
    this.msgType = msgType;
  }

  /** Registers the probe handler on every running node (call again after restarts). */
  attach(): void {
    for (const node of this.net.nodes) {
      const g = node.gossip;
      if (g === undefined || this.attached.has(g)) continue;
      this.attached.add(g);
      const i = node.index;
      g.handle(this.msgType, (m) => {
        const rec = this.rounds.get(m.messageId);
        if (rec === undefined || rec.round[i] >= 0) return;
        const maxHops = g.maxHops;
        rec.round[i] = maxHops - m.hopCount + 1;
        rec.atMs[i] = this.net.clock.now() - rec.sentAt;
      });
    }
  }

  /** Broadcasts one message from `origin`, runs `settleMs` of virtual time, and reports its spread. */
  async spread(origin: number, settleMs = 2_000, payload: Uint8Array = new Uint8Array(64)): Promise<GossipSpread> {
    this.attach();
    const nodes = this.net.nodes;
    const before = nodes.map((n) => n.gossip?.stats());
    const g = nodes[origin].gossip;
    if (g === undefined) throw new Error(`node ${origin} runs no gossip engine`);
    const n = nodes.length;
    const rec = { round: new Int16Array(n).fill(-1), atMs: new Float64Array(n).fill(-1), sentAt: this.net.clock.now() };
    // The id is only known once sent, and handlers run later (links have latency): register right after.
    const { messageId } = g.broadcast(this.msgType, payload);
    this.rounds.set(messageId, rec);
    await this.net.advance(settleMs);
    this.rounds.delete(messageId);
    let targets = 0;
    let reached = 0;
    let redundant = 0;
    let sends = 0;
    const maxRound = Math.max(1, ...Array.from(rec.round));
    const perRound = new Array<number>(maxRound + 1).fill(0);
    const arrivals: number[] = [];
    for (const node of nodes) {
      const after = node.gossip?.stats();
      const b = before[node.index];
      if (after !== undefined && b !== undefined) {
        redundant += copiesIn(after) - copiesIn(b);
        sends += sendsIn(after) - sendsIn(b);
      }
      if (node.index === origin || b === undefined) continue;
      targets++;
      const r = rec.round[node.index];
      if (r >= 0) {
        reached++;
        perRound[r]++;
        arrivals.push(rec.atMs[node.index]);
      }
    }
    for (let r = 1; r < perRound.length; r++) perRound[r] += perRound[r - 1];
    arrivals.sort((x, y) => x - y);
    return { origin, messageId, targets, reached, coverage: targets === 0 ? 1 : reached / targets, reachedByRound: perRound, arrivalMs: arrivals, redundantCopies: redundant, sends };
  }
}
