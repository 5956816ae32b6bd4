// THE place where a node's parts are registered. They start in this order and stop in reverse. A part is
// built here from the NodeContext and from parts registered before it (pass them to its constructor), so
// the dependency order is visible in one function.
import type { NodeContext, NodePart } from './part.ts';

export function registerParts(ctx: NodeContext): NodePart[] {
  const parts: NodePart[] = [];
  void ctx; // read by the parts below once they are registered

  // Peer manager (issue #2, protocol half): native listener, dialing, hello, peer exchange, discovery,
  // peer table in ctx.store. Wire it as, for example:
  //   const peers = new PeerManager({ network: ctx.config.network, nodeName: ctx.config.node.name,
  //     tags: ctx.config.node.tags, identity: ctx.identity, store: ctx.store, clock: ctx.clock,
  //     logger: ctx.logger.child({ component: 'peers' }) });
  //   parts.push(peers);
  // Later layers follow in DESIGN.md order: gossip, router, dataplane, messages, state, partyline, api.

  return parts;
}
