// Builds PeerManagers on 127.0.0.1 with fast timers for multi-node tests.
import { randomBytes } from 'node:crypto';
import { SystemClock } from '../../src/base/clock.ts';
import { captureLogger, type CapturedLog } from '../../src/base/log.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { MemoryPeerStore, PeerManager, type PeerManagerOptions } from '../../src/peers/index.ts';
import { waitFor } from './noise-client.ts';

export interface TestNode {
  pm: PeerManager;
  id: NodeIdentity;
  log: CapturedLog;
  store: MemoryPeerStore;
  addr: string;
}

export const FAST: Partial<PeerManagerOptions> = {
  helloTimeoutMs: 5_000,
  exchangeIntervalMs: 300,
  discoveryIntervalMs: 200,
  dialJitterMs: 50,
  bootstrapBackoffMinMs: 100,
  bootstrapBackoffMaxMs: 1_000,
  redialDelayMs: 100,
  discoveryBackoffMaxMs: 1_000,
  handshakeTimeoutMs: 5_000,
};

const running = new Set<TestNode>();

/** Stops every node started since the last call (use in afterEach, so a failed test leaks nothing). */
export async function stopStarted(): Promise<void> {
  const nodes = [...running];
  running.clear();
  await Promise.all(nodes.map((n) => n.pm.stop()));
}

export async function startNode(opts: Partial<PeerManagerOptions> & { seed?: Uint8Array; outboundOnly?: boolean } = {}): Promise<TestNode> {
  const id = opts.identity ?? identityFromSeed(opts.seed ?? randomBytes(32));
  const log = captureLogger('info');
  const store = (opts.store as MemoryPeerStore | undefined) ?? new MemoryPeerStore();
  const pm = new PeerManager({
    clock: new SystemClock(),
    logger: log.logger,
    version: '0.1.0',
    ...FAST,
    ...opts,
    identity: id,
    store,
    listen: opts.outboundOnly ? '' : (opts.listen ?? '127.0.0.1:0'),
  });
  await pm.start();
  const node = { pm, id, log, store, addr: pm.listenAddress ?? '' };
  running.add(node);
  return node;
}

export async function stopAll(nodes: TestNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.pm.stop()));
}

export function connectedTo(n: TestNode, other: TestNode): boolean {
  return n.pm.peer(other.id.nodeId)?.connected === true;
}

export async function waitConnected(a: TestNode, b: TestNode, timeoutMs = 20_000): Promise<void> {
  await waitFor(() => connectedTo(a, b) && connectedTo(b, a), `${a.id.nodeId.slice(0, 6)} <-> ${b.id.nodeId.slice(0, 6)}`, timeoutMs);
}

export async function waitFullMesh(nodes: TestNode[], timeoutMs = 30_000): Promise<void> {
  await waitFor(() => nodes.every((n) => n.pm.connectedCount === nodes.length - 1), `full mesh of ${nodes.length}`, timeoutMs);
}
