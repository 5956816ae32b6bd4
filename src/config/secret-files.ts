// The files some keys name: the private network's key (network_key_file) and the API's bearer token
// (api_token_file). `hypha run` checks them with the rest of the configuration (a bad one is a config error,
// exit 2, naming the key); the parts that use them read them again at start.
import { readFile } from 'node:fs/promises';
import { err, ok, type Result } from '../base/result.ts';
import { ConfigError, type ConfigIssue } from './load.ts';
import { isPrivateNetwork, type Config } from './schema.ts';

export const NETWORK_KEY_FILE_BYTES = 32;
/** A token is a line of text; anything longer than this is not one. */
export const MAX_API_TOKEN_CHARS = 1024;
const MAX_TOKEN_FILE_BYTES = 4096;

function readError(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}

/**
 * The 32 raw bytes of a network key file. Exactly 32: Mycelium takes the first 32 bytes of a longer file,
 * which turns a hex key or a trailing newline into a wrong key silently.
 */
export async function readNetworkKeyFile(path: string): Promise<Result<Uint8Array>> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    return err('unreadable', `${path}: cannot read the network key file: ${readError(e)}`);
  }
  if (buf.length !== NETWORK_KEY_FILE_BYTES) {
    const hex = /^[0-9a-fA-F]{64}\s*$/.test(buf.toString('latin1'));
    const hint = hex
      ? ' (this looks like a hex key: convert it with `xxd -r -p key.hex > network.key`)'
      : ' (create one with `head -c 32 /dev/urandom > network.key` and give every node of the network the same file)';
    return err('bad-size', `${path}: is ${buf.length} bytes; a network key file holds exactly ${NETWORK_KEY_FILE_BYTES} raw bytes${hint}`);
  }
  return ok(new Uint8Array(buf));
}

/** The bearer token in an API token file: its text without surrounding whitespace, printable ASCII without spaces. */
export async function readApiTokenFile(path: string): Promise<Result<string>> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    return err('unreadable', `${path}: cannot read the API token file: ${readError(e)}`);
  }
  if (buf.length > MAX_TOKEN_FILE_BYTES) return err('too-long', `${path}: ${buf.length} bytes is far too long for an API token (at most ${MAX_API_TOKEN_CHARS} characters)`);
  const token = buf.toString('utf8').trim();
  if (token === '') return err('empty', `${path}: the API token file is empty (create one with \`head -c 24 /dev/urandom | base64 > api.token\`)`);
  if (token.length > MAX_API_TOKEN_CHARS) return err('too-long', `${path}: the token is ${token.length} characters, at most ${MAX_API_TOKEN_CHARS}`);
  if (!/^[\x21-\x7e]+$/.test(token)) return err('bad-token', `${path}: the token must be one word of printable ASCII (it goes into an HTTP header)`);
  return ok(token);
}

/** Checks the files the configuration names; throws one ConfigError listing every problem. */
export async function checkConfigFiles(config: Config, file?: string): Promise<void> {
  const issues: ConfigIssue[] = [];
  if (isPrivateNetwork(config)) {
    const r = await readNetworkKeyFile(config.network_key_file);
    if (!r.ok) issues.push({ path: 'network_key_file', message: r.error.message });
  }
  if (config.api_token_file !== '') {
    const r = await readApiTokenFile(config.api_token_file);
    if (!r.ok) issues.push({ path: 'api_token_file', message: r.error.message });
  }
  if (issues.length > 0) throw new ConfigError(issues, file);
}
