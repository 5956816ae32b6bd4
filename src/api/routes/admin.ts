// The admin routes of Mycelium's HTTP API (reference §5.5), with the JSON shapes and status codes of its Rust
// code: node info, peers (list, add, remove), route tables, packet statistics, and the public key behind an
// overlay address.
import { isIPv4, isIPv6 } from 'node:net';
import { toHex } from '../../base/bytes.ts';
import { parseIpv6 } from '../../wire/ipv6.ts';
import { defineRoute, json, noContent, ref, text, textResponse, type ApiModule, type ApiReply, type JsonSchema } from '../route.ts';
import type { PeerChange } from '../services.ts';

/** Longest endpoint text accepted ("tcp://[ffff:…%interface]:65535" is far shorter). */
const MAX_ENDPOINT_CHARS = 256;
/** Longest IP text accepted in /pubkey/{ip}. */
const MAX_IP_CHARS = 64;

const u64: JsonSchema = { type: 'integer', minimum: 0 };
const u16: JsonSchema = { type: 'integer', minimum: 0, maximum: 65_535 };

const schemas: Record<string, JsonSchema> = {
  Info: {
    type: 'object',
    description: 'The node\'s overlay identity.',
    required: ['nodeSubnet', 'nodeIp', 'nodePubkey', 'nodeStartTime'],
    properties: {
      nodeSubnet: { type: 'string', description: 'the /64 the node owns', examples: ['548:c783:d7ce:74a3::/64'] },
      nodeIp: { type: 'string', description: 'the node\'s overlay address', examples: ['548:c783:d7ce:74a3:9ba1:a0cb:ae21:338d'] },
      nodePubkey: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'X25519 public key, hex' },
      nodeStartTime: { ...u64, description: 'when the node started, seconds since the Unix epoch' },
    },
  },
  Endpoint: {
    type: 'object',
    required: ['proto', 'addr'],
    properties: {
      proto: { type: 'string', enum: ['tcp', 'tls', 'quic'] },
      addr: { type: 'object', required: ['socket'], properties: { socket: { type: 'string', examples: ['192.0.2.1:9651', '[2001:db8::1]:9651'] } } },
    },
  },
  PeerStats: {
    type: 'object',
    required: ['endpoint', 'type', 'connectionState', 'txBytes', 'rxBytes', 'discovered', 'lastConnected'],
    properties: {
      endpoint: { $ref: '#/components/schemas/Endpoint' },
      type: { type: 'string', enum: ['static', 'inbound', 'linkLocalDiscovery'] },
      connectionState: { type: 'string', enum: ['alive', 'connecting', 'dead'] },
      txBytes: u64,
      rxBytes: u64,
      discovered: { ...u64, description: 'seconds since the peer became known' },
      lastConnected: { type: ['integer', 'null'], minimum: 0, description: 'seconds since the last successful connection; null if never' },
    },
  },
  Route: {
    type: 'object',
    required: ['subnet', 'nextHop', 'metric', 'seqno'],
    properties: {
      subnet: { type: 'string', examples: ['548:c783:d7ce:74a3::/64'] },
      nextHop: { type: 'string', description: 'the link the route goes through', examples: ['TCP [2001:db8::2]:9651 <-> [2001:db8::1]:40112'] },
      metric: { oneOf: [{ ...u16, maximum: 65_534 }, { const: 'infinite' }], description: 'as advertised by the next hop, link cost excluded' },
      seqno: u16,
    },
  },
  QueriedSubnet: {
    type: 'object',
    required: ['subnet', 'expiration'],
    properties: {
      subnet: { type: 'string' },
      expiration: { type: 'string', pattern: '^[0-9]+$', description: 'seconds until the query gives up (a string, as Mycelium sends it)' },
    },
  },
  PacketStatEntry: {
    type: 'object',
    required: ['ip', 'packetCount', 'byteCount'],
    properties: { ip: { type: 'string' }, packetCount: u64, byteCount: u64 },
  },
  PacketStatistics: {
    type: 'object',
    required: ['bySource', 'byDestination'],
    properties: {
      bySource: { type: 'array', items: { $ref: '#/components/schemas/PacketStatEntry' } },
      byDestination: { type: 'array', items: { $ref: '#/components/schemas/PacketStatEntry' } },
    },
  },
  PublicKey: {
    type: 'object',
    required: ['publicKey'],
    properties: { publicKey: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
  },
};

const endpointProperty: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_ENDPOINT_CHARS,
  description: 'tcp://IP:PORT, tcp://[IPv6]:PORT, or tls://… in a private network',
  examples: ['tcp://192.0.2.1:9651'],
};

