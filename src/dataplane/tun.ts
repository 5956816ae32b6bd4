// The Linux TUN device: a PacketDevice backed by interface `--tun-name` (default hypha0), MTU 1400, with
// the node's overlay address at prefix length 7 so the kernel routes all of 400::/7 into it.
//
// Opening needs CAP_NET_ADMIN. `openTun` never throws for the expected failures (no privilege, no
// /dev/net/tun, name taken, addon not built, IPv6 disabled): it returns a TunError that says what is wrong
// and how to fix it; the caller logs it once with `logTunUnavailable` and carries on as with --no-tun.
//
// I/O goes through our N-API addon (native/tun/hypha_tun.c): a reader thread hands packets over in batches
// (one JS call per batch, not per packet) and writes go to a writer thread through a ring, so the kernel's
// share of both directions runs off the JS thread. MTU and link state are set by ioctl and the address by
// one rtnetlink message (with IFA_F_NODAD, so it is usable at once) in the addon rather than by running
// `ip`: no process spawn, no dependency on iproute2 at run time, and the errno of the exact failing step. bench/tun-io.ts measured the alternatives (README, "TUN device").
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import type { Logger } from '../base/log.ts';
import { ok, type Result } from '../base/result.ts';
import { formatIpv6, isOverlayAddress } from '../wire/ipv6.ts';
import type { PacketDevice } from './device.ts';

export const DEFAULT_TUN_NAME = 'hypha0';
export const TUN_MTU = 1400;
/** The overlay address is assigned as /7, so the kernel's connected route covers all of 400::/7. */
export const TUN_PREFIX_LEN = 7;
const IPV6_HEADER_BYTES = 40;
/** Kernel limit on interface names (IFNAMSIZ - 1). */
const MAX_IFNAME_BYTES = 15;
/** Writer ring: 1,024 packets of up to the MTU (1.4 MiB at 1,400) may wait for the writer thread. */
const WRITE_QUEUE_PACKETS = 1024;
/** A handler that throws is logged on the first failure and then every this many. */
const HANDLER_ERROR_LOG_EVERY = 1024;

const ADDON_PATH = '../../native/build/hypha_tun.node';

/** The addon's functions (native/tun/hypha_tun.c). Tests substitute a fake to simulate failures. */
export interface TunNative {
  open(name: string, nonBlocking: boolean): { fd: number; name: string };
  /** False if the address was still not routable when configure gave up waiting (about 2 s). */
  configure(name: string, address: Uint8Array, prefixLen: number, mtu: number): boolean;
  writeDirect(fd: number, packet: Uint8Array): number;
  closeFd(fd: number): void;
  startReader(fd: number, onBatch: (buffer: ArrayBuffer | null, lengths: Uint32Array | null, countOrErrno: number) => void): unknown;
  stopReader(handle: unknown): void;
  startWriter(fd: number, slots: number, slotBytes: number): unknown;
  /** With `defer`, the writer thread is not woken until kick(): one wakeup per burst. */
  enqueue(handle: unknown, packet: Uint8Array, defer?: boolean): boolean;
  kick?(handle: unknown): void;
  /** [queued, written, errors, lastErrno] */
  writerStats(handle: unknown): number[];
  stopWriter(handle: unknown): void;
}

export type TunErrorCode =
  | 'unsupported-platform'
  | 'addon-missing'
  | 'no-privilege'
  | 'no-tun-device'
  | 'name-in-use'
  | 'bad-name'
  | 'bad-address'
  | 'ipv6-disabled'
  | 'config-failed';

export interface TunError {
  code: TunErrorCode;
  /** What went wrong, for people: names the interface and the failing step. */
  message: string;
  /** What the user can do about it. */
  fix: string;
}

/**
 * How packets reach the kernel: 'thread' (default) copies each packet into a ring drained by a writer
 * thread; 'direct' makes the write() syscall on the JS thread. See bench/tun-io.ts.
 */
export type TunWriteMode = 'thread' | 'direct';

export interface TunOptions {
  /** Interface name; default hypha0. */
  name?: string;
  /** The node's 16-byte overlay address (400::/7). */
  address: Uint8Array;
  prefixLen?: number;
  mtu?: number;
  writeMode?: TunWriteMode;
  logger: Logger;
}

