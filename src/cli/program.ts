// The `hypha` command: `run` (the default: like micelio and mycelium, a bare `hypha` runs the node),
// `inspect`, and the commands that ask a running node through its HTTP API (`peers`, `routes`, `stats`,
// `message`). Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/load.ts';
import { addConfigFlags, readConfigFlags } from './flags.ts';
import { inspectCommand } from './inspect.ts';
import { peersAdd, peersList, peersRemove, routes, statsPackets, type ClientArgs, type RouteTable } from './admin.ts';
import { addMessageCommands } from './message.ts';
import { runCommand } from './run.ts';
import { addStateCommands } from './state.ts';
import { DEFAULT_DEMO_NODES, demoCommand, MAX_DEMO_NODES } from './demo.ts';
import { LOG_LEVELS, type LogLevel } from '../base/log.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout(text: string): void;
  /** Raw bytes to stdout (a message payload); without it they are written as UTF-8 text. */
  stdoutBytes?(bytes: Uint8Array): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CliIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stdoutBytes: (b) => void process.stdout.write(b),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
  };
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

const CONFIG_OPTION_HELP = 'config file; if given it must exist (default: <data dir>/config.toml, read if present)';

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('hypha')
    .description('Peer-to-peer mesh and IPv6 overlay node, wire-compatible with Micelio and Mycelium')
    .version(`hypha ${packageVersion()}`, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError(true)
    .exitOverride();

  const run = program
    .command('run', { isDefault: true })
    .description('run the node (the default command)')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('-c, --config <path>', CONFIG_OPTION_HELP))
    .exitOverride();
  const bindings = addConfigFlags(run);
  run.action(async (opts: { config?: string }) => {
    setExit(await runCommand({ configPath: opts.config, flags: readConfigFlags(run, bindings), io }));
  });

  program
    .command('inspect')
    .description("print a public key's overlay address, or this node's identity when no key is given")
    .argument('[pubkey]', 'X25519 public key, 64 hex characters')
    .option('--json', 'print JSON')
    .option('--data-dir <path>', 'data directory whose identity to show (default: ~/.hypha, env HYPHA_DATA_DIR)')
    .addOption(new Option('-c, --config <path>', CONFIG_OPTION_HELP))
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .action(async (pubkey: string | undefined, opts: { json?: boolean; dataDir?: string; config?: string }) => {
      setExit(await inspectCommand({ pubkey, json: opts.json === true, dataDir: opts.dataDir, configPath: opts.config, io }));
    });

  addClientCommands(program, io, setExit);
  addMessageCommands(program, io, setExit, clientCommand, clientArgs);
  addStateCommands(program, io, setExit);

  program
    .command('demo')
    .description('start a small mesh on loopback in this process, show a message, a chat line and state crossing it, and leave node 1\'s API up until Ctrl-C')
    .option('--nodes <n>', 'how many nodes (2–20)', String(DEFAULT_DEMO_NODES))
    .option('--api-addr <host:port>', "node 1's HTTP API (port 0: a free one; \"\" = off)", '127.0.0.1:0')
    .option('--log-level <level>', "the nodes' log level (debug, info, warn, error)", 'error')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .action(async (opts: { nodes: string; apiAddr: string; logLevel: string }) => {
      if (!LOG_LEVELS.includes(opts.logLevel as LogLevel)) {
        io.stderr(`hypha demo: --log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(opts.logLevel)}\n`);
        setExit(EXIT_USAGE);
        return;
      }
      const nodes = /^\d{1,3}$/.test(opts.nodes) ? Number(opts.nodes) : Number.NaN;
      if (!(nodes >= 2 && nodes <= MAX_DEMO_NODES)) {
        io.stderr(`hypha demo: --nodes must be a whole number from 2 to ${MAX_DEMO_NODES}, got ${JSON.stringify(opts.nodes)}\n`);
        setExit(EXIT_USAGE);
        return;
      }
      setExit(await demoCommand({ nodes, apiAddr: opts.apiAddr, logLevel: opts.logLevel as LogLevel, io }));
    });

  // `hypha --help` shows the node's options too: they are what most people look for.
  program.addHelpText('after', () => `\nOptions of "hypha run" (also accepted without "run"):\n${run.helpInformation().split('\nOptions:\n')[1] ?? ''}`);
  return program;
}

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

function addClientCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const peers = group(program, 'peers', "list a running node's native and Mycelium peers; add and remove Mycelium peers");
  clientCommand(peers, 'list', 'list native and Mycelium peers with their state, the router\'s link cost and traffic')
    .action(async (opts: ClientOpts) => setExit(await peersList(clientArgs(opts, io))));
  clientCommand(peers, 'add', 'add static peers and connect to them')
    .argument('<endpoint...>', 'tcp://IP:PORT or tcp://[IPv6]:PORT (tls://… in a private network)')
    .action(async (endpoints: string[], opts: ClientOpts) => setExit(await peersAdd(clientArgs(opts, io), endpoints)));
  clientCommand(peers, 'remove', 'remove peers and close their links')
    .argument('<endpoint...>', 'as `hypha peers list` shows them, e.g. tcp://192.0.2.1:9651')
    .action(async (endpoints: string[], opts: ClientOpts) => setExit(await peersRemove(clientArgs(opts, io), endpoints)));

  const routeGroup = group(program, 'routes', "show a running node's route tables");
  const tables: [RouteTable, string][] = [
    ['selected', 'the route in use for each known subnet'],
    ['fallback', 'routes known but not selected'],
    ['queried', 'subnets a route request is out for'],
  ];
  for (const [table, description] of tables) {
    clientCommand(routeGroup, table, description).action(async (opts: ClientOpts) => setExit(await routes(table, clientArgs(opts, io))));
  }

  const stats = group(program, 'stats', "show a running node's statistics");
  clientCommand(stats, 'packets', 'packets and bytes routed, by source and destination address')
    .action(async (opts: ClientOpts) => setExit(await statsPackets(clientArgs(opts, io))));
}

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  // With a default command, commander would read an unknown command as an argument to `run`.
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && !program.commands.some((c) => c.name() === first) && first !== 'help') {
    io.stderr(`error: unknown command '${first}' (commands: ${program.commands.map((c) => c.name()).join(', ')}; see hypha --help)\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; everything else is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof ConfigError) {
      io.stderr(`hypha: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`hypha: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILURE;
  }
  return code;
}
