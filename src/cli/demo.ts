// `hypha demo [--nodes N]`: a mesh for newcomers, in one process. N nodes on loopback (no TUN, free ports,
// data in a temporary directory removed at exit) connected by native links in a line; node 1 sends a message
// to node N over the overlay, says a chat line and writes a state key; the demo prints what happened, then
// leaves the nodes running with node 1's HTTP API up until Ctrl-C.
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type LogLevel } from '../base/log.ts';
import { buildConfig, type FlagValue } from '../config/load.ts';
import { shortId } from '../identity/identity.ts';
import { HyphaNode } from '../node/node.ts';
import type { ApiPart, MessagesPart, OverlayPart, PartylinePart, PeersPart, StatePart } from '../node/parts.ts';
import type { ChatLineEvent } from '../partyline/hub.ts';
import { MAX_DEMO_NODES } from './demo-command.ts';
import type { CliIo } from './io.ts';

/** How long each step may take before the demo says it failed (a loaded machine is slow, not broken). */
const STEP_TIMEOUT_MS = 60_000;
const POLL_MS = 25;
/** The line the demo prints once everything is up (tests wait for it). */
export const DEMO_READY_LINE = 'leaving node 1 up';

export interface DemoArgs {
  nodes: number;
  apiAddr: string;
  logLevel: LogLevel;
  io: CliIo;
  /** Ends the demo like Ctrl-C (tests); SIGINT and SIGTERM always do. */
  stop?: AbortSignal;
}

interface DemoNode {
  name: string;
  node: HyphaNode;
  listen: string;
}

class StepFailed extends Error {}

