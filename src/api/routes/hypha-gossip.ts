// GET /api/v1/hypha/gossip: the gossip engine's statistics (README "Gossip"), as GossipEngine.stats() has them.
import { GOSSIP_DROP_REASONS } from '../../gossip/engine.ts';
import { defineRoute, json, ref, type ApiModule, type JsonSchema } from '../route.ts';

const count: JsonSchema = { type: 'integer', minimum: 0 };

function counts(names: readonly string[], descriptions: Record<string, string> = {}): JsonSchema {
  return {
    type: 'object',
    required: [...names],
    properties: Object.fromEntries(names.map((n) => [n, descriptions[n] === undefined ? count : { ...count, description: descriptions[n] }])),
  };
}

const schemas: Record<string, JsonSchema> = {
  GossipStats: {
    type: 'object',
    description: 'Counters since the node started, and the sizes of the bounded tables.',
    required: ['received', 'delivered', 'originated', 'broadcast', 'direct', 'relayed', 'forwarded', 'sendDropped', 'dropped', 'hopsClamped',
      'handlerErrors', 'evictions', 'seen', 'keyring', 'limiter', 'byType'],
    properties: {
      received: { ...count, description: 'unique messages from neighbours that passed every check' },
      delivered: { ...count, description: 'received messages handed to at least one handler' },
      originated: { ...count, description: 'own messages broadcast' },
      broadcast: { ...count, description: 'neighbour sends of own broadcasts that were accepted' },
      direct: { ...count, description: 'own direct (never relayed) messages accepted by the neighbour' },
      relayed: { ...count, description: 'received messages passed on' },
      forwarded: { ...count, description: 'neighbour sends of relayed messages that were accepted' },
      sendDropped: { ...count, description: 'neighbour sends refused because its send queue was full' },
      dropped: { ...counts(GOSSIP_DROP_REASONS), description: 'incoming envelopes dropped, by reason' },
      hopsClamped: { ...count, description: 'messages whose hop count was above 10 and was clamped' },
      handlerErrors: count,
      evictions: { ...count, description: 'entries pushed out of the full seen cache, keyring and rate limiter' },
      seen: { ...counts(['size', 'maxEntries', 'evictions', 'expired']), description: 'the seen-message cache' },
      keyring: { ...counts(['size', 'maxEntries', 'direct', 'gossip', 'evictions', 'rejected']), description: 'known node keys' },
      limiter: { ...counts(['size', 'maxEntries', 'evictions', 'expired']), description: 'per-(originator, msg_type) rate-limit buckets' },
      byType: {
        type: 'object',
        description: 'per msg_type (decimal; "other" past 64 types): received, originated, relayed, and the envelope bytes sent',
        additionalProperties: ref('GossipTypeStats'),
        examples: [{ 3: { received: 12, originated: 2, relayed: 12, bytesSent: 9120 } }],
      },
    },
  },
  GossipTypeStats: counts(['received', 'originated', 'relayed', 'bytesSent'], { bytesSent: 'encoded envelope bytes handed to links (own and relayed, once per neighbour)' }),
};

export const hyphaGossipModule: ApiModule = {
  tag: 'gossip',
  description: 'Hypha: statistics of the gossip that carries chat and state through the mesh.',
  schemas,
  routes: (s) => [
    defineRoute({
      method: 'GET',
      path: '/hypha/gossip',
      operationId: 'getGossipStats',
      summary: 'Gossip statistics: messages received, relayed and dropped (by reason and by msg_type)',
      responses: { 200: { description: 'the statistics', schema: ref('GossipStats') } },
      handler: () => json(s.gossip.stats()),
    }),
  ],
};
