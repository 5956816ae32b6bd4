// Runs every benchmark in bench/ (each prints one JSON line per figure), one after the other.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = path.dirname(new URL(import.meta.url).pathname);
for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts') && x !== 'run.ts').sort()) {
  process.stdout.write(execFileSync(process.execPath, [path.join(dir, f), ...process.argv.slice(2)], { encoding: 'utf8' }));
}
