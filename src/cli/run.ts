// `hypha run`: load the config, build the node, start it, and stop it cleanly on SIGINT/SIGTERM. A stop
// that takes longer than STOP_DEADLINE_MS is cut short (exit 1), so the process is always gone within ~2 s.
import { createLogger, type Logger } from '../base/log.ts';
import { ConfigError, loadConfig, type FlagValue } from '../config/load.ts';
import { checkConfigFiles } from '../config/secret-files.ts';
import { loadTopicFile, TopicFileError } from '../messages/topic-file.ts';
import { HyphaNode } from '../node/node.ts';
import type { CliIo } from './io.ts';

/** Leaves headroom under the 2 s a supervisor (or the tests) allow for a clean stop. */
export const STOP_DEADLINE_MS = 1800;
/** The process must stay alive while the node runs even if no part holds a socket (timers are unref'd). */
const KEEPALIVE_MS = 1 << 30;

export interface RunArgs {
  configPath: string | undefined;
  flags: Record<string, FlagValue>;
  io: CliIo;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface Signals {
  /** Resolves with the first SIGINT/SIGTERM, even one that arrived while the node was starting. */
  first: Promise<NodeJS.Signals>;
  /** Resolves with a second signal: the user insists. */
  second: Promise<NodeJS.Signals>;
  remove(): void;
}

/** Installed before anything starts, so a signal during startup is not lost (or fatal by default). */
function listenForSignals(): Signals {
  let count = 0;
  let onFirst!: (s: NodeJS.Signals) => void;
  let onSecond!: (s: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((r) => (onFirst = r));
  const second = new Promise<NodeJS.Signals>((r) => (onSecond = r));
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) onFirst(signal);
    else if (count === 2) onSecond(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    first,
    second,
    remove: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

async function stopOnSignal(node: HyphaNode, logger: Logger, signals: Signals): Promise<number> {
  const keepalive = setInterval(() => undefined, KEEPALIVE_MS);
  const signal = await signals.first;
  clearInterval(keepalive);
  logger.info({ signal }, 'shutting down');
  let deadline: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    node.stop().then(() => 0, (e: unknown) => {
      logger.error({ err: errorText(e) }, 'stopping the node failed');
      return 1;
    }),
    new Promise<number>((r) => {
      deadline = setTimeout(() => {
        logger.error({ deadlineMs: STOP_DEADLINE_MS }, 'the node did not stop in time; exiting anyway');
        r(1);
      }, STOP_DEADLINE_MS);
    }),
    signals.second.then((s) => {
      logger.warn({ signal: s }, 'second signal: exiting without waiting for a clean stop');
      return 1;
    }),
  ]);
  clearTimeout(deadline);
  signals.remove();
  return code;
}

export async function runCommand(args: RunArgs): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfig({ configPath: args.configPath, flags: args.flags, env: args.io.env });
    // The network key and API token files are part of the configuration: a bad one is exit 2 too.
    await checkConfigFiles(loaded.config, loaded.configFile);
    if (loaded.config.topic_config !== '') await checkTopicFile(loaded.config.topic_config, loaded.configFile);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    args.io.stderr(`hypha: ${e.message}\n`);
    return 2;
  }
  const { config, configFile } = loaded;
  const logger = createLogger({ level: config.logging.level, format: config.logging.format });
  logger.info({ configFile: configFile ?? null, dataDir: config.node.data_dir },
    configFile ? `configuration loaded from ${configFile}` : 'no config file; using defaults and flags');
  const signals = listenForSignals();
  let node: HyphaNode;
  try {
    node = await HyphaNode.create(config, { logger });
    await node.start();
  } catch (e) {
    signals.remove();
    logger.fatal(`cannot start the node: ${errorText(e)}`);
    return 1;
  }
  return stopOnSignal(node, logger, signals);
}

/** A malformed topic file is a configuration error (exit 2) naming its line, where Mycelium ignores it. */
async function checkTopicFile(path: string, configFile: string | undefined): Promise<void> {
  try {
    await loadTopicFile(path);
  } catch (e) {
    if (e instanceof TopicFileError) throw new ConfigError([{ path: 'topic_config', message: e.message }], configFile);
    throw e;
  }
}
