// Self-tests of the namespace harness: what other tests and the benchmarks rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetnsLab, netemSkipReason, netnsSkipReason, waitFor } from './netns.ts';

test('two namespaces joined by a veth pair ping each other over IPv4 and IPv6', async (t) => {
  const why = await netnsSkipReason(['ping']);
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(2, t);
  const link = await lab.connect(lab.ns(0), lab.ns(1));
  await lab.ns(0).run('ping', ['-c', '1', '-W', '5', link.b.ipv4]);
  await lab.ns(1).run('ping', ['-6', '-c', '1', '-W', '5', link.a.ipv6]);
  // Namespaces are isolated: the host itself has no such link.
  const names = (await lab.ns(0).run('ip', ['-o', 'link'])).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]);
  assert.ok(names.includes('to1'), `expected to1 in ${names.join(',')}`);
});

test('a link taken down stops traffic and works again once brought up', async (t) => {
  const why = await netnsSkipReason(['ping']);
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(2, t);
  const link = await lab.connect(lab.ns(0), lab.ns(1));
  await link.down();
  const cut = await lab.ns(0).exec('ping', ['-c', '1', '-W', '1', link.b.ipv4]);
  assert.notEqual(cut.code, 0, 'ping must fail while the link is down');
  await link.up();
  // Carrier comes back asynchronously: poll rather than assume.
  await waitFor('ping over the restored link', async () => (await lab.ns(0).exec('ping', ['-c', '1', '-W', '1', link.b.ipv4])).code === 0);
  await waitFor('IPv6 ping over the restored link', async () => (await lab.ns(0).exec('ping', ['-6', '-c', '1', '-W', '1', link.b.ipv6])).code === 0);
});

test('a chain of three namespaces: each link gets its own subnet, and namespaces are removed at cleanup', async (t) => {
  const why = await netnsSkipReason(['ping']);
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(3);
  try {
    const ab = await lab.connect(lab.ns(0), lab.ns(1));
    const bc = await lab.connect(lab.ns(1), lab.ns(2));
    assert.notEqual(ab.a.ipv4, bc.a.ipv4);
    await lab.ns(1).run('ping', ['-c', '1', '-W', '5', bc.b.ipv4]);
    await lab.ns(1).run('ping', ['-c', '1', '-W', '5', ab.a.ipv4]);
  } finally {
    await lab.destroy();
  }
  const left = await lab.ns(0).exec('true');
  assert.notEqual(left.code, 0, 'the namespace must be gone after destroy()');
});

test('a process spawned in a namespace is observed and stopped at cleanup', async (t) => {
  const why = await netnsSkipReason();
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(1);
  const p = lab.ns(0).spawn('sh', ['-c', 'echo ready; ip -o link show lo; exec sleep 60']);
  await p.waitForOutput('ready');
  await p.waitForOutput(/LOOPBACK/);
  assert.equal(p.running, true);
  await lab.destroy();
  assert.equal(p.running, false);
  assert.equal(p.result?.signal, 'SIGTERM');
});

test('waitForOutput fails with the output when the process exits first', async (t) => {
  const why = await netnsSkipReason();
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(1, t);
  const p = lab.ns(0).spawn('sh', ['-c', 'echo something else; exit 3']);
  await assert.rejects(p.waitForOutput('never'), /exited \(code 3.*something else/s);
});

test('netem adds delay on a link', async (t) => {
  const why = await netemSkipReason();
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(2, t);
  const link = await lab.connect(lab.ns(0), lab.ns(1));
  await link.setNetem({ delayMs: 50 });
  const out = await lab.ns(0).run('ping', ['-c', '1', '-W', '5', link.b.ipv4]);
  const rtt = Number(/time=([\d.]+)/.exec(out)?.[1]);
  assert.ok(rtt >= 90, `RTT ${rtt} ms should include 2 × 50 ms of netem delay`);
  await link.clearNetem();
});

test('waitForTcpListen sees a server come up in its namespace, and the peer namespace can connect to it', async (t) => {
  const why = await netnsSkipReason(['ss']);
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(2, t);
  const link = await lab.connect(lab.ns(0), lab.ns(1));
  lab.ns(1).spawn(process.execPath, ['-e', "require('node:net').createServer((s) => s.end('hello\\n')).listen(7000, '::')"]);
  await lab.ns(1).waitForTcpListen(7000);
  const script = `require('node:net').connect(7000, '${link.b.ipv6}').on('data', (d) => process.stdout.write(d))`;
  assert.equal(await lab.ns(0).run(process.execPath, ['-e', script]), 'hello\n');
  // The listener is in ns 1 only: ns 0 has none of its own.
  await assert.rejects(lab.ns(0).waitForTcpListen(7000, 300), /timed out/);
});