export interface TunStats {
  packetsRead: number;
  bytesRead: number;
  /** Reader wakeups; packetsRead / batchesRead is the mean batch size. */
  batchesRead: number;
  /** Packets accepted by write() (queued or written). */
  packetsWritten: number;
  bytesWritten: number;
  /** Packets write() refused: larger than the MTU. */
  droppedTooBig: number;
  /** Packets write() refused: shorter than an IPv6 header or not version 6. */
  droppedNotIpv6: number;
  /** Packets write() refused: the writer ring was full. */
  droppedQueueFull: number;
  /** Packets write() refused because the device was closed or failed. */
  droppedClosed: number;
  /** Packets read while no handler was set. */
  droppedNoHandler: number;
  /** write() syscalls the kernel rejected. */
  writeErrors: number;
}

interface NativeError {
  code?: string;
  syscall?: string;
  message?: string;
}

/** Loads the addon, or says why it is not there. */
export function loadTunAddon(): Result<TunNative, TunError> {
  if (process.platform !== 'linux') {
    return fail('unsupported-platform', `TUN is supported on Linux only (this is ${process.platform})`,
      'run with --no-tun; routing and messages work without it');
  }
  try {
    const require = createRequire(import.meta.url);
    return ok(require(ADDON_PATH) as TunNative);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return fail('addon-missing', `the native TUN addon native/build/hypha_tun.node is not available (${why})`,
      'install a C compiler (apt-get install gcc) and run `npm run build:native`');
  }
}

/**
 * Creates and configures the TUN interface. Returns the device, or a TunError for the caller to log once
 * (`logTunUnavailable`) before carrying on without TUN.
 */
export function openTun(opts: TunOptions, native?: TunNative): Result<TunDevice, TunError> {
  const name = opts.name ?? DEFAULT_TUN_NAME;
  const mtu = opts.mtu ?? TUN_MTU;
  const prefixLen = opts.prefixLen ?? TUN_PREFIX_LEN;
  const badName = checkIfname(name);
  if (badName !== undefined) return fail('bad-name', badName, 'choose another --tun-name');
  if (opts.address.length !== 16 || !isOverlayAddress(opts.address)) {
    return fail('bad-address', `TUN address must be a 16-byte address in 400::/7, got ${opts.address.length} bytes`,
      'this is a bug in the caller');
  }
  if (!(Number.isInteger(mtu) && mtu >= 1280 && mtu <= 65535)) {
    return fail('config-failed', `TUN MTU must be an integer from 1280 to 65535, got ${mtu}`, 'use the default MTU of 1400');
  }
  let addon = native;
  if (addon === undefined) {
    const loaded = loadTunAddon();
    if (!loaded.ok) return loaded;
    addon = loaded.value;
  }
  let opened: { fd: number; name: string };
  try {
    opened = addon.open(name, true);
  } catch (e) {
    return { ok: false, error: explainOpenError(name, e as NativeError) };
  }
  try {
    if (!addon.configure(opened.name, opts.address, prefixLen, mtu)) {
      opts.logger.warn({ component: 'tun', tun: opened.name },
        `the kernel has not yet installed the local route of ${formatIpv6(opts.address)} on ${opened.name}; ` +
        'packets for this node may be dropped until it does');
    }
  } catch (e) {
    addon.closeFd(opened.fd);
    return { ok: false, error: explainConfigureError(opened.name, `${formatIpv6(opts.address)}/${prefixLen}`, mtu, e as NativeError) };
  }
  try {
    return ok(new TunDevice(addon, opened.fd, opened.name, mtu, opts.writeMode ?? 'thread', opts.logger));
  } catch (e) {
    addon.closeFd(opened.fd);
    return fail('config-failed', `cannot start I/O threads for ${opened.name} (${(e as NativeError).message ?? String(e)})`,
      'run with --no-tun, and report this');
  }
}

/** Logs a TunError as the single ERROR line the node prints when it has to run without TUN. */
export function logTunUnavailable(log: Logger, error: TunError): void {
  log.error({ code: error.code, fix: error.fix },
    `TUN unavailable: ${error.message}. To fix: ${error.fix}. Continuing without TUN (as with --no-tun): ` +
    'routing and messages work, but this host cannot send or receive overlay IPv6 packets');
}

