// Prometheus metrics: two nodes in this process, linked natively, each with its own /metrics listener. After
// a chat line, a state write and a message, a scrape has every family (peers, routes, packets and bytes,
// messages, gossip, state, queue drops) with numbers that follow what happened — and each node's registry
// is its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { LinkTotals, snake } from '../../src/api/metrics.ts';
import type { LinkStats } from '../../src/link/link.ts';
import type { MessagesPart, MetricsPart, OverlayPart, StatePart } from '../../src/node/parts.ts';
import { tempBase } from '../helpers/hypha-nodes.ts';
import { waitFor } from '../helpers/poll.ts';
import { call, startApiNode, startPair } from './hypha-helpers.ts';

/** `name{a="x",b="y"} 12` lines → samples. */
function parse(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: ReturnType<typeof parse>, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(url: string): Promise<{ text: string; type: string; samples: ReturnType<typeof parse> }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, type: res.headers.get('content-type') ?? '', samples: parse(text) };
}

test('a scrape has peers, routes, packets and bytes, messages, gossip, state and queue drops; two nodes have separate registries', async (t) => {
  const base = await tempBase(t, 'hypha-metrics-');
  const [a, b] = await startPair(t, base, { metrics_api_address: '127.0.0.1:0' });
  const urlA = a.node.part<MetricsPart>('metrics')!.server!.url!;
  const urlB = b.node.part<MetricsPart>('metrics')!.server!.url!;
  assert.match(urlA, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  assert.notEqual(urlA, urlB);

  // Traffic: a chat line and a state write from A, a message A → B over the overlay.
  assert.equal((await call(a, 'POST', '/hypha/chat', { nick: 'bot', text: 'hi' })).status, 200);
  assert.equal((await call(a, 'PUT', '/hypha/state/color', { value: 'blue' })).status, 200);
  const busA = a.node.part<MessagesPart>('messages')!.bus;
  const busB = b.node.part<MessagesPart>('messages')!.bus;
  const routerA = a.node.part<OverlayPart>('overlay')!.overlay.router;
  await waitFor(() => routerA.lookup(b.node.identity.address).kind === 'selected', 'a route from A to B', 30_000);
  const pushed = await busA.push({ dst: { ip: b.node.identity.addressText }, payload: new TextEncoder().encode('hello B') });
  assert.ok(pushed.ok);
  const popped = await busB.pop({ timeoutMs: 30_000 });
  assert.ok(popped.ok && popped.value !== null, 'B received the message');
  await waitFor(() => b.node.part<StatePart>('state')!.state.get(`${a.nodeId}/color`) !== undefined, 'B has the state entry', 30_000);

  const sa = await scrape(urlA);
  const sb = await scrape(urlB);
  assert.match(sa.type, /^text\/plain; version=0\.0\.4/);
  const families = [
    'hypha_node_info', 'hypha_peers', 'hypha_peers_known', 'hypha_native_peer_events_total', 'hypha_link_bytes_total', 'hypha_link_messages_total',
    'hypha_routes', 'hypha_router_neighbours', 'hypha_router_events_total', 'hypha_routed_packets_total', 'hypha_routed_bytes_total',
    'hypha_dataplane_packets_total', 'hypha_dataplane_dropped_total', 'hypha_messages_total', 'hypha_messages_queued', 'hypha_messages_queued_bytes',
    'hypha_gossip_received_total', 'hypha_gossip_relayed_total', 'hypha_gossip_dropped_total', 'hypha_gossip_messages_total', 'hypha_gossip_sends_total',
    'hypha_state_entries', 'hypha_state_bytes', 'hypha_state_updates_total', 'hypha_state_sync_sessions_total', 'hypha_state_sync_bytes_total',
    'hypha_partyline_sessions', 'hypha_chat_lines_total', 'hypha_queue_dropped_total',
  ];
  for (const f of families) {
    assert.match(sa.text, new RegExp(`^# TYPE ${f} (counter|gauge)$`, 'm'), `family ${f}`);
    assert.ok(sa.samples.some((s) => s.name === f), `samples of ${f}`);
  }

  // The numbers follow what happened, node by node.
  assert.deepEqual(sa.samples.find((s) => s.name === 'hypha_node_info')!.labels, { node_id: a.nodeId, address: a.node.identity.addressText, version: sa.samples.find((s) => s.name === 'hypha_node_info')!.labels.version });
  assert.equal(sb.samples.find((s) => s.name === 'hypha_node_info')!.labels.node_id, b.nodeId);
  assert.equal(value(sa.samples, 'hypha_peers', { link: 'native', kind: 'hypha' }), 1);
  assert.equal(value(sa.samples, 'hypha_peers', { link: 'native', kind: 'micelio' }), 0);
  assert.equal(value(sa.samples, 'hypha_routes', { table: 'selected' }), 1);
  assert.equal(value(sa.samples, 'hypha_router_neighbours', { kind: 'native' }), 1);
  assert.ok(value(sa.samples, 'hypha_routed_packets_total')! >= 1);
  assert.ok(value(sa.samples, 'hypha_routed_bytes_total')! > 0);
  assert.ok(value(sa.samples, 'hypha_link_bytes_total', { link: 'native', direction: 'tx' })! > 0);
  assert.equal(value(sa.samples, 'hypha_messages_total', { event: 'pushed' }), 1);
  assert.equal(value(sb.samples, 'hypha_messages_total', { event: 'accepted' }), 1);
  assert.equal(value(sb.samples, 'hypha_messages_total', { event: 'pushed' }), 0);
  assert.equal(value(sa.samples, 'hypha_gossip_messages_total', { msg_type: '3', event: 'originated' }), 1);
  assert.equal(value(sb.samples, 'hypha_gossip_messages_total', { msg_type: '3', event: 'received' }), 1);
  assert.equal(value(sb.samples, 'hypha_gossip_dropped_total', { reason: 'bad_signature' }), 0);
  assert.equal(value(sa.samples, 'hypha_chat_lines_total', { event: 'local' }), 1);
  assert.equal(value(sb.samples, 'hypha_chat_lines_total', { event: 'remote' }), 1);
  assert.ok(value(sa.samples, 'hypha_state_updates_total', { result: 'local_writes' })! >= 2, 'tags and color');
  assert.equal(value(sa.samples, 'hypha_state_entries', { kind: 'live' }), value(sb.samples, 'hypha_state_entries', { kind: 'live' }));
  for (const q of ['native_link_send', 'mycelium_link_send', 'gossip_send', 'dataplane_route_wait', 'dataplane_link_send', 'native_overlay_rejoin', 'messages_send', 'partyline_session', 'state_gossip_backlog']) {
    assert.equal(value(sa.samples, 'hypha_queue_dropped_total', { queue: q }), 0, `queue ${q}`);
  }

  // Nothing went into prom-client's global registry.
  assert.equal((await globalRegistry.metrics()).includes('hypha_'), false);
  assert.notEqual(a.node.part<MetricsPart>('metrics')!.metrics!.registry, b.node.part<MetricsPart>('metrics')!.metrics!.registry);

  // Only /metrics, only GET.
  const other = await fetch(urlA.replace('/metrics', '/nope'));
  assert.equal(other.status, 404);
  assert.match(await other.text(), /metrics are at \/metrics/);
  assert.equal((await fetch(urlA, { method: 'POST' })).status, 405);
});

test('metrics are off by default, and a metrics address in use stops the node from starting with a message', async (t) => {
  const base = await tempBase(t, 'hypha-metrics-off-');
  const a = await startApiNode(t, base, 'a');
  assert.equal(a.node.part<MetricsPart>('metrics')!.server, undefined);
  const busy = await startApiNode(t, base, 'b', { metrics_api_address: '127.0.0.1:0' });
  const taken = busy.node.part<MetricsPart>('metrics')!.server!.address!;
  await assert.rejects(startApiNode(t, base, 'c', { metrics_api_address: taken }), /metrics failed to start: cannot listen for metrics on 127\.0\.0\.1:\d+: the address is in use \(another node running\?\); choose another --metrics-api-address/);
});

test('link totals stay monotonic when links close', () => {
  const stats = (tx: number, dropped = 0): LinkStats => ({ txBytes: tx, rxBytes: 2 * tx, txMessages: 1, rxMessages: 1, dropped, lastRxMs: 0, lastTxMs: 0 });
  const totals = new LinkTotals();
  assert.equal(totals.observe([{ id: 1, stats: stats(100) }, { id: 2, stats: stats(50, 3) }]).txBytes, 150);
  // Link 2 closed; link 3 opened; link 1 went on.
  const later = totals.observe([{ id: 1, stats: stats(120) }, { id: 3, stats: stats(7) }]);
  assert.deepEqual([later.txBytes, later.rxBytes, later.dropped, later.txMessages], [177, 354, 3, 3]);
  assert.equal(totals.observe([]).txBytes, 177);
  assert.equal(snake('droppedNoRoute'), 'dropped_no_route');
  assert.equal(snake('bad-signature'), 'bad_signature');
});
