// Builds Hypha's two addons with the system C compiler, straight from their one C file each: no node-gyp,
// no download. It runs from `npm ci` (postinstall) and before `npm test`.
//   native/build/hypha_tun.node     (native/tun/hypha_tun.c): the TUN device;
//   native/build/hypha_crypto.node  (native/crypto/hypha_crypto.c): AEAD through the OpenSSL Node exports.
// It never fails the install: without a compiler or Node's headers it says why and exits 0; the node then
// runs without TUN (as with --no-tun) or with node:crypto's slower per-packet ciphers, and says so. Plain
// JavaScript so any Node can run it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const outDir = join(root, 'native', 'build');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');

/**
 * `needs`: a header that must sit under the Node include directory. `without`: what the node does when the
 * addon is missing. The crypto addon binds every symbol at load (-z now), so a Node without the OpenSSL
 * symbols fails the require (and the node falls back) instead of crashing at the first packet.
 */
const ADDONS = [
  { name: 'tun', source: join(here, 'tun', 'hypha_tun.c'), output: join(outDir, 'hypha_tun.node'), needs: 'node_api.h', flags: [],
    without: 'The node will run without TUN.' },
  { name: 'crypto', source: join(here, 'crypto', 'hypha_crypto.c'), output: join(outDir, 'hypha_crypto.node'), needs: join('openssl', 'evp.h'),
    flags: ['-Wl,-z,now'], without: 'The node will use node:crypto for every packet (correct, but several times slower).' },
];

let current = 'tun';
function say(msg) {
  if (!quiet) console.error(`[hypha ${current} addon] ${msg}`);
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

function build({ source, output, needs, flags, without }) {
  if (process.platform !== 'linux') {
    say(`skipped: Hypha's addons are built on Linux only (this is ${process.platform}). ${without}`);
    return;
  }
  if (!force && existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return;
  const headers = headerCandidates().find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, needs)));
  if (headers === undefined) {
    say(`NOT BUILT: no Node include directory with ${needs} found (looked in node_modules/node, node-api-headers, ` +
      `next to the Node binary, /usr/include/node). Set HYPHA_NODE_HEADERS to a directory that has it. ${without}`);
    return;
  }
  const cc = findCompiler();
  if (cc === undefined) {
    say(`NOT BUILT: no C compiler (install gcc, e.g. \`apt-get install gcc\`, then \`npm run build:native\`). ${without}`);
    return;
  }
  mkdirSync(outDir, { recursive: true });
  const tmp = `${output}.${process.pid}.tmp`;
  const args = ['-O2', '-std=gnu11', '-fPIC', '-shared', '-pthread', '-Wall', '-Wextra', '-Werror=implicit-function-declaration',
    '-fvisibility=hidden', ...flags, `-I${headers}`, '-o', tmp, source];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    say(`NOT BUILT: ${cc} failed (exit ${r.status}):\n${r.stderr || r.error}\n${without}`);
    return;
  }
  if (r.stderr.trim() !== '') say(`compiler warnings:\n${r.stderr}`);
  // Rename into place, so a process loading the addon never sees a half-written file.
  renameSync(tmp, output);
  say(`built ${output}`);
}

for (const addon of ADDONS) {
  current = addon.name;
  try {
    build(addon);
  } catch (e) {
    say(`NOT BUILT: ${e instanceof Error ? e.message : String(e)}. ${addon.without}`);
  }
}
