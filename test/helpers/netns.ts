// Network-namespace harness for tests and benchmarks (root only).
//
//   const why = await netnsSkipReason(); if (why) return t.skip(why);
//   const lab = await NetnsLab.create(2, t);          // two fresh namespaces, cleaned up after the test
//   const link = await lab.connect(lab.ns(0), lab.ns(1));
//   await lab.ns(0).run('ping', ['-c1', link.b.ipv4]);
//   await link.down(); ...; await link.up();
//   const p = lab.ns(1).spawn(process.execPath, ['server.ts']); await p.waitForOutput(/listening/);
//   await lab.ns(1).waitForTcpListen(5201);           // for tools that buffer their output (iperf3)
//
// Namespaces are named hypha-<pid>-<lab>-<i>, so parallel test files never collide, and namespaces left
// behind by a killed run are swept the next time a lab is created. Everything a lab made is removed by
// destroy(), which runs after the test (t.after) and, failing that, when the process exits.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Anything with node:test's `after` (TestContext, SuiteContext). */
export interface AfterHook {
  after(fn: () => unknown): void;
}

const NS_PREFIX = 'hypha-';
const DEFAULT_WAIT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
/** Output kept per process, so a chatty one cannot grow without bound. */
const MAX_OUTPUT_CHARS = 1_000_000;

let labCounter = 0;
let swept = false;
let cachedSkip: Promise<string | undefined> | undefined;
let cachedNetem: Promise<string | undefined> | undefined;

