// The options every command that talks to a running node takes, and the group commands (`peers`, `routes`,
// `state` …) hang under. Definitions only: the implementations are loaded when a command runs.
import { Option, type Command } from 'commander';
import type { ClientArgs } from './admin.ts';
import type { CliIo } from './io.ts';

export const CONFIG_OPTION_HELP = 'config file; if given it must exist (default: <data dir>/config.toml, read if present)';

export interface ClientOpts {
  json?: boolean;
  apiAddr?: string;
  apiTokenFile?: string;
  dataDir?: string;
  config?: string;
}

/** The options every command that talks to a running node takes. */
export function clientCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--json', 'print JSON')
    .option('--api-addr <host:port>', "the node's HTTP API (default: api_addr of the node's config, else 127.0.0.1:8989)")
    .option('--api-token-file <path>', 'file with the bearer token the node requires (default: api_token_file of its config)')
    .option('--data-dir <path>', "the node's data dir, whose config.toml is read for the defaults above (default: ~/.hypha, env HYPHA_DATA_DIR)")
    .addOption(new Option('-c, --config <path>', CONFIG_OPTION_HELP))
    .helpOption('-h, --help', 'show help')
    .exitOverride();
}

export function clientArgs(opts: ClientOpts, io: CliIo): ClientArgs {
  return { json: opts.json === true, apiAddr: opts.apiAddr, apiTokenFile: opts.apiTokenFile, dataDir: opts.dataDir, configPath: opts.config, io };
}

export function group(program: Command, name: string, description: string): Command {
  return program.command(name).description(description).helpOption('-h, --help', 'show help').exitOverride();
}