async function until(what: string, cond: () => boolean, abort: AbortSignal): Promise<void> {
  const end = Date.now() + STEP_TIMEOUT_MS;
  while (!cond()) {
    if (abort.aborted) throw new StepFailed('stopped');
    if (Date.now() > end) throw new StepFailed(`timed out after ${STEP_TIMEOUT_MS / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Resolves on the first SIGINT/SIGTERM (or `extra` aborting). */
function interrupted(extra?: AbortSignal): { signal: AbortSignal; remove(): void } {
  const ac = new AbortController();
  const on = () => ac.abort();
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  extra?.addEventListener('abort', on, { once: true });
  return {
    signal: ac.signal,
    remove: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      extra?.removeEventListener('abort', on);
    },
  };
}

export async function demoCommand(args: DemoArgs): Promise<number> {
  const { io } = args;
  const n = args.nodes;
  if (!Number.isInteger(n) || n < 2 || n > MAX_DEMO_NODES) {
    io.stderr(`hypha demo: --nodes must be a whole number from 2 to ${MAX_DEMO_NODES}, got ${JSON.stringify(String(args.nodes))}\n`);
    return 2;
  }
  const stop = interrupted(args.stop);
  const base = await mkdtemp(join(tmpdir(), 'hypha-demo-'));
  const logger = createLogger({ level: args.logLevel });
  const nodes: DemoNode[] = [];
  const out = (line = '') => io.stdout(`${line}\n`);
  let code = 0;
  try {
    out(`Hypha demo: ${n} nodes on loopback, in this process (data in ${base}, removed at exit)`);
    out();
    for (let i = 0; i < n; i++) {
      const name = `node-${i + 1}`;
      const flags: Record<string, FlagValue> = {
        'node.name': name,
        'node.data_dir': join(base, name),
        'network.listen': '127.0.0.1:0',
        'network.bootstrap': i === 0 ? [] : [nodes[i - 1].listen],
        'ssh.listen': '',
        'overlay.links': 'native',
        no_tun: true,
        disable_peer_discovery: true,
        api_addr: i === 0 ? args.apiAddr : '',
        jsonrpc_addr: '',
        metrics_api_address: '',
      };
      const config = buildConfig({ context: { homeDir: base, hostname: hostname() }, flags });
      const node = await HyphaNode.create(config, { logger: logger.child({ node: name }) });
      nodes.push({ name, node, listen: '' });
      await node.start();
      const listen = node.part<PeersPart>('peers')!.manager.listenAddress ?? '';
      nodes[i].listen = listen;
      const id = node.identity;
      out(`  ${name.padEnd(8)} id ${shortId(id.nodeId)}  overlay ${id.addressText.padEnd(39)}  native link ${listen}`);
    }
    const first = nodes[0];
    const last = nodes[n - 1];
    const peersOf = (d: DemoNode) => d.node.part<PeersPart>('peers')!.manager;
    await until('the links', () => nodes.every((d, i) => i === 0 || peersOf(d).peer(nodes[i - 1].node.identity.nodeId)?.connected === true), stop.signal);
    out();
    out(`Connected in a line over native (Noise) links: ${nodes.map((d) => d.name).join(' — ')}`);

    // The route node 1 → node N, hop by hop.
    const dst = last.node.identity;
    const routerOf = (d: DemoNode) => d.node.part<OverlayPart>('overlay')!.overlay.router;
    await until(`a route from node-1 to ${last.name}`, () => routerOf(first).lookup(dst.address).kind === 'selected', stop.signal);
    const path = [first.name];
    let at = first;
    for (let hop = 0; hop < n && at !== last; hop++) {
      const next = routerOf(at).nextHopFor(dst.address);
      const to = nodes.find((d) => d.node.identity.nodeId === next?.remoteId);
      if (to === undefined) break;
      path.push(to.name);
      at = to;
    }
    const hops = path.length - 1;
    out(`Route from node-1 to ${last.name} (${dst.addressText}): ${path.join(' → ')} (${hops} hop${hops === 1 ? '' : 's'})`);

    // A message over the overlay, end-to-end encrypted, through the message bus.
    const text = 'hello from node-1';
    const sentAt = Date.now();
    const pushed = await first.node.part<MessagesPart>('messages')!.bus.push({ dst: { ip: dst.addressText }, payload: new TextEncoder().encode(text) });
    if (!pushed.ok) throw new StepFailed(`node-1 could not send the message: ${pushed.error.message}`);
    const popped = await last.node.part<MessagesPart>('messages')!.bus.pop({ timeoutMs: STEP_TIMEOUT_MS, signal: stop.signal });
    if (!popped.ok || popped.value === null) throw new StepFailed(stop.signal.aborted ? 'stopped' : `${last.name} received no message within ${STEP_TIMEOUT_MS / 1000} s`);
    const got = new TextDecoder().decode(popped.value.payload);
    out(`Message: node-1 sent "${text}" (${text.length} bytes) to ${last.name}; ${last.name} received "${got}" from ${popped.value.srcIp} after ${Date.now() - sentAt} ms`);

    // A chat line, gossiped to every partyline.
    const chatSeen = new Promise<ChatLineEvent>((resolve) => {
      const off = last.node.part<PartylinePart>('partyline')!.hub.onLine((l) => {
        if (l.origin === 'remote' && l.text === 'hello mesh') {
          off();
          resolve(l);
        }
      });
    });
    const said = first.node.part<PartylinePart>('partyline')!.hub.say('demo', 'hello mesh');
    if (!said.ok) throw new StepFailed(`node-1 could not say the chat line: ${said.message}`);
    let seen: ChatLineEvent | undefined;
    void chatSeen.then((l) => (seen = l));
    await until(`${last.name} to see the chat line`, () => seen !== undefined, stop.signal);
    out(`Chat: node-1 said "hello mesh" as demo; ${last.name}'s partyline shows [${seen!.nick}@${seen!.nodeName ?? shortId(seen!.nodeId)}] ${seen!.text}`);

    // A key of the replicated state.
    const stateOf = (d: DemoNode) => d.node.part<StatePart>('state')!.state;
    const item = await stateOf(first).put('greeting', 'hi from node-1');
    await until(`${last.name} to receive the state entry`, () => stateOf(last).get(item.key) !== undefined, stop.signal);
    out(`State: node-1 set ${shortId(item.owner)}/greeting = "hi from node-1"; ${last.name} reads the same value`);

    const api = first.node.part<ApiPart>('api')!.server;
    out();
    if (api === undefined) {
      out(`All ${n} nodes keep running; ${DEMO_READY_LINE} (its API is off). Ctrl-C to stop.`);
    } else {
      const url = api.url!;
      const addr = api.address!;
      out(`Node 1's HTTP API: ${url} — ${DEMO_READY_LINE} (all ${n} nodes keep running). Ctrl-C to stop. Try:`);
      out(`  curl -s ${url}/hypha/chat`);
      out(`  curl -s -H 'content-type: application/json' -d '{"nick":"me","text":"hi all"}' ${url}/hypha/chat`);
      out(`  curl -sN ${url}/hypha/state/_events`);
      out(`  npx hypha state list --api-addr ${addr}`);
      out(`  npx hypha state set motd 'hello' --api-addr ${addr}`);
      out(`  npx hypha routes selected --api-addr ${addr}`);
    }
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      else stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    out('Stopping…');
  } catch (e) {
    if (e instanceof StepFailed && e.message === 'stopped') {
      out('Stopping…');
    } else {
      io.stderr(`hypha demo: ${e instanceof Error ? e.message : String(e)}\n`);
      code = 1;
    }
  } finally {
    stop.remove();
    await Promise.all(nodes.map((d) => d.node.stop()));
    await rm(base, { recursive: true, force: true });
  }
  return code;
}
