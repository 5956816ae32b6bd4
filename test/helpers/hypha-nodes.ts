// Real HyphaNodes for multi-node tests: LMDB in a temp data dir, native links and the SSH partyline on
// 127.0.0.1 port 0, fast peer-exchange/discovery timers, an authorized_keys file written before start.
import type { TestContext } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger, type CapturedLog } from '../../src/base/log.ts';
import { buildConfig, type FlagValue } from '../../src/config/load.ts';
import type { GossipEngine } from '../../src/gossip/engine.ts';
import { HyphaNode } from '../../src/node/node.ts';
import type { GossipPart, PartylinePart, PeersPart } from '../../src/node/parts.ts';
import type { PartylineHub } from '../../src/partyline/hub.ts';
import type { PeerManager } from '../../src/peers/manager.ts';
import { waitFor } from '../partyline/helpers.ts';
import { QUIET_OVERLAY } from './node-flags.ts';

export interface RunningNode {
  name: string;
  node: HyphaNode;
  peers: PeerManager;
  gossip: GossipEngine;
  hub: PartylineHub;
  partyline: PartylinePart;
  /** host:port of the native listener. */
  addr: string;
  sshPort: number;
  dataDir: string;
  log: CapturedLog;
}

export async function tempBase(t: TestContext, prefix: string): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(base, { recursive: true, force: true }));
  return base;
}

export async function startHyphaNode(
  t: TestContext,
  base: string,
  name: string,
  opts: { authorizedKeys?: string; flags?: Record<string, FlagValue> } = {},
): Promise<RunningNode> {
  const dataDir = join(base, name);
  const config = buildConfig({
    context: { homeDir: base, hostname: name },
    flags: {
      'node.name': name,
      'node.data_dir': dataDir,
      'network.listen': '127.0.0.1:0',
      'ssh.listen': '127.0.0.1:0',
      'network.exchange_interval': '300ms',
      'network.discovery_interval': '200ms',
      ...QUIET_OVERLAY,
      ...opts.flags,
    },
  });
  const log = captureLogger('warn');
  const node = await HyphaNode.create(config, { logger: log.logger });
  t.after(() => node.stop());
  if (opts.authorizedKeys !== undefined) await writeFile(join(dataDir, 'authorized_keys'), opts.authorizedKeys);
  await node.start();
  const peers = node.part<PeersPart>('peers')!.manager;
  const partyline = node.part<PartylinePart>('partyline')!;
  return {
    name,
    node,
    peers,
    gossip: node.part<GossipPart>('gossip')!.engine,
    hub: partyline.hub,
    partyline,
    addr: peers.listenAddress!,
    sshPort: partyline.server?.address?.port ?? 0,
    dataDir,
    log,
  };
}

export function linked(a: RunningNode, b: RunningNode): boolean {
  return a.peers.peer(b.node.identity.nodeId)?.connected === true && b.peers.peer(a.node.identity.nodeId)?.connected === true;
}

export async function waitLinked(pairs: [RunningNode, RunningNode][], timeoutMs = 30_000): Promise<void> {
  await waitFor(() => pairs.every(([a, b]) => linked(a, b)), `links ${pairs.map(([a, b]) => `${a.name}-${b.name}`).join(', ')}`, timeoutMs);
}

/**
 * True once every envelope sent by gossip (own broadcasts and relays) has been handled by a receiver:
 * the mesh has gone quiet for the messages sent so far.
 */
export function gossipSettled(nodes: RunningNode[]): boolean {
  let sent = 0;
  let handled = 0;
  for (const n of nodes) {
    const s = n.gossip.stats();
    sent += s.broadcast + s.forwarded + s.direct;
    for (const v of Object.values(s.dropped)) handled += v;
    handled += s.received;
  }
  return sent === handled;
}
