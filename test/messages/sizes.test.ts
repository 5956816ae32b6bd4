import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusNet, bytes } from './helpers.ts';

for (const size of [1024, 1024 * 1024, 16 * 1024 * 1024]) {
  test(`three nodes in a line: a ${size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`} message from A reaches C intact`, { timeout: 300_000 }, async () => {
    const net = new BusNet(3);
    net.link(0, 1);
    net.link(1, 2);
    await net.start();
    await net.settle();
    const [a, , c] = net.nodes;
    const payload = bytes(size, size);
    const r = await a.bus.push({ dst: { ip: c.ip }, payload });
    assert.ok(r.ok);
    const got = await net.settleOn(c.bus.pop({ timeoutMs: 600_000 }), 'message at C', 600_000);
    assert.ok(got.ok && got.value, 'C got the message');
    assert.equal(got.value.payload.length, size);
    assert.deepEqual(got.value.payload, payload);
    await net.until(() => { const s = a.bus.status(r.value.id); return s.ok && s.value.state === 'read'; }, 'status read at A');
    assert.equal(a.bus.counters.chunkRetransmits, 0, 'nothing is resent on a clean path');
    await net.stop();
  });
}