const routeList = (description: string) => ({ 200: { description, schema: { type: 'array', items: ref('Route') } } });

function peerChangeReply(r: PeerChange): ApiReply {
  if (r.ok) return noContent();
  const status = r.error.code === 'exists' ? 409 : r.error.code === 'not-found' ? 404 : 400;
  return text(status, r.error.message);
}

export const adminModule: ApiModule = {
  tag: 'admin',
  description: 'The node, its Mycelium peers, route tables and packet statistics (Mycelium\'s admin API).',
  schemas,
  routes: (s) => [
    defineRoute({
      method: 'GET',
      path: '/admin',
      operationId: 'getInfo',
      summary: 'The node\'s overlay subnet, address, public key and start time',
      responses: { 200: { description: 'node information', schema: ref('Info') } },
      handler: () => json(s.admin.info()),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/peers',
      operationId: 'getPeers',
      summary: 'Every known Mycelium peer with its state and traffic',
      responses: { 200: { description: 'the peers', schema: { type: 'array', items: ref('PeerStats') } } },
      handler: () => json(s.admin.peers()),
    }),
    defineRoute<Record<string, never>, Record<string, never>, { endpoint: string }>({
      method: 'POST',
      path: '/admin/peers',
      operationId: 'addPeer',
      summary: 'Add a static peer and connect to it',
      body: { type: 'object', required: ['endpoint'], properties: { endpoint: endpointProperty } },
      responses: {
        204: { description: 'added; the node connects to it (and reconnects every 5 s while it is down)' },
        400: textResponse('the endpoint is not valid'),
        409: textResponse('a peer with this endpoint exists'),
      },
      handler: ({ body }) => peerChangeReply(s.admin.addPeer(body.endpoint)),
    }),
    defineRoute<{ endpoint: string }>({
      method: 'DELETE',
      path: '/admin/peers/{endpoint}',
      operationId: 'deletePeer',
      summary: 'Remove a peer (any type) and close its link',
      description: 'The endpoint is URL-encoded: /admin/peers/tcp%3A%2F%2F192.0.2.1%3A9651',
      params: { type: 'object', required: ['endpoint'], properties: { endpoint: endpointProperty } },
      responses: {
        204: { description: 'removed' },
        400: textResponse('the endpoint is not valid'),
        404: textResponse('no peer with this endpoint'),
      },
      handler: ({ params }) => peerChangeReply(s.admin.removePeer(params.endpoint)),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/routes/selected',
      operationId: 'getSelectedRoutes',
      summary: 'The route in use for each known subnet',
      responses: routeList('selected routes'),
      handler: () => json(s.admin.selectedRoutes()),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/routes/fallback',
      operationId: 'getFallbackRoutes',
      summary: 'Routes known but not selected',
      responses: routeList('fallback routes'),
      handler: () => json(s.admin.fallbackRoutes()),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/routes/queried',
      operationId: 'getQueriedSubnets',
      summary: 'Subnets a route request is out for',
      responses: { 200: { description: 'queried subnets', schema: { type: 'array', items: ref('QueriedSubnet') } } },
      handler: () => json(s.admin.queriedSubnets()),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/stats/packets',
      operationId: 'getPacketStatistics',
      summary: 'Packets and bytes routed, by source and by destination address',
      responses: { 200: { description: 'packet statistics', schema: ref('PacketStatistics') } },
      handler: () => json(s.admin.packetStatistics()),
    }),
    defineRoute<{ ip: string }>({
      method: 'GET',
      path: '/pubkey/{ip}',
      operationId: 'getPublicKeyFromIp',
      summary: 'The public key behind an overlay address',
      params: { type: 'object', required: ['ip'], properties: { ip: { type: 'string', minLength: 1, maxLength: MAX_IP_CHARS, examples: ['548:c783:d7ce:74a3:9ba1:a0cb:ae21:338d'] } } },
      responses: {
        200: { description: 'the key', schema: ref('PublicKey') },
        400: textResponse('not an IP address'),
        404: textResponse('no route to this address is known, so neither is its key'),
      },
      handler: ({ params }) => {
        const ip = params.ip;
        if (isIPv4(ip)) return text(404, `no public key for ${ip}: overlay addresses are IPv6 (400::/7)`);
        const bytes = isIPv6(ip) && !ip.includes('%') ? parseIpv6(ip) : undefined;
        if (bytes === undefined) return text(400, `${JSON.stringify(ip)} is not an IP address`);
        const key = s.admin.publicKeyFor(bytes);
        return key === undefined ? text(404, `no public key known for ${ip} (no route to it)`) : json({ publicKey: toHex(key) });
      },
    }),
  ],
};
