// The `hypha` command: `run` (the default: like micelio and mycelium, a bare `hypha` runs the node),
// `inspect`, and the commands that ask a running node through its HTTP API (`peers`, `routes`, `stats`,
// `message`). Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration.
//
// Only the command definitions are imported here; each command's implementation is imported when it runs,
// so `hypha inspect KEY`, `--help` and the client commands start without loading the node (fastify, lmdb,
// ssh2, the overlay …).
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type * as Admin from './admin.ts';
import type { RouteTable } from './admin.ts';
import { clientArgs, clientCommand, CONFIG_OPTION_HELP, group, type ClientOpts } from './client-command.ts';
import { addDemoCommand } from './demo-command.ts';
import { addConfigFlags, readConfigFlags } from './flags.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processIo, type CliIo } from './io.ts';
import { addMessageCommands } from './message-command.ts';
import { addStateCommands } from './state-command.ts';

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processIo, type CliIo };

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

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
    const { runCommand } = await import('./run.ts');
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
      const { inspectCommand } = await import('./inspect.ts');
      setExit(await inspectCommand({ pubkey, json: opts.json === true, dataDir: opts.dataDir, configPath: opts.config, io }));
    });

  addClientCommands(program, io, setExit);
  addMessageCommands(program, io, setExit);
  addStateCommands(program, io, setExit);
  addDemoCommand(program, io, setExit);

  // `hypha --help` shows the node's options too: they are what most people look for.
  program.addHelpText('after', () => `\nOptions of "hypha run" (also accepted without "run"):\n${run.helpInformation().split('\nOptions:\n')[1] ?? ''}`);
  return program;
}

/** The implementations of the client commands, loaded when one runs. */
const admin = (): Promise<typeof Admin> => import('./admin.ts');

function addClientCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const peers = group(program, 'peers', "list a running node's native and Mycelium peers; add and remove Mycelium peers");
  clientCommand(peers, 'list', 'list native and Mycelium peers with their state, the router\'s link cost and traffic')
    .action(async (opts: ClientOpts) => setExit(await (await admin()).peersList(clientArgs(opts, io))));
  clientCommand(peers, 'add', 'add static peers and connect to them')
    .argument('<endpoint...>', 'tcp://IP:PORT or tcp://[IPv6]:PORT (tls://… in a private network)')
    .action(async (endpoints: string[], opts: ClientOpts) => setExit(await (await admin()).peersAdd(clientArgs(opts, io), endpoints)));
  clientCommand(peers, 'remove', 'remove peers and close their links')
    .argument('<endpoint...>', 'as `hypha peers list` shows them, e.g. tcp://192.0.2.1:9651')
    .action(async (endpoints: string[], opts: ClientOpts) => setExit(await (await admin()).peersRemove(clientArgs(opts, io), endpoints)));

  const routeGroup = group(program, 'routes', "show a running node's route tables");
  const tables: [RouteTable, string][] = [
    ['selected', 'the route in use for each known subnet'],
    ['fallback', 'routes known but not selected'],
    ['queried', 'subnets a route request is out for'],
  ];
  for (const [table, description] of tables) {
    clientCommand(routeGroup, table, description).action(async (opts: ClientOpts) => setExit(await (await admin()).routes(table, clientArgs(opts, io))));
  }

  const stats = group(program, 'stats', "show a running node's statistics");
  clientCommand(stats, 'packets', 'packets and bytes routed, by source and destination address')
    .action(async (opts: ClientOpts) => setExit(await (await admin()).statsPackets(clientArgs(opts, io))));
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
    // Thrown only once the config loader ran, so importing it here costs nothing more.
    const { ConfigError } = await import('../config/load.ts');
    if (e instanceof ConfigError) {
      io.stderr(`hypha: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`hypha: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILURE;
  }
  return code;
}
