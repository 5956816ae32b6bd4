// One process per data dir. Two nodes on the same data dir would share one identity — two peers with one
// node id, each rejecting the other's connections as duplicates — and LMDB would happily let them. (Micelio's
// bbolt takes a file lock and the second process hangs forever; here it fails at once, naming the other.)
// The lock is <data_dir>/hypha.pid, created exclusively; a pid file whose process is gone is stale and taken over.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE_NAME = 'hypha.pid';
/** Lock files this process holds, so a second node in the same process is refused too. */
const heldHere = new Set<string>();

export class DataDirLockedError extends Error {
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(`another hypha process (pid ${pid}) is using the data dir ${dataDir}; stop it, or give this node its own --data-dir`);
    this.name = 'DataDirLockedError';
    this.pid = pid;
  }
}

function alive(pid: number, path: string): boolean {
  // Our own pid but not our lock: a stale file, e.g. pid 1 again after a container restart.
  if (pid === process.pid) return heldHere.has(path);
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
  // A live pid may be an unrelated process that reused the number; on Linux, check it is a Node process.
  try {
    return /node|hypha/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      heldHere.add(path);
      let released = false;
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          heldHere.delete(path);
          await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && alive(pid, path)) throw new DataDirLockedError(dataDir, pid);
    await rm(path, { force: true });
  }
  throw new Error(`cannot take the lock ${path}: it keeps reappearing`);
}
