// `hypha inspect [--json] [PUBKEY]`: with an X25519 public key, its overlay address (as Mycelium's
// `inspect` prints it); without one, this node's identity from the data dir.
import { toHex } from '../base/bytes.ts';
import { overlayAddressText } from '../identity/address.ts';
import type { CliIo } from './io.ts';

const PUBLIC_KEY_HEX_CHARS = 64;

/** The 32 bytes of a hex public key, or what is wrong with the text. */
export function parsePublicKeyHex(text: string): { ok: true; key: Uint8Array } | { ok: false; error: string } {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  const bad = text.search(/[^0-9a-fA-F]/);
  if (bad >= 0) {
    const ch = String.fromCodePoint(text.codePointAt(bad) ?? 0);
    return { ok: false, error: `invalid public key ${shown}: ${JSON.stringify(ch)} at position ${bad + 1} is not a hex digit (expected ${PUBLIC_KEY_HEX_CHARS} hex characters)` };
  }
  if (text.length !== PUBLIC_KEY_HEX_CHARS) {
    return { ok: false, error: `invalid public key ${shown}: it has ${text.length} hex characters, expected ${PUBLIC_KEY_HEX_CHARS} (32 bytes)` };
  }
  return { ok: true, key: new Uint8Array(Buffer.from(text, 'hex')) };
}

function print(io: CliIo, json: boolean, fields: [label: string, key: string, value: string][]): void {
  if (json) io.stdout(`${JSON.stringify(Object.fromEntries(fields.map(([, k, v]) => [k, v])), null, 2)}\n`);
  else io.stdout(fields.map(([label, , v]) => `${label}: ${v}\n`).join(''));
}

export interface InspectArgs {
  pubkey: string | undefined;
  json: boolean;
  dataDir: string | undefined;
  configPath: string | undefined;
  io: CliIo;
}

export async function inspectCommand(args: InspectArgs): Promise<number> {
  const { io, json } = args;
  if (args.pubkey !== undefined) {
    const parsed = parsePublicKeyHex(args.pubkey);
    if (!parsed.ok) {
      io.stderr(`hypha inspect: ${parsed.error}\n`);
      return 2;
    }
    print(io, json, [
      ['Public key', 'publicKey', toHex(parsed.key)],
      ['Address', 'address', overlayAddressText(parsed.key)],
    ]);
    return 0;
  }
  // Only this path reads files: the config loader and the identity files are not loaded for a bare key.
  const { ConfigError, loadConfig } = await import('../config/load.ts');
  const { IdentityFileError, loadIdentity } = await import('../identity/files.ts');
  let dataDir: string;
  try {
    const flags = args.dataDir === undefined ? {} : { 'node.data_dir': args.dataDir };
    dataDir = (await loadConfig({ configPath: args.configPath, flags, env: io.env })).config.node.data_dir;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr(`hypha inspect: ${e.message}\n`);
    return 2;
  }
  try {
    const id = await loadIdentity(dataDir);
    print(io, json, [
      ['Public key', 'publicKey', toHex(id.x25519Public)],
      ['Address', 'address', id.addressText],
      ['Node id', 'nodeId', id.nodeId],
      ['Ed25519 public key', 'ed25519PublicKey', toHex(id.ed25519Public)],
    ]);
    return 0;
  } catch (e) {
    if (!(e instanceof IdentityFileError)) throw e;
    io.stderr(`hypha inspect: ${e.message}\n`);
    return 1;
  }
}
