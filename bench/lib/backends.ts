// Whole-path data-plane benchmarks measure the same code twice: with the AEAD addon (the default) and with
// node:crypto, the reference. The backend is chosen once per process (src/crypto/aead.ts), so the
// node:crypto run is this same script re-run in a child with HYPHA_NATIVE_CRYPTO=0; the two runs are
// sequential, so they never compete for a core.
import { spawnSync } from 'node:child_process';
import { aeadBackendNote, NATIVE_CRYPTO_ENV } from '../../src/crypto/aead.ts';

const CHILD_ENV = 'HYPHA_BENCH_BACKEND_CHILD';
const RESULT_PREFIX = 'BACKEND_RESULT ';

export const NODE_CRYPTO_REFERENCE = 'node:crypto (createCipheriv per packet), same code path, same run';

export interface BothBackends<T> {
  /** Undefined when the addon is not available here (`note` says why). */
  native: T | undefined;
  node: T;
  note: string | undefined;
}

/**
 * Runs `measure` with the addon in this process and with node:crypto in a child (same argv). In the child,
 * prints the result and exits: the caller's code after this call never runs there.
 */
export async function measureBothBackends<T>(measure: () => T | Promise<T>): Promise<BothBackends<T>> {
  if (process.env[CHILD_ENV] === '1') {
    const r = await measure();
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const note = aeadBackendNote();
  const native = note === undefined ? await measure() : undefined;
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, [CHILD_ENV]: '1', [NATIVE_CRYPTO_ENV]: '0' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (child.status !== 0 || line === undefined) throw new Error(`node:crypto run failed (exit ${child.status})`);
  return { native, node: JSON.parse(line.slice(RESULT_PREFIX.length)) as T, note };
}