export class TunDevice implements PacketDevice {
  readonly name: string;
  readonly mtu: number;
  readonly writeMode: TunWriteMode;
  private readonly native: TunNative;
  private readonly fd: number;
  private readonly log: Logger;
  private readonly reader: unknown;
  private readonly writer: unknown;
  private handler: ((packet: Uint8Array) => void) | undefined;
  private state: 'open' | 'failed' | 'closed' = 'open';
  private kickQueued = false;
  private handlerErrors = 0;
  private readonly counters = {
    packetsRead: 0,
    bytesRead: 0,
    batchesRead: 0,
    packetsWritten: 0,
    bytesWritten: 0,
    droppedTooBig: 0,
    droppedNotIpv6: 0,
    droppedQueueFull: 0,
    droppedClosed: 0,
    droppedNoHandler: 0,
    writeErrors: 0,
  };

  /** Use openTun(). */
  constructor(native: TunNative, fd: number, name: string, mtu: number, writeMode: TunWriteMode, log: Logger) {
    this.native = native;
    this.fd = fd;
    this.name = name;
    this.mtu = mtu;
    this.writeMode = writeMode;
    this.log = log.child({ component: 'tun', tun: name });
    this.reader = native.startReader(fd, this.onBatch);
    try {
      this.writer = writeMode === 'thread' ? native.startWriter(fd, WRITE_QUEUE_PACKETS, mtu) : undefined;
    } catch (e) {
      native.stopReader(this.reader);
      throw e;
    }
  }

  get closed(): boolean {
    return this.state !== 'open';
  }

  /**
   * Packets arrive in batches that share one ArrayBuffer, so a packet kept for long (a queue waiting for a
   * route) keeps its batch (at most ~200 KB) alive; copy it (`packet.slice()`) if that matters.
   */
  onPacket(handler: (packet: Uint8Array) => void): void {
    this.handler = handler;
  }

  write(packet: Uint8Array): boolean {
    const c = this.counters;
    if (this.state !== 'open') {
      c.droppedClosed++;
      return false;
    }
    if (packet.length > this.mtu) {
      c.droppedTooBig++;
      return false;
    }
    if (packet.length < IPV6_HEADER_BYTES || packet[0] >> 4 !== 6) {
      c.droppedNotIpv6++;
      return false;
    }
    if (this.writer !== undefined) {
      const deferWake = this.native.kick !== undefined;
      if (!this.native.enqueue(this.writer, packet, deferWake)) {
        c.droppedQueueFull++;
        return false;
      }
      if (deferWake && !this.kickQueued) {
        // Packets written in this callback (a socket read, a TUN batch) wake the writer thread once, when
        // the callback is done.
        this.kickQueued = true;
        queueMicrotask(this.kick);
      }
    } else if (this.native.writeDirect(this.fd, packet) < 0) {
      c.writeErrors++;
      return false;
    }
    c.packetsWritten++;
    c.bytesWritten += packet.length;
    return true;
  }

  private readonly kick = (): void => {
    this.kickQueued = false;
    if (this.writer !== undefined && this.state === 'open') this.native.kick?.(this.writer);
  };

  stats(): TunStats {
    const s = { ...this.counters };
    if (this.writer !== undefined && this.state === 'open') s.writeErrors += this.native.writerStats(this.writer)[2];
    return s;
  }

  /** Packets still waiting in the writer ring (0 in direct mode or once closed). */
  get writeQueueLength(): number {
    return this.writer !== undefined && this.state === 'open' ? this.native.writerStats(this.writer)[0] : 0;
  }

  /** Stops the threads (queued writes are flushed first) and closes the fd, which deletes the interface. */
  close(): void {
    if (this.state === 'closed') return;
    this.stopIo();
    this.state = 'closed';
  }

  private stopIo(): void {
    if (this.state !== 'open') return;
    this.native.stopReader(this.reader);
    if (this.writer !== undefined) {
      this.counters.writeErrors += this.native.writerStats(this.writer)[2];
      this.native.stopWriter(this.writer);
    }
    this.native.closeFd(this.fd);
  }

  private readonly onBatch = (buffer: ArrayBuffer | null, lengths: Uint32Array | null, countOrErrno: number): void => {
    if (buffer === null || lengths === null) {
      this.fail(-countOrErrno);
      return;
    }
    const c = this.counters;
    c.batchesRead++;
    let offset = 0;
    for (let i = 0; i < countOrErrno; i++) {
      const len = lengths[i];
      const packet = new Uint8Array(buffer, offset, len);
      offset += len;
      c.packetsRead++;
      c.bytesRead += len;
      const h = this.handler;
      if (h === undefined) {
        c.droppedNoHandler++;
        continue;
      }
      try {
        h(packet);
      } catch (e) {
        if (this.handlerErrors++ % HANDLER_ERROR_LOG_EVERY === 0) {
          this.log.error({ err: e, failures: this.handlerErrors }, 'packet handler threw; packet dropped');
        }
      }
    }
  };

