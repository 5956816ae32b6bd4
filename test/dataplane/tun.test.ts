// The TUN device: real interfaces inside network namespaces (root), plus the error paths with a fake addon
// (anyone). The namespace tests drive test/dataplane/tun-child.ts, which runs inside the namespace.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { captureLogger, silentLogger } from '../../src/base/log.ts';
import { DEFAULT_TUN_NAME, TUN_MTU, loadTunAddon, logTunUnavailable, openTun, type TunError, type TunNative } from '../../src/dataplane/tun.ts';
import { NetnsLab, netnsSkipReason, type NetnsProcess } from '../helpers/netns.ts';
import { buildUdp6, ipv6 } from '../helpers/packets.ts';

const CHILD = fileURLToPath(new URL('./tun-child.ts', import.meta.url));
const ADDRESS = '400::1';

/** Namespace + addon prerequisites. In CI a missing addon is a failure, not a skip: the build must work there. */
async function tunSkipReason(tools: string[] = []): Promise<string | undefined> {
  const why = await netnsSkipReason(tools);
  if (why !== undefined) return why;
  const addon = loadTunAddon();
  if (!addon.ok) {
    if (process.env.CI) assert.fail(`TUN addon not built in CI: ${addon.error.message}`);
    return `TUN addon not built: ${addon.error.message}; ${addon.error.fix}`;
  }
  return undefined;
}

interface ChildEvent {
  event: string;
  [k: string]: unknown;
}

/** Waits for the next `event` line printed after output offset `from`. */
async function nextEvent(p: NetnsProcess, event: string, from: number): Promise<ChildEvent> {
  const m = await p.waitForOutput(new RegExp(`^\\{"event":"${event}".*$`, 'm'), 15_000, from);
  return JSON.parse(m[0]) as ChildEvent;
}

/** Sends a command line to the child and waits for the event it answers with. */
async function command(p: NetnsProcess, line: string, event: string): Promise<ChildEvent> {
  const from = p.stdout.length;
  p.send(`${line}\n`);
  return nextEvent(p, event, from);
}

