// Builds the TUN addon (native/build/hypha_tun.node) with the system C compiler, straight from
// hypha_tun.c: no node-gyp, no download. It runs from `npm ci` (postinstall) and before `npm test`.
// It never fails the install: without a compiler or Node's headers it says why and exits 0, and the node
// runs without TUN (as with --no-tun) and says so. Plain JavaScript so any Node can run it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const source = join(here, 'hypha_tun.c');
const outDir = join(root, 'native', 'build');
const output = join(outDir, 'hypha_tun.node');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');

function say(msg) {
  if (!quiet) console.error(`[hypha tun addon] ${msg}`);
}

/** Directories that may hold node_api.h, most specific first. */
function headerCandidates() {
  const out = [];
  if (process.env.HYPHA_NODE_HEADERS) out.push(process.env.HYPHA_NODE_HEADERS);
  // The pinned `node` npm package ships its platform package with the headers.
  const pinned = join(root, 'node_modules', 'node', 'node_modules');
  if (existsSync(pinned)) {
    for (const d of readdirSync(pinned)) if (d.startsWith('node-')) out.push(join(pinned, d, 'include', 'node'));
  }
  for (const base of [join(root, 'node_modules'), join(root, '..')]) {
    out.push(join(base, 'node-api-headers', 'include'));
  }
  // A regular Node installation: <prefix>/bin/node and <prefix>/include/node.
  out.push(resolve(dirname(process.execPath), '..', 'include', 'node'));
  out.push('/usr/include/node', '/usr/local/include/node');
  return out;
}

function findCompiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    const r = spawnSync(cc, ['--version'], { stdio: 'ignore' });
    if (r.status === 0) return cc;
  }
  return undefined;
}

function main() {
  if (process.platform !== 'linux') {
    say(`skipped: TUN support is Linux-only (this is ${process.platform}); the node will run without TUN.`);
    return;
  }
  if (!force && existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return;
  const headers = headerCandidates().find((d) => existsSync(join(d, 'node_api.h')));
  if (headers === undefined) {
    say('NOT BUILT: no node_api.h found (looked in node_modules/node, node-api-headers, next to the Node binary, ' +
      '/usr/include/node). Set HYPHA_NODE_HEADERS to a directory that has it. The node will run without TUN.');
    return;
  }
  const cc = findCompiler();
  if (cc === undefined) {
    say('NOT BUILT: no C compiler (install gcc, e.g. `apt-get install gcc`, then `npm run build:native`). ' +
      'The node will run without TUN.');
    return;
  }
  mkdirSync(outDir, { recursive: true });
  const tmp = `${output}.${process.pid}.tmp`;
  const args = ['-O2', '-std=gnu11', '-fPIC', '-shared', '-pthread', '-Wall', '-Wextra', '-Werror=implicit-function-declaration',
    '-fvisibility=hidden', `-I${headers}`, '-o', tmp, source];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    say(`NOT BUILT: ${cc} failed (exit ${r.status}):\n${r.stderr || r.error}\nThe node will run without TUN.`);
    return;
  }
  if (r.stderr.trim() !== '') say(`compiler warnings:\n${r.stderr}`);
  // Rename into place, so a process loading the addon never sees a half-written file.
  renameSync(tmp, output);
  say(`built ${output}`);
}

try {
  main();
} catch (e) {
  say(`NOT BUILT: ${e instanceof Error ? e.message : String(e)}. The node will run without TUN.`);
}
