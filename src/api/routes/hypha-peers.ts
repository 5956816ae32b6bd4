// Hypha's own view of its peers, under /api/v1/hypha/ (Mycelium's /admin/peers keeps Mycelium's shape):
// native peers (Micelio-protocol links over TCP + Noise) and Mycelium peers side by side, each with the
// cost the overlay router gives its link, as `hypha peers list` prints them.
import { defineRoute, json, ref, type ApiModule, type JsonSchema } from '../route.ts';

const u64: JsonSchema = { type: 'integer', minimum: 0 };
const cost: JsonSchema = {
  type: ['integer', 'null'],
  minimum: 0,
  maximum: 65_535,
  description: 'the router\'s cost of the link (smoothed Hello→IHU round trip in ms + the static cost of the transport); null while the peer is no overlay neighbour',
};
const link: JsonSchema = {
  type: ['string', 'null'],
  description: 'the router neighbour, as the next hops of /admin/routes name it; null while the peer is no overlay neighbour',
};

const schemas: Record<string, JsonSchema> = {
  HyphaNativePeer: {
    type: 'object',
    description: 'A connected native peer: a Micelio-protocol link (TCP + Noise XX) to a Hypha or Micelio node.',
    required: ['nodeId', 'address', 'listenAddr', 'direction', 'version', 'hypha', 'linkCost', 'link', 'connected', 'txBytes', 'rxBytes'],
    properties: {
      nodeId: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Ed25519 node id, hex' },
      address: { type: 'string', description: 'the link\'s remote socket address', examples: ['[2001:db8::2]:4000'] },
      listenAddr: { type: 'string', description: 'the address the peer advertised; "" when it is not reachable' },
      direction: { type: 'string', enum: ['inbound', 'outbound'] },
      version: { type: 'string', description: 'from the peer\'s hello: "hypha/…" or Micelio\'s', examples: ['hypha/0.1.0', '0.1.0'] },
      hypha: { type: 'boolean', description: 'both ends are Hypha, so the link can carry the overlay (msg_types 90/91)' },
      linkCost: cost,
      link,
      connected: { ...u64, description: 'seconds since the link came up' },
      txBytes: u64,
      rxBytes: u64,
    },
  },
  HyphaMyceliumPeer: {
    type: 'object',
    description: 'A Mycelium peer (tcp:// or tls://), as /admin/peers lists it, with its link cost.',
    required: ['endpoint', 'type', 'connectionState', 'linkCost', 'link', 'txBytes', 'rxBytes'],
    properties: {
      endpoint: { type: 'string', examples: ['tcp://[2001:db8::3]:9651'] },
      type: { type: 'string', enum: ['static', 'inbound', 'linkLocalDiscovery'] },
      connectionState: { type: 'string', enum: ['alive', 'connecting', 'dead'] },
      linkCost: cost,
      link,
      txBytes: u64,
      rxBytes: u64,
    },
  },
  HyphaPeers: {
    type: 'object',
    required: ['overlayLinks', 'native', 'mycelium'],
    properties: {
      overlayLinks: { type: 'string', enum: ['both', 'native', 'mycelium'], description: 'which links carry the overlay on this node (config overlay.links)' },
      native: { type: 'array', items: ref('HyphaNativePeer') },
      mycelium: { type: 'array', items: ref('HyphaMyceliumPeer') },
    },
  },
};

export const hyphaPeersModule: ApiModule = {
  tag: 'hypha-peers',
  description: 'Hypha\'s peers of both kinds, native and Mycelium, with the overlay router\'s link costs.',
  schemas,
  routes: (s) => [
    defineRoute({
      method: 'GET',
      path: '/hypha/peers',
      operationId: 'getHyphaPeers',
      summary: 'Native and Mycelium peers, each with the router\'s link cost',
      responses: { 200: { description: 'both kinds of peer', schema: ref('HyphaPeers') } },
      handler: () => json(s.hyphaPeers.peers()),
    }),
  ],
};
