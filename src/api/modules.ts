// Every group of API routes the node serves, in the order the OpenAPI document lists them. A new group
// (messages, topics, Hypha's own routes) is one module file under routes/ and one entry here.
import type { ApiModule } from './route.ts';
import { adminModule } from './routes/admin.ts';
import { hyphaChatModule } from './routes/hypha-chat.ts';
import { hyphaGossipModule } from './routes/hypha-gossip.ts';
import { hyphaPeersModule } from './routes/hypha-peers.ts';
import { hyphaStateModule } from './routes/hypha-state.ts';
import { messagesModule } from './routes/messages.ts';
import { topicsModule } from './routes/topics.ts';

export const API_MODULES: readonly ApiModule[] = [adminModule, hyphaPeersModule, hyphaGossipModule, hyphaChatModule, hyphaStateModule, messagesModule, topicsModule];
