// The same restart guarantees on the real store: LMDB in a temporary directory, closed and reopened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LmdbStore } from '../../src/store/lmdb.ts';
import { BusNet, bytes, utf8 } from './helpers.ts';

/** Virtual time in small steps, with real time in between for LMDB's commits. */
async function until(net: BusNet, cond: () => boolean, what: string, realMs = 30_000): Promise<void> {
  const end = Date.now() + realMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await net.clock.advance(20);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('on LMDB: an accepted message survives the receiver\'s restart, and an unfinished send survives the sender\'s', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-msg-lmdb-'));
  const net = new BusNet(2, { store: (i) => new LmdbStore(path.join(dir, `node${i}`, 'hypha.lmdb')) });
  try {
    net.link(0, 1);
    await net.start();
    await net.settle();
    const [a, b] = net.nodes;
    const payload = bytes(300_000, 9);
    const r = await a.bus.push({ dst: { ip: b.ip }, topic: utf8('disk'), payload });
    assert.ok(r.ok);
    // received = B's DONE-ACK came, which B sends only once the message is on disk.
    await until(net, () => { const s = a.bus.status(r.value.id); return s.ok && s.value.state === 'received'; }, 'received');
    const b2 = await net.restart(1);
    assert.equal(b2.bus.inboxCount, 1);
    const got = await b2.bus.pop({ topic: utf8('disk') });
    assert.ok(got.ok && got.value);
    assert.deepEqual(got.value.payload, payload);

    // A message pushed while B is unreachable is still sent after A restarts.
    net.links.find((l) => l.i === 0)!.wire.cut = true;
    const r2 = await net.nodes[0].bus.push({ dst: { ip: b.ip }, payload: utf8('later'), deadlineMs: 120_000 });
    assert.ok(r2.ok);
    const a2 = await net.restart(0);
    const s = a2.bus.status(r2.value.id);
    assert.ok(s.ok && s.value.state === 'pending');
    let later: string | undefined;
    void net.nodes[1].bus.pop({ timeoutMs: 120_000 }).then((m) => (later = m.ok && m.value ? new TextDecoder().decode(m.value.payload) : 'none'));
    await until(net, () => later !== undefined, 'message after the sender restarted');
    assert.equal(later, 'later');
  } finally {
    await net.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