for (const mode of ['thread', 'direct'] as const) {
  test(`ping -6 through the TUN: the kernel's echo request is read and our echo reply is delivered (${mode} writes)`, async (t) => {
    const why = await tunSkipReason(['ping']);
    if (why !== undefined) return t.skip(why);
    const lab = await NetnsLab.create(1, t);
    const ns = lab.ns(0);
    const child = ns.spawn(process.execPath, [CHILD, DEFAULT_TUN_NAME, ADDRESS, mode]);
    const ready = await nextEvent(child, 'ready', 0);
    assert.equal(ready.name, DEFAULT_TUN_NAME);

    const link = await ns.run('ip', ['-6', 'addr', 'show', 'dev', DEFAULT_TUN_NAME]);
    assert.match(link, new RegExp(`mtu ${TUN_MTU} `));
    assert.match(link, /inet6 400::1\/7 scope global/);
    assert.match(link, /UP/);
    assert.match(await ns.run('ip', ['-6', 'route', 'show', '400::/7']), new RegExp(`400::/7 dev ${DEFAULT_TUN_NAME}`));

    const out = await ns.run('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '5', '400::abcd']);
    assert.match(out, /3 packets transmitted, 3 received/);
    const replied = child.stdout.split('\n').filter((l) => l.includes('"event":"replied"')).map((l) => JSON.parse(l) as ChildEvent);
    assert.equal(replied.length, 3);
    assert.ok(replied.every((r) => r.ok === true));
  });
}

test('packets larger than the MTU or not IPv6 are refused; a full-MTU datagram reaches a UDP socket', async (t) => {
  const why = await tunSkipReason();
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(1, t);
  const child = lab.ns(0).spawn(process.execPath, [CHILD, DEFAULT_TUN_NAME, ADDRESS]);
  await nextEvent(child, 'ready', 0);

  const big = await command(child, 'write-too-big', 'write');
  assert.equal(big.size, TUN_MTU + 1);
  assert.equal(big.ok, false);
  assert.equal((big.stats as { droppedTooBig: number }).droppedTooBig, 1);

  const junk = await command(child, 'write-not-ipv6', 'write');
  assert.equal(junk.ok, false);
  assert.equal((junk.stats as { droppedNotIpv6: number }).droppedNotIpv6, 1);

  const from = child.stdout.length;
  const full = await command(child, 'write-mtu', 'write');
  assert.equal(full.size, TUN_MTU);
  assert.equal(full.ok, true);
  const got = await nextEvent(child, 'udp', from);
  assert.equal(got.size, TUN_MTU - 40 - 8);
});

test('a second device with the same name fails with a clear error; close() releases the interface', async (t) => {
  const why = await tunSkipReason();
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(1, t);
  const ns = lab.ns(0);
  const child = ns.spawn(process.execPath, [CHILD, DEFAULT_TUN_NAME, ADDRESS]);
  await nextEvent(child, 'ready', 0);

  const second = await command(child, 'open-second', 'second');
  assert.equal(second.ok, false);
  const error = second.error as TunError;
  assert.equal(error.code, 'name-in-use');
  assert.match(error.message, /hypha0 is already in use/);
  assert.match(error.fix, /--tun-name/);

  const closed = await command(child, 'close', 'closed');
  assert.equal(closed.writeAfterClose, false);
  const gone = await ns.exec('ip', ['link', 'show', DEFAULT_TUN_NAME]);
  assert.notEqual(gone.code, 0, 'the interface must disappear when the device is closed');

  const again = await command(child, 'reopen', 'ready');
  assert.equal(again.name, DEFAULT_TUN_NAME);
  await ns.run('ip', ['link', 'show', DEFAULT_TUN_NAME]);
});

test('without CAP_NET_ADMIN the open fails with an error that says how to fix it, logged as one ERROR', async (t) => {
  const why = await tunSkipReason(['setpriv']);
  if (why !== undefined) return t.skip(why);
  const lab = await NetnsLab.create(1, t);
  // Root without CAP_NET_ADMIN in its bounding set: exactly a container or service without the capability.
  const child = lab.ns(0).spawn('setpriv', ['--bounding-set', '-net_admin', '--inh-caps', '-net_admin', process.execPath, CHILD, 'hypha0', ADDRESS]);
  const failed = await nextEvent(child, 'open-failed', 0);
  const error = failed.error as TunError;
  assert.equal(error.code, 'no-privilege');
  assert.match(error.message, /CAP_NET_ADMIN/);
  assert.match(error.fix, /run as root, or grant CAP_NET_ADMIN/);
  assert.match(error.fix, /setcap cap_net_admin\+ep /);
  assert.equal((await child.exited).code, 2);

  const cap = captureLogger();
  logTunUnavailable(cap.logger, error);
  assert.equal(cap.count('error'), 1);
  assert.ok(cap.has('error', 'CAP_NET_ADMIN'));
  assert.ok(cap.has('error', 'Continuing without TUN (as with --no-tun)'));
});

// ---- Error paths and device logic with a fake addon: no root needed ----

function errnoError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${syscall}: ${code}`), { code, syscall });
}

interface Fake extends TunNative {
  batch?: (buffer: ArrayBuffer | null, lengths: Uint32Array | null, count: number) => void;
  written: Uint8Array[];
  closedFds: number[];
}

function fakeNative(overrides: Partial<TunNative> = {}): Fake {
  const fake: Fake = {
    written: [],
    closedFds: [],
    open: (name) => ({ fd: 42, name }),
    configure: () => true,
    writeDirect: (_fd, p) => {
      fake.written.push(p.slice());
      return p.length;
    },
    closeFd: (fd) => void fake.closedFds.push(fd),
    startReader: (_fd, cb) => {
      fake.batch = cb;
      return 'reader';
    },
    stopReader: () => {},
    startWriter: () => 'writer',
    enqueue: (_h, p) => {
      fake.written.push(p.slice());
      return true;
    },
    writerStats: () => [0, fake.written.length, 0, 0],
    stopWriter: () => {},
    ...overrides,
  };
  return fake;
}

const opts = { address: ipv6(ADDRESS), logger: silentLogger() };

test('open errors map to codes with fixes: EPERM, EBUSY, missing /dev/net/tun, IPv6 disabled, no threads, bad name', () => {
  const perm = openTun(opts, fakeNative({ open: () => { throw errnoError('EPERM', 'ioctl TUNSETIFF'); } }));
  assert.equal(perm.ok, false);
  assert.equal(!perm.ok && perm.error.code, 'no-privilege');
  assert.match(!perm.ok ? perm.error.fix : '', /run as root, or grant CAP_NET_ADMIN.*setcap cap_net_admin\+ep/);

  const busy = openTun({ ...opts, name: 'hy1' }, fakeNative({ open: () => { throw errnoError('EBUSY', 'ioctl TUNSETIFF'); } }));
  assert.equal(!busy.ok && busy.error.code, 'name-in-use');
  assert.match(!busy.ok ? busy.error.message : '', /hy1 is already in use/);

  const nodev = openTun(opts, fakeNative({ open: () => { throw errnoError('ENOENT', 'open /dev/net/tun'); } }));
  assert.equal(!nodev.ok && nodev.error.code, 'no-tun-device');
  assert.match(!nodev.ok ? nodev.error.fix : '', /modprobe tun/);

  const fake = fakeNative({ configure: () => { throw errnoError('EACCES', 'netlink RTM_NEWADDR'); } });
  const v6off = openTun(opts, fake);
  assert.equal(!v6off.ok && v6off.error.code, 'ipv6-disabled');
  assert.deepEqual(fake.closedFds, [42], 'a device that cannot be configured is closed again');

  let readerStopped = false;
  const noThread = fakeNative({ startWriter: () => { throw errnoError('EAGAIN', 'pthread_create'); }, stopReader: () => void (readerStopped = true) });
  const threadless = openTun(opts, noThread);
  assert.equal(!threadless.ok && threadless.error.code, 'config-failed');
  assert.ok(readerStopped, 'the reader thread is stopped when the writer cannot start');
  assert.deepEqual(noThread.closedFds, [42]);

  for (const name of ['', 'a-name-way-too-long', 'a/b', 'x y', 'tun%d']) {
    const r = openTun({ ...opts, name }, fakeNative());
    assert.equal(!r.ok && r.error.code, 'bad-name', name);
  }
  const notOverlay = openTun({ ...opts, address: ipv6('2001:db8::1') }, fakeNative());
  assert.equal(!notOverlay.ok && notOverlay.error.code, 'bad-address');
});

test('an address the kernel is slow to make routable is reported with a WARN, and the device still opens', () => {
  const cap = captureLogger();
  const r = openTun({ ...opts, logger: cap.logger }, fakeNative({ configure: () => false }));
  assert.ok(r.ok);
  assert.ok(cap.has('warn', 'not yet installed the local route of 400::1 on hypha0'));
  r.value.close();
});

test('logTunUnavailable writes exactly one ERROR naming the problem, the fix and the fallback', () => {
  const cap = captureLogger();
  const r = openTun(opts, fakeNative({ open: () => { throw errnoError('EPERM', 'ioctl TUNSETIFF'); } }));
  assert.ok(!r.ok);
  logTunUnavailable(cap.logger, r.error);
  assert.equal(cap.records.length, 1);
  assert.equal(cap.records[0].levelName, 'error');
  assert.match(cap.records[0].msg, /TUN unavailable: creating TUN interface hypha0 needs CAP_NET_ADMIN/);
  assert.match(cap.records[0].msg, /run as root, or grant CAP_NET_ADMIN/);
  assert.match(cap.records[0].msg, /Continuing without TUN \(as with --no-tun\)/);
});

test('batches from the reader become one packet each; writes are checked against the MTU and closing stops them', () => {
  for (const writeMode of ['thread', 'direct'] as const) {
    const fake = fakeNative();
    const r = openTun({ ...opts, writeMode }, fake);
    assert.ok(r.ok);
    const dev = r.value;
    const got: Uint8Array[] = [];
    dev.onPacket((p) => got.push(p));
    const a = buildUdp6({ src: ipv6('400::2'), dst: ipv6(ADDRESS), srcPort: 1, dstPort: 2, totalBytes: 60 });
    const b = buildUdp6({ src: ipv6('400::3'), dst: ipv6(ADDRESS), srcPort: 1, dstPort: 2, totalBytes: 1400 });
    const slab = new Uint8Array(a.length + b.length);
    slab.set(a);
    slab.set(b, a.length);
    fake.batch?.(slab.buffer, new Uint32Array([a.length, b.length]), 2);
    assert.deepEqual(got, [a, b]);
    assert.equal(dev.stats().batchesRead, 1);
    assert.equal(dev.stats().packetsRead, 2);

    assert.equal(dev.write(b), true);
    assert.equal(dev.write(new Uint8Array(TUN_MTU + 1).fill(0x60)), false);
    assert.equal(dev.write(new Uint8Array(20).fill(0x60)), false);
    assert.deepEqual(fake.written, [b]);
    const s = dev.stats();
    assert.deepEqual([s.packetsWritten, s.droppedTooBig, s.droppedNotIpv6], [1, 1, 1]);

    dev.close();
    dev.close();
    assert.equal(dev.closed, true);
    assert.equal(dev.write(b), false);
    assert.deepEqual(fake.closedFds, [42]);
  }
});

test('a read error (interface deleted under us) is logged once and the device stops', () => {
  const fake = fakeNative();
  const cap = captureLogger();
  const r = openTun({ ...opts, logger: cap.logger }, fake);
  assert.ok(r.ok);
  fake.batch?.(null, null, -77);
  fake.batch?.(null, null, -77);
  assert.equal(cap.count('error'), 1);
  assert.ok(cap.has('error', 'stopped working'));
  assert.equal(r.value.closed, true);
  assert.equal(r.value.write(buildUdp6({ src: ipv6('400::2'), dst: ipv6(ADDRESS), srcPort: 1, dstPort: 2, totalBytes: 60 })), false);
});

test('run by a user without CAP_NET_ADMIN, the real addon reports no-privilege (not root: nothing is created)', (t) => {
  // As root this would create an interface in the host's namespace; the namespace test above covers root.
  if (process.getuid?.() === 0) return t.skip('running as root: covered by the setpriv test in a namespace');
  const addon = loadTunAddon();
  if (!addon.ok) return t.skip(`TUN addon not built: ${addon.error.message}`);
  const r = openTun({ ...opts, name: 'hyphatest0' });
  if (r.ok) {
    r.value.close();
    return t.skip('this user has CAP_NET_ADMIN (file capability on node?)');
  }
  assert.equal(r.error.code, 'no-privilege');
  assert.match(r.error.message, /CAP_NET_ADMIN/);
});
