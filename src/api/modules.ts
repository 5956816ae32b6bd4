// Every group of API routes the node serves, in the order the OpenAPI document lists them. A new group
// (messages, topics, Hypha's own routes) is one module file under routes/ and one entry here.
import type { ApiModule } from './route.ts';
import { adminModule } from './routes/admin.ts';
import { hyphaChatModule } from './routes/hypha-chat.ts';
import { hyphaGossipModule } from './routes/hypha-gossip.ts';
import { hyphaStateModule } from './routes/hypha-state.ts';

export const API_MODULES: readonly ApiModule[] = [adminModule, hyphaGossipModule, hyphaChatModule, hyphaStateModule];
