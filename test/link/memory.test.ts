import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/base/clock.ts';
import { MemoryWire } from '../../src/link/memory.ts';

function collect(link: { attach: (e: { onMessage: (m: Uint8Array) => void; onClose: (r: string) => void }) => void }) {
  const got: number[] = [];
  const closed: string[] = [];
  link.attach({ onMessage: (m) => got.push(m[0]), onClose: (r) => closed.push(r) });
  return { got, closed };
}

test('memory wire delivers in order after its latency', async () => {
  const clock = new VirtualClock(0);
  const wire = new MemoryWire(clock, { protocol: 'native', latencyMs: 10, jitterMs: 5, random: () => 0.9 });
  const rx = collect(wire.b);
  for (let i = 0; i < 5; i++) wire.a.send(Uint8Array.of(i));
  await clock.advance(9);
  assert.deepEqual(rx.got, []);
  await clock.advance(10);
  assert.deepEqual(rx.got, [0, 1, 2, 3, 4]);
  assert.equal(wire.a.stats().txMessages, 5);
  assert.equal(wire.b.stats().rxMessages, 5);
});

test('a cut wire loses everything silently; a closed end closes the other', async () => {
  const clock = new VirtualClock(0);
  const wire = new MemoryWire(clock, { protocol: 'mycelium', latencyMs: 1 });
  const rx = collect(wire.b);
  wire.cut = true;
  wire.a.send(Uint8Array.of(1));
  await clock.advance(10);
  assert.deepEqual(rx.got, []);
  wire.cut = false;
  wire.a.send(Uint8Array.of(2));
  await clock.advance(10);
  assert.deepEqual(rx.got, [2]);
  wire.a.close('bye');
  assert.equal(wire.b.closed, true);
  assert.deepEqual(rx.closed, ['remote closed: bye']);
  assert.equal(wire.a.send(Uint8Array.of(3)), false);
});

test('bandwidth delays messages; a full queue refuses and counts the drop', async () => {
  const clock = new VirtualClock(0);
  const wire = new MemoryWire(clock, { protocol: 'native', bandwidthBps: 8000, maxQueue: 2 }); // 1 byte per ms
  const rx = collect(wire.b);
  assert.equal(wire.a.send(new Uint8Array(100)), true);
  assert.equal(wire.a.send(new Uint8Array(100)), true);
  assert.equal(wire.a.send(new Uint8Array(100)), false);
  assert.equal(wire.a.stats().dropped, 1);
  await clock.advance(150);
  assert.equal(rx.got.length, 1);
  await clock.advance(50);
  assert.equal(rx.got.length, 2);
});

test('idle timeout closes a silent link', async () => {
  const clock = new VirtualClock(0);
  const wire = new MemoryWire(clock, { protocol: 'native' });
  const rx = collect(wire.b);
  wire.b.setIdleTimeout(100);
  await clock.advance(60);
  wire.a.send(Uint8Array.of(1));
  await clock.advance(60);
  assert.equal(wire.b.closed, false);
  await clock.advance(100);
  assert.equal(wire.b.closed, true);
  assert.deepEqual(rx.closed, ['idle timeout']);
});
