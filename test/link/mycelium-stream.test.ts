import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SystemClock } from '../../src/base/clock.ts';
import { captureLogger, silentLogger } from '../../src/base/log.ts';
import type { StreamLink } from '../../src/link/mycelium-stream.ts';
import { dialMycelium, listenMycelium } from '../../src/link/mycelium-transport.ts';
import { parseEndpoint, formatEndpoint } from '../../src/link/mycelium-endpoint.ts';
import { encodeControlFrame, encodeDataFrame } from '../../src/wire/mycelium/packet.ts';
import { waitFor } from '../helpers/poll.ts';

const clock = new SystemClock();

async function pair(opts: { maxQueueFrames?: number } = {}) {
  let server: StreamLink | undefined;
  const l = await listenMycelium({ clock, logger: silentLogger(), host: '127.0.0.1', port: 0, onLink: (k) => (server = k), limits: opts });
  const c = await dialMycelium({ proto: 'tcp', host: '127.0.0.1', port: l.port }, { clock, logger: silentLogger(), limits: opts });
  assert.ok(c.ok);
  await waitFor(() => server !== undefined, 'inbound link');
  return { client: c.value, server: server!, listener: l };
}

test('endpoints: tcp://IP:PORT, tcp://[IPv6]:PORT, tls://; host names and bad ports refused', () => {
  assert.deepEqual(parseEndpoint('tcp://1.2.3.4:9651'), { ok: true, value: { proto: 'tcp', host: '1.2.3.4', port: 9651 } });
  assert.deepEqual(parseEndpoint('tcp://[2001:db8::1]:9651'), { ok: true, value: { proto: 'tcp', host: '2001:db8::1', port: 9651 } });
  assert.equal(formatEndpoint({ proto: 'tls', host: 'fe80::1%eth0', port: 9651 }), 'tls://[fe80::1%eth0]:9651');
  assert.ok(parseEndpoint('tls://[fe80::1%eth0]:9651').ok);
  for (const bad of ['example.com:9651', 'tcp://example.com:9651', 'tcp://1.2.3.4', 'tcp://1.2.3.4:0', 'tcp://1.2.3.4:70000', 'udp://1.2.3.4:1', 'tcp://2001:db8::1:9651', 'tcp://[zz::1]:1']) {
    assert.equal(parseEndpoint(bad).ok, false, bad);
  }
});

test('frames cross a real TCP link whole, in order, in both directions', async () => {
  const { client, server, listener } = await pair();
  const got: Uint8Array[] = [];
  server.attach({ onMessage: (m) => got.push(Uint8Array.from(m)), onClose: () => {} });
  const back: Uint8Array[] = [];
  client.attach({ onMessage: (m) => back.push(m), onClose: () => {} });
  const z = new Uint8Array(16);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 500; i++) {
    frames.push(i % 2 ? encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: i, intervalCs: 2000 }) : encodeDataFrame({ hopLimit: 64, src: z, dst: z, rawData: new Uint8Array(i * 3).fill(i & 0xff) }));
  }
  for (const f of frames) assert.ok(client.send(f));
  await waitFor(() => got.length === frames.length, 'all frames');
  assert.deepEqual(got, frames);
  server.send(frames[1]);
  await waitFor(() => back.length === 1, 'reply');
  assert.equal(client.stats().txMessages, 500);
  assert.equal(server.stats().rxMessages, 500);
  client.close('done');
  await listener.close();
});

test('a stream that stops being Mycelium framing closes that link with a warning', async () => {
  const cap = captureLogger('warn');
  let server: StreamLink | undefined;
  const l = await listenMycelium({ clock, logger: cap.logger, host: '127.0.0.1', port: 0, onLink: (k) => (server = k) });
  const raw = net.connect(l.port, '127.0.0.1');
  await waitFor(() => server !== undefined, 'inbound');
  let reason = '';
  server!.attach({ onMessage: () => {}, onClose: (r) => (reason = r) });
  raw.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await waitFor(() => reason !== '', 'close');
  assert.match(reason, /malformed stream: bad-version/);
  assert.ok(cap.has('warn', 'malformed Mycelium stream'));
  raw.destroy();
  await l.close();
});

test('the send queue is bounded: past the limit send() refuses and counts a drop', async () => {
  const { client, server, listener } = await pair({ maxQueueFrames: 8 });
  server.attach({ onMessage: () => {}, onClose: () => {} });
  const f = encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: 1, intervalCs: 2000 });
  let accepted = 0;
  for (let i = 0; i < 20; i++) if (client.send(f)) accepted++;
  assert.equal(accepted, 8);
  assert.equal(client.stats().dropped, 12);
  client.close('done');
  await listener.close();
});

test('dialling a closed port fails with a reason, not an exception', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const res = await dialMycelium({ proto: 'tcp', host: '127.0.0.1', port }, { clock, logger: silentLogger() });
  assert.equal(res.ok, false);
  assert.equal(!res.ok && res.error.code, 'connect-failed');
  const tlsNoNet = await dialMycelium({ proto: 'tls', host: '127.0.0.1', port }, { clock, logger: silentLogger() });
  assert.equal(!tlsNoNet.ok && tlsNoNet.error.code, 'not-private');
});

test('property: the endpoint parser never throws and what it accepts formats back to itself', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.constantFrom('tcp://', 'tls://', 'quic://').chain((p) => fc.string().map((s) => p + s))), (s) => {
      const r = parseEndpoint(s);
      if (r.ok) assert.equal(parseEndpoint(formatEndpoint(r.value)).ok, true);
    }),
    { numRuns: 3000 },
  );
});
