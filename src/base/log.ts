// Logging: pino everywhere. Parts receive a Logger (usually a child with a `component` field) through
// their constructor; nothing logs through a global.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'text' | 'json';

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface LogOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; stderr by default so stdout stays free for command output. */
  destination?: DestinationStream;
  /** Extra fields on every line (for example the node name when several nodes share a process). */
  base?: Record<string, unknown>;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const base = opts.base ?? {};
  if ((opts.format ?? 'text') === 'json') {
    return pino({ level, base }, opts.destination ?? pino.destination({ fd: 2, sync: true }));
  }
  const stream = pretty({
    destination: opts.destination ?? 2,
    sync: true,
    colorize: false,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino({ level, base }, stream);
}

/** A logger that drops everything (library use, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export interface LogRecord {
  level: number;
  levelName: string;
  msg: string;
  [key: string]: unknown;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export interface CapturedLog {
  logger: Logger;
  records: LogRecord[];
  /** True if a record at `level` has a message (or reason field) containing `text`. */
  has(level: string, text: string): boolean;
  count(level: string): number;
}

/** A logger that keeps every record in memory, so tests can assert what a node said. */
export function captureLogger(level: LogLevel = 'debug'): CapturedLog {
  const records: LogRecord[] = [];
  const destination = {
    write(line: string): void {
      const rec = JSON.parse(line) as LogRecord;
      rec.levelName = LEVEL_NAMES[rec.level] ?? String(rec.level);
      records.push(rec);
    },
  };
  const logger = pino({ level, base: {} }, destination);
  const matches = (r: LogRecord, text: string): boolean =>
    (r.msg ?? '').includes(text) || (typeof r.reason === 'string' && r.reason.includes(text));
  return {
    logger,
    records,
    has: (lvl, text) => records.some((r) => r.levelName === lvl && matches(r, text)),
    count: (lvl) => records.filter((r) => r.levelName === lvl).length,
  };
}
