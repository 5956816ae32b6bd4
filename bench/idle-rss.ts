// Resident memory of one idle node process: `bin/hypha.js run` with a fresh temporary data dir (native
// listener and SSH partyline on loopback ports chosen by the kernel), read from /proc/<pid>/status after
// it has logged "node running" and settled. Target: at most 80 MB. Reference: an idle yggdrasil daemon
// (no TUN, no peers, no admin socket) measured the same way in the same run, where it is installed.
//   node bench/idle-rss.ts [--settle-seconds 10]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, round, skip } from './lib/emit.ts';

const BENCH = 'idle-rss';
const HERE = dirname(fileURLToPath(import.meta.url));
const HYPHA_BIN = join(HERE, '..', 'bin', 'hypha.js');
const args = process.argv.slice(2);
const SETTLE_MS = (args.includes('--settle-seconds') ? Number(args[args.indexOf('--settle-seconds') + 1]) : 10) * 1000;
const START_TIMEOUT_MS = 60_000;
/** V8 options measured beside the default: one V8 worker thread, 1 MB semi-spaces. */
const V8_FLAGS = ['--v8-pool-size=1', '--max-semi-space-size=1'];

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts `cmd`, waits for `ready` in its output, lets it settle, returns its RSS (MB), stops it. */
async function measure(cmd: string, argv: string[], ready: RegExp): Promise<{ rssMb: number; peakMb: number }> {
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  try {
    const t0 = performance.now();
    while (!ready.test(out)) {
      if (child.exitCode !== null) throw new Error(`${cmd} exited (${child.exitCode}) before ${ready}:\n${out}`);
      if (performance.now() - t0 > START_TIMEOUT_MS) throw new Error(`${cmd} did not print ${ready} within ${START_TIMEOUT_MS} ms:\n${out}`);
      await pause(100);
    }
    await pause(SETTLE_MS);
    const rss = rssMb(child.pid!);
    const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    return { rssMb: rss, peakMb: peak };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.platform !== 'linux') {
  skip(BENCH, 'hypha_run_rss_mb', `reads /proc, needs Linux (this is ${process.platform})`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'hypha-rss-'));
  try {
    let reference: { name: string; value: number } | undefined;
    if (spawnSync('sh', ['-c', 'command -v yggdrasil']).status === 0) {
      const gen = JSON.parse(spawnSync('yggdrasil', ['-genconf', '-json'], { encoding: 'utf8' }).stdout) as Record<string, unknown>;
      Object.assign(gen, { IfName: 'none', AdminListen: 'none', MulticastInterfaces: [], Listen: [], Peers: [] });
      const conf = join(dir, 'ygg.json');
      writeFileSync(conf, JSON.stringify(gen));
      const y = await measure('yggdrasil', ['-useconffile', conf, '-logto', 'stdout'], /Your IPv6 address/);
      reference = { name: 'yggdrasil idle (no TUN, no peers)', value: round(y.rssMb, 1) };
    } else {
      skip(BENCH, 'yggdrasil_rss_mb', 'yggdrasil not installed (apt-get install yggdrasil): no reference');
    }
    // Every part a default node runs, on ports the kernel picks (the machine is shared): native listener,
    // SSH partyline, Mycelium listener, HTTP API, JSON-RPC, state, message bus, the overlay. No TUN device
    // (it would be created in the host's namespace; the device itself costs the process no memory to speak
    // of) and no link-local discovery (no peers to find).
    const runArgs = (d: string) => [HYPHA_BIN, 'run', '--data-dir', join(dir, d), '--listen', '127.0.0.1:0', '--ssh-listen', '127.0.0.1:0', '-t', '0', '--api-addr', '127.0.0.1:0', '--jsonrpc-addr', '127.0.0.1:0', '--no-tun', '--disable-peer-discovery'];
    // The floor: Node 24 itself, with type stripping (which loads a WebAssembly TypeScript stripper).
    const floorTs = join(dir, 'idle.ts');
    writeFileSync(floorTs, "const x: number = 1;\nsetInterval(() => x, 1 << 30);\nconsole.log('ready');\n");
    const floor = await measure(process.execPath, [floorTs], /ready/);
    const floorJs = join(dir, 'idle.mjs');
    writeFileSync(floorJs, "setInterval(() => 0, 1 << 30);\nconsole.log('ready');\n");
    const floorPlain = await measure(process.execPath, [floorJs], /ready/);
    const tuned = await measure(process.execPath, [...V8_FLAGS, ...runArgs('hypha-tuned')], /node running/);
    const r = await measure(process.execPath, runArgs('hypha'), /node running/);
    emit({
      bench: BENCH,
      figure: 'hypha_run_rss_mb',
      value: r.rssMb,
      unit: 'MB',
      what: `resident memory of one idle \`hypha run\` process (fresh data dir; native and Mycelium listeners, SSH partyline, HTTP API and JSON-RPC on kernel-chosen ports; state, message bus and overlay running; --no-tun, no peers) ${SETTLE_MS / 1000} s after "node running"`,
      target: { op: '<=', value: 80 },
      ...(reference ? { reference } : {}),
      extra: { peakMb: round(r.peakMb, 1), node: process.version, nodeTsFloorMb: round(floor.rssMb, 1), nodeJsFloorMb: round(floorPlain.rssMb, 1) },
    });
    emit({
      bench: BENCH,
      figure: 'hypha_run_rss_mb_v8_flags',
      value: tuned.rssMb,
      unit: 'MB',
      what: `the same idle \`hypha run\` started as \`node ${V8_FLAGS.join(' ')} bin/hypha.js run\` (fewer V8 worker threads, 1 MB young-generation semi-spaces)`,
      target: { op: '<=', value: 80 },
      extra: { peakMb: round(tuned.peakMb, 1) },
    });
    emit({
      bench: BENCH,
      figure: 'node_ts_floor_rss_mb',
      value: floor.rssMb,
      unit: 'MB',
      what: 'what limits it: an idle Node process running a one-line .ts file (Node itself plus its WebAssembly type stripper), no Hypha code',
      reference: { name: 'idle Node on a .mjs file (no type stripping)', value: round(floorPlain.rssMb, 1) },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
