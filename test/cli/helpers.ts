// Running the real `bin/hypha.js` as a child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { runCli, type CliIo } from '../../src/cli/program.ts';

export const HYPHA_BIN = resolve(import.meta.dirname, '../../bin/hypha.js');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for children: no HYPHA_* variables of the developer's shell leak in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HYPHA_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs `hypha args…` to completion (killed after `timeoutMs`, which fails the caller's assertions). */
export function hypha(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [HYPHA_BIN, ...args], { env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

export interface Running {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stderr holds `text`; rejects after `timeoutMs` or if the process exits first. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<Finished>;
}

export function spawnHypha(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [HYPHA_BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters) w();
  });
  const exited = new Promise<Finished>((done) => child.on('close', (code, signal) => {
    for (const w of waiters) w();
    done({ code, signal, stdout, stderr });
  }));
  let isExited = false;
  void exited.then(() => (isExited = true));
  return {
    child,
    stderr: () => stderr,
    exited,
    waitFor: (text, timeoutMs = 60_000) => new Promise<void>((ok, fail) => {
      const check = (): void => {
        if (stderr.includes(text)) finish(ok);
        else if (isExited || child.exitCode !== null) finish(() => fail(new Error(`hypha exited before printing ${JSON.stringify(text)}:\n${stderr}`)));
      };
      const timer = setTimeout(() => finish(() => fail(new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms:\n${stderr}`))), timeoutMs);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    }),
  };
}

/** Runs the CLI in this process with captured output (for help and usage errors: no child needed). */
export async function hyphaInProcess(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env };
  const code = await runCli(args, io);
  return { code, signal: null, stdout, stderr };
}