/** Runs a command in the current namespace; never rejects on a non-zero exit. */
export function execCommand(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout, stderr: stderr + String(e) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

async function mustRun(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await execCommand(cmd, args, { input });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

async function hasCommand(cmd: string): Promise<boolean> {
  const r = await execCommand('sh', ['-c', `command -v ${cmd}`]);
  return r.code === 0;
}

/**
 * Why namespace tests cannot run here (not root, no `ip`, namespaces refused), or undefined if they can.
 * Extra tools to require can be named: netnsSkipReason(['ping', 'iperf3']).
 */
export async function netnsSkipReason(tools: readonly string[] = []): Promise<string | undefined> {
  cachedSkip ??= (async () => {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'needs root for ip netns (run the tests as root)';
    if (!(await hasCommand('ip'))) return 'needs `ip` from iproute2 (apt-get install iproute2)';
    const probe = `${NS_PREFIX}${process.pid}-probe`;
    const r = await execCommand('ip', ['netns', 'add', probe]);
    await execCommand('ip', ['netns', 'del', probe]);
    if (r.code !== 0) return `cannot create a network namespace here: ${r.stderr.trim()}`;
    return undefined;
  })();
  const base = await cachedSkip;
  if (base !== undefined) return base;
  for (const tool of tools) {
    if (!(await hasCommand(tool))) return `needs \`${tool}\` (apt-get install ${debianPackageOf(tool)})`;
  }
  return undefined;
}

function debianPackageOf(tool: string): string {
  return ({ ping: 'iputils-ping', ip: 'iproute2', tc: 'iproute2', ss: 'iproute2', capsh: 'libcap2-bin', setpriv: 'util-linux' } as Record<string, string>)[tool] ?? tool;
}

/** Why `tc netem` cannot be used (the kernel lacks sch_netem, for example), or undefined. */
export async function netemSkipReason(): Promise<string | undefined> {
  const base = await netnsSkipReason(['tc']);
  if (base !== undefined) return base;
  cachedNetem ??= (async () => {
    const ns = `${NS_PREFIX}${process.pid}-netem`;
    await execCommand('ip', ['netns', 'add', ns]);
    const r = await execCommand('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    await execCommand('ip', ['netns', 'del', ns]);
    return r.code === 0 ? undefined : `tc netem is not available (the kernel lacks sch_netem?): ${r.stderr.trim()}`;
  })();
  return cachedNetem;
}

/** Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = DEFAULT_WAIT_MS, intervalMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A long-running process inside a namespace, with its output collected. */
export class NetnsProcess {
  readonly child: ChildProcess;
  readonly description: string;
  stdout = '';
  stderr = '';
  /** Set once the process has exited. */
  result: ExecResult | undefined;
  readonly exited: Promise<ExecResult>;
  private readonly listeners = new Set<() => void>();

  constructor(child: ChildProcess, description: string) {
    this.child = child;
    this.description = description;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout = (this.stdout + d).slice(-MAX_OUTPUT_CHARS);
      this.notify();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-MAX_OUTPUT_CHARS);
      this.notify();
    });
    child.stdin?.on('error', () => {});
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.result !== undefined) return;
        this.result = { code, signal, stdout: this.stdout, stderr: this.stderr };
        this.notify();
        resolve(this.result);
      };
      child.on('close', done);
      child.on('error', (e) => {
        this.stderr += String(e);
        done(127, null);
      });
    });
  }

  /** stdout and stderr together (stderr after stdout). */
  get output(): string {
    return this.stdout + this.stderr;
  }

  get running(): boolean {
    return this.result === undefined;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /**
   * Resolves with the first match of `pattern` in the output (searched from `from`, a character offset into
   * `output`); rejects on timeout or if the process exits first, quoting the output's tail.
   */
  waitForOutput(pattern: string | RegExp, timeoutMs = DEFAULT_WAIT_MS, from = 0): Promise<RegExpMatchArray> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.output.slice(from).match(re);
        if (m !== null) {
          finish();
          resolve(m);
        } else if (this.result !== undefined) {
          finish();
          reject(new Error(`${this.description} exited (code ${this.result.code}, signal ${this.result.signal}) before printing ${re}; output:\n${tail(this.output)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${this.description}; output:\n${tail(this.output)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Writes to the process's stdin. */
  send(text: string): void {
    this.child.stdin?.write(text);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = STOP_GRACE_MS): Promise<ExecResult> {
    if (this.result !== undefined) return this.result;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

function tail(s: string, chars = 4000): string {
  return s.length <= chars ? s : `…${s.slice(-chars)}`;
}

/** One network namespace of a lab. */
export class Netns {
  readonly name: string;
  readonly index: number;
  private readonly lab: NetnsLab;

  constructor(lab: NetnsLab, name: string, index: number) {
    this.lab = lab;
    this.name = name;
    this.index = index;
  }

  /** Runs a command inside the namespace to completion; never rejects on a non-zero exit. */
  exec(cmd: string, args: readonly string[] = [], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
    return execCommand('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  /** Like exec, but rejects (with stderr) unless the command exits 0; resolves with stdout. */
  async run(cmd: string, args: readonly string[] = [], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(cmd, args, opts);
    if (r.code !== 0) {
      throw new Error(`[${this.name}] ${cmd} ${args.join(' ')} failed (exit ${r.code}, signal ${r.signal}): ${(r.stderr + r.stdout).trim()}`);
    }
    return r.stdout;
  }

  /** Starts a long-running process inside the namespace; the lab stops it at cleanup. */
  spawn(cmd: string, args: readonly string[] = [], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): NetnsProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const p = new NetnsProcess(child, `[${this.name}] ${cmd} ${args.join(' ')}`);
    this.lab.track(p);
    return p;
  }

  /**
   * Waits until something in the namespace listens on TCP `port` (polling `ss`): the dependable signal
   * that a server is up, since many tools block-buffer their "listening" line when stdout is a pipe.
   */
  async waitForTcpListen(port: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await waitFor(`a TCP listener on port ${port} in ${this.name}`, async () => {
      const r = await this.exec('ss', ['-H', '-l', '-t', '-n', `sport = :${port}`]);
      return r.code === 0 && r.stdout.trim() !== '';
    }, timeoutMs);
  }

  /** Sets a sysctl inside the namespace, e.g. sysctl('net.ipv6.conf.all.forwarding', '1'). */
  async sysctl(key: string, value: string): Promise<void> {
    await this.run('sysctl', ['-q', '-w', `${key}=${value}`]);
  }
}

export interface VethEnd {
  ns: Netns;
  ifname: string;
  /** Address without prefix length, e.g. "10.99.0.1" (the link is a /24). */
  ipv4: string;
  /** Address without prefix length in RFC 5952 form, e.g. "fd99::1" or "fd99:0:0:1::2" (a /64). */
  ipv6: string;
}

export interface NetemOptions {
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
}

/** A veth pair between two namespaces. */
export class VethLink {
  readonly a: VethEnd;
  readonly b: VethEnd;

  constructor(a: VethEnd, b: VethEnd) {
    this.a = a;
    this.b = b;
  }

  /** Takes both ends down: the link is cut, as if unplugged. */
  async down(): Promise<void> {
    await this.setState('down');
  }

  /** Brings both ends back up (IPv6 addresses were added with nodad, so they work at once). */
  async up(): Promise<void> {
    await this.setState('up');
  }

  private async setState(state: 'up' | 'down'): Promise<void> {
    await mustRun('ip', ['-n', this.a.ns.name, 'link', 'set', this.a.ifname, state]);
    await mustRun('ip', ['-n', this.b.ns.name, 'link', 'set', this.b.ifname, state]);
  }

  /** Applies delay/jitter/loss on both directions; throws if the kernel has no netem (see netemSkipReason). */
  async setNetem(opts: NetemOptions): Promise<void> {
    const args: string[] = [];
    if (opts.delayMs !== undefined) args.push('delay', `${opts.delayMs}ms`, ...(opts.jitterMs !== undefined ? [`${opts.jitterMs}ms`] : []));
    if (opts.lossPercent !== undefined) args.push('loss', `${opts.lossPercent}%`);
    for (const end of [this.a, this.b]) {
      await end.ns.run('tc', ['qdisc', 'replace', 'dev', end.ifname, 'root', 'netem', ...args]);
    }
  }

  async clearNetem(): Promise<void> {
    for (const end of [this.a, this.b]) await end.ns.exec('tc', ['qdisc', 'del', 'dev', end.ifname, 'root']);
  }
}

/** A set of namespaces plus the links and processes made in them; destroy() removes them all. */
export class NetnsLab {
  readonly namespaces: Netns[] = [];
  readonly links: VethLink[] = [];
  private readonly processes = new Set<NetnsProcess>();
  private destroyed = false;
  private readonly onExit = (): void => this.destroySync();

  private constructor() {}

  /**
   * Creates `count` namespaces with loopback up and keep_addr_on_down set. Pass the test context to have everything removed after
   * the test, pass or fail; without one, call destroy() (process exit is the last resort).
   */
  static async create(count: number, t?: AfterHook): Promise<NetnsLab> {
    const why = await netnsSkipReason();
    if (why !== undefined) throw new Error(`network namespaces unavailable: ${why}`);
    if (!swept) {
      swept = true;
      await sweepStale();
    }
    const lab = new NetnsLab();
    process.on('exit', lab.onExit);
    t?.after(() => lab.destroy());
    const id = labCounter++;
    try {
      for (let i = 0; i < count; i++) {
        const name = `${NS_PREFIX}${process.pid}-${id}-${i}`;
        await mustRun('ip', ['netns', 'add', name]);
        lab.namespaces.push(new Netns(lab, name, i));
        // keep_addr_on_down: a link taken down and up again keeps its IPv6 addresses, as a cable pulled and
        // replugged would (by default Linux deletes them on admin down).
        await mustRun('ip', ['netns', 'exec', name, 'sh', '-c',
          'ip link set lo up && sysctl -q -w net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1']);
      }
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  ns(i: number): Netns {
    const n = this.namespaces[i];
    if (n === undefined) throw new RangeError(`lab has ${this.namespaces.length} namespaces, no index ${i}`);
    return n;
  }

  /** @internal Netns.spawn registers its processes here so destroy() can stop them. */
  track(p: NetnsProcess): void {
    this.processes.add(p);
    void p.exited.then(() => this.processes.delete(p));
  }

  /**
   * Connects two namespaces with a veth pair named `to<peer index>` on each side (with a suffix when the
   * pair is connected twice), addresses 10.99.<k>.1|2/24 and fd99:0:0:<k>::1|2/64 (nodad), both up.
   */
  async connect(a: Netns, b: Netns): Promise<VethLink> {
    const k = this.links.length;
    if (k > 255) throw new RangeError('a lab supports at most 256 links');
    const dup = this.links.filter((l) => (l.a.ns === a && l.b.ns === b) || (l.a.ns === b && l.b.ns === a)).length;
    const suffix = dup === 0 ? '' : `-${dup}`;
    const net6 = k === 0 ? 'fd99:' : `fd99:0:0:${k.toString(16)}:`;
    const endA: VethEnd = { ns: a, ifname: `to${b.index}${suffix}`, ipv4: `10.99.${k}.1`, ipv6: `${net6}:1` };
    const endB: VethEnd = { ns: b, ifname: `to${a.index}${suffix}`, ipv4: `10.99.${k}.2`, ipv6: `${net6}:2` };
    await mustRun('ip', ['link', 'add', endA.ifname, 'netns', a.name, 'type', 'veth', 'peer', 'name', endB.ifname, 'netns', b.name]);
    for (const end of [endA, endB]) {
      await mustRun('ip', ['-n', end.ns.name, '-batch', '-'],
        `addr add ${end.ipv4}/24 dev ${end.ifname}\n` +
        `addr add ${end.ipv6}/64 dev ${end.ifname} nodad\n` +
        `link set ${end.ifname} up\n`);
    }
    const link = new VethLink(endA, endB);
    this.links.push(link);
    return link;
  }

  /** Stops every process started in the lab and deletes its namespaces (and with them the veths). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    await Promise.all([...this.processes].map((p) => p.stop()));
    for (const ns of this.namespaces) {
      await killNamespacePids(ns.name);
      await execCommand('ip', ['netns', 'del', ns.name]);
    }
  }

  /** Last resort when the process exits without destroy(): synchronous, best effort. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const p of this.processes) p.child.kill('SIGKILL');
    for (const ns of this.namespaces) {
      try {
        for (const pid of execFileSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean)) {
          process.kill(Number(pid), 'SIGKILL');
        }
      } catch {
        // already gone
      }
      try {
        execFileSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}

/** Any process still inside the namespace was started by the lab (or by one of its processes): end it. */
async function killNamespacePids(ns: string): Promise<void> {
  const r = await execCommand('ip', ['netns', 'pids', ns]);
  for (const pid of r.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

/** Deletes namespaces left by labs of processes that no longer exist (a run killed with SIGKILL). */
async function sweepStale(): Promise<void> {
  const r = await execCommand('ip', ['netns', 'list']);
  for (const line of r.stdout.split('\n')) {
    const m = /^(hypha-(\d+)-\S+)/.exec(line.trim());
    if (m === null || Number(m[2]) === process.pid || pidAlive(Number(m[2]))) continue;
    await killNamespacePids(m[1]);
    await execCommand('ip', ['netns', 'del', m[1]]);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