  private fail(errno: number): void {
    if (this.state !== 'open') return;
    const code = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
    this.log.error({ errno, code },
      `TUN interface ${this.name} stopped working (read failed with ${code}; was the interface deleted?): ` +
      'overlay packets no longer reach this host; restart the node to recreate it');
    this.stopIo();
    this.state = 'failed';
  }
}

function fail(code: TunErrorCode, message: string, fix: string): { ok: false; error: TunError } {
  return { ok: false, error: { code, message, fix } };
}

function checkIfname(name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > MAX_IFNAME_BYTES) {
    return `TUN interface name "${name}" must be 1 to ${MAX_IFNAME_BYTES} bytes long`;
  }
  if (name === '.' || name === '..' || /[\s/:%]/.test(name)) {
    return `TUN interface name "${name}" must not be "." or ".." nor contain whitespace, "/", ":" or "%"`;
  }
  return undefined;
}

/** The command that grants the capability to the Node binary running us. */
function setcapHint(): string {
  let node = process.execPath;
  try {
    node = realpathSync(node);
  } catch {
    // keep execPath
  }
  return `run as root, or grant CAP_NET_ADMIN to Node: sudo setcap cap_net_admin+ep ${node} (or run with --no-tun)`;
}

function explainOpenError(name: string, e: NativeError): TunError {
  const detail = e.message ?? String(e);
  const code = e.code ?? '';
  if (e.syscall === 'open /dev/net/tun') {
    if (code === 'EACCES' || code === 'EPERM') {
      return {
        code: 'no-privilege',
        message: `creating TUN interface ${name} needs CAP_NET_ADMIN and access to /dev/net/tun (${detail})`,
        fix: `${setcapHint()}; with the capability, /dev/net/tun must also be readable and writable (mode 0666 is the usual default)`,
      };
    }
    return {
      code: 'no-tun-device',
      message: `the kernel's TUN driver is not available (${detail})`,
      fix: 'load it with `modprobe tun`; in a container pass the device and the capability ' +
        '(docker run --device /dev/net/tun --cap-add NET_ADMIN)',
    };
  }
  if (code === 'EPERM' || code === 'EACCES') {
    return { code: 'no-privilege', message: `creating TUN interface ${name} needs CAP_NET_ADMIN (${detail})`, fix: setcapHint() };
  }
  if (code === 'EBUSY') {
    return {
      code: 'name-in-use',
      message: `TUN interface ${name} is already in use by another process (another hypha node?) (${detail})`,
      fix: 'stop the other process, or choose another name with --tun-name',
    };
  }
  if (code === 'EINVAL' && existsSync(`/sys/class/net/${name}`)) {
    return {
      code: 'name-in-use',
      message: `an interface named ${name} already exists and is not a TUN device (${detail})`,
      fix: 'choose another name with --tun-name',
    };
  }
  return { code: 'config-failed', message: `cannot create TUN interface ${name} (${detail})`, fix: 'run with --no-tun, and report this' };
}

function explainConfigureError(name: string, what: string, mtu: number, e: NativeError): TunError {
  const detail = e.message ?? String(e);
  if (e.code === 'EPERM') {
    return { code: 'no-privilege', message: `configuring ${name} needs CAP_NET_ADMIN (${detail})`, fix: setcapHint() };
  }
  if (e.code === 'EAFNOSUPPORT' || (e.syscall === 'netlink RTM_NEWADDR' && e.code === 'EACCES')) {
    return {
      code: 'ipv6-disabled',
      message: `cannot assign ${what} to ${name}: IPv6 is disabled on this host (${detail})`,
      fix: 'enable IPv6: sysctl -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 ' +
        '(and no ipv6.disable=1 on the kernel command line)',
    };
  }
  return { code: 'config-failed', message: `cannot configure ${name} (address ${what}, MTU ${mtu}): ${detail}`, fix: 'run with --no-tun, and report this' };
}
