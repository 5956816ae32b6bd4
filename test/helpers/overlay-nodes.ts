// Real HyphaNodes with the overlay and the HTTP API, in this process: no native listener, no SSH, no TUN, the
// Mycelium listener and the API on free ports, LMDB in a temp data dir.
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { captureLogger, type CapturedLog } from '../../src/base/log.ts';
import { buildConfig, type FlagValue } from '../../src/config/load.ts';
import type { ApiServer } from '../../src/api/server.ts';
import type { Overlay } from '../../src/dataplane/overlay.ts';
import { HyphaNode } from '../../src/node/node.ts';
import type { MessageBus } from '../../src/messages/index.ts';
import type { ApiPart, JsonRpcPart, MessagesPart, MyceliumPeersPart, OverlayPart } from '../../src/node/parts.ts';
import type { MyceliumPeerManager } from '../../src/peers/mycelium-peers.ts';
import { QUIET_OVERLAY } from './node-flags.ts';

export interface OverlayNode {
  node: HyphaNode;
  overlay: Overlay;
  mycelium: MyceliumPeerManager;
  /** Undefined when started with api_addr "". */
  api: ApiServer | undefined;
  /** http://127.0.0.1:port/api/v1 */
  url: string;
  /** The API's host:port. */
  apiAddr: string;
  /** http://127.0.0.1:port of JSON-RPC, '' when off (the default here; jsonrpc_addr: '127.0.0.1:0' turns it on). */
  rpcUrl: string;
  bus: MessageBus;
  /** tcp://127.0.0.1:<Mycelium port> */
  endpoint: string;
  log: CapturedLog;
}

export async function startOverlayNode(t: TestContext, base: string, name: string, flags: Record<string, FlagValue> = {}): Promise<OverlayNode> {
  const config = buildConfig({
    context: { homeDir: base, hostname: name },
    flags: {
      'node.name': name,
      'node.data_dir': join(base, name),
      'network.listen': '',
      'ssh.listen': '',
      ...QUIET_OVERLAY,
      api_addr: '127.0.0.1:0',
      ...flags,
    },
  });
  const log = captureLogger('warn');
  const node = await HyphaNode.create(config, { logger: log.logger });
  t.after(() => node.stop());
  await node.start();
  const mycelium = node.part<MyceliumPeersPart>('mycelium-peers')!.manager;
  const api = node.part<ApiPart>('api')!.server;
  return {
    node,
    overlay: node.part<OverlayPart>('overlay')!.overlay,
    mycelium,
    api,
    url: api?.url ?? '',
    rpcUrl: node.part<JsonRpcPart>('jsonrpc')?.server?.url ?? '',
    bus: node.part<MessagesPart>('messages')!.bus,
    apiAddr: api?.address ?? '',
    endpoint: `tcp://127.0.0.1:${mycelium.listenPort}`,
    log,
  };
}
