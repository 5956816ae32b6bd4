// The definition of `hypha demo` (flags, help, their checks); demo.ts, which starts the nodes, is loaded only
// when the demo runs.
import type { Command } from 'commander';
import type { LogLevel } from '../base/log.ts';
import { EXIT_USAGE, type CliIo } from './io.ts';

export const DEFAULT_DEMO_NODES = 3;
export const MAX_DEMO_NODES = 20;

export function addDemoCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description('start a small mesh on loopback in this process, show a message, a chat line and state crossing it, and leave node 1\'s API up until Ctrl-C')
    .option('--nodes <n>', `how many nodes (2–${MAX_DEMO_NODES})`, String(DEFAULT_DEMO_NODES))
    .option('--api-addr <host:port>', "node 1's HTTP API (port 0: a free one; \"\" = off)", '127.0.0.1:0')
    .option('--log-level <level>', "the nodes' log level (debug, info, warn, error)", 'error')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .action(async (opts: { nodes: string; apiAddr: string; logLevel: string }) => {
      const { LOG_LEVELS } = await import('../base/log.ts');
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
      const { demoCommand } = await import('./demo.ts');
      setExit(await demoCommand({ nodes, apiAddr: opts.apiAddr, logLevel: opts.logLevel as LogLevel, io }));
    });
}
