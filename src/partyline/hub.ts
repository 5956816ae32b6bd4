// The partyline chat hub: who is connected, what they see, and the port to the mesh.
//
// Texts are Micelio's (reference §5): `* alice joined the partyline`, `* bob left the partyline`,
// `* old is now known as new`, `[nick] text`, the welcome banner. What differs, by design (§9):
// - every nick and line is stripped of terminal control sequences before it is shown;
// - a line from another node shows where it came from: `[bob@node-b] hi`;
// - each session has a bounded output queue: a slow terminal loses lines (counted, logged, and told
//   so when it catches up) but never holds up the hub or anyone else;
// - at most `maxSessions` sessions, and an idle timeout per session;
// - local lines are paced to the rate peers accept from one node (10/s, burst 20, reference §3.3),
//   and the user is told when a line stayed local instead of being silently dropped by peers.
//
// Node runs this on one thread, so the hub is plain synchronous code: no locks, no channels.
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { err, ok, type Result, type DecodeError } from '../base/result.ts';
import { unixSeconds } from '../base/clock.ts';
import { shortId } from '../identity/identity.ts';
import {
  createCommandRegistry,
  type CommandRegistry,
  parseCommandLine,
  type CommandContext,
  type CommandHub,
  type CommandSession,
  type PartylineServices,
  type PeerSummary,
} from './commands.ts';
import {
  MAX_LINE_CHARS,
  MAX_ORIGIN_CHARS,
  cleanNick,
  cleanText,
  stripTerminalControls,
  truncateChars,
} from './sanitize.ts';

export const DEFAULT_MAX_SESSIONS = 64;
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;
/** Lines held for a terminal that is not keeping up; beyond this, lines are dropped and counted. */
export const DEFAULT_SESSION_QUEUE_LINES = 256;
/** Local chat lines sent to the mesh per second, and the burst: what each peer accepts per origin. */
export const OUTBOUND_LINES_PER_S = 10;
export const OUTBOUND_BURST_LINES = 20;
/** Recent chat lines the node keeps for the API (GET /api/v1/hypha/chat). */
export const RECENT_CHAT_LINES = 512;
/** Nick for a user whose name is empty once control characters are stripped. */
export const FALLBACK_NICK = 'guest';

/** Where a session's lines go: the SSH layer implements it over a channel and its line editor. */
export interface SessionOutput {
  /**
   * Shows one line (already sanitised, without line ending). Like `stream.write`, the line is taken
   * either way; false means the terminal is backed up, and the hub holds further lines until the
   * output calls `HubSession.drained()`.
   */
  writeLine(line: string): boolean;
  /** Ends the session from the hub's side (quit, idle timeout, hub stop). Called once. */
  close(reason: string): void;
}

/** A chat line typed on this node, for the mesh (MeshChat sends it as a ChatMessage, msg_type 3). */
export interface LocalChatLine {
  nick: string;
  text: string;
  /** Unix seconds, for ChatMessage.timestamp. */
  timestampSec: number;
}

/** Who sent a line that arrived from the mesh. */
export interface RemoteOrigin {
  /** The originating node's id (Envelope.sender_id). */
  nodeId: string;
  /** Its node name, if known; shown instead of the short id. */
  name?: string;
}

/** A chat line as the hub showed it (sanitised), for the recent-lines log the API serves. */
export interface ChatLineEvent {
  /** Typed on this node (an SSH session or the API), or arrived from the mesh. */
  origin: 'local' | 'remote';
  via: 'ssh' | 'api' | 'mesh';
  nick: string;
  text: string;
  /** The originating node (this node's id for local lines). */
  nodeId: string;
  /** The origin's node name when known (this node's name for local lines). */
  nodeName?: string;
  /** When this node showed it (clock ms). */
  atMs: number;
}

/** What became of a line said through `say()`. */
export type SayResult =
  | { ok: true; line: ChatLineEvent; mesh: 'sent' | 'no-mesh' }
  | { ok: false; code: 'empty-nick' | 'empty-text' | 'paced' | 'stopped'; message: string; retryAfterMs?: number };

export interface PartylineHubOptions {
  /** Shown in the welcome banner. */
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** Defaults to a registry holding the built-ins. */
  commands?: CommandRegistry;
  /** Node services for command handlers (nodeName is filled in from above). */
  services?: Omit<PartylineServices, 'nodeName'>;
  /** Concurrent sessions; further joins are refused. Default 64. */
  maxSessions?: number;
  /** A session with no input for this long is closed; 0 disables. Default 30 min. */
  idleTimeoutMs?: number;
  /** Output lines held per session while its terminal is backed up. Default 256. */
  sessionQueueLines?: number;
  /** Receives every local chat line bound for the mesh (see also `setOutbound`). */
  outbound?: (line: LocalChatLine) => void;
}

export interface PartylineHubStats {
  sessions: number;
  joins: number;
  /** Joins refused because `maxSessions` were connected. */
  refusedFull: number;
  /** Local chat lines (shown locally, and offered to the mesh unless paced). */
  localLines: number;
  /** Local lines kept off the mesh by the outbound pacing. */
  localLinesPaced: number;
  /** Lines from other nodes shown. */
  remoteLines: number;
  /** Lines from other nodes that were empty once sanitised. */
  remoteLinesEmpty: number;
  /** Output lines dropped because a terminal was not keeping up (all sessions). */
  outputLinesDropped: number;
  idleDisconnects: number;
  commands: number;
  commandErrors: number;
  outboundErrors: number;
}

/** Micelio's welcome, shown to a session right after it joins. */
export function welcomeLines(nodeName: string): string[] {
  return [`Welcome to ${nodeName} partyline!`, 'Type /help for commands.', ''];
}

/** The line editor's prompt for a nick. */
export function promptFor(nick: string): string {
  return `[${nick}]> `;
}

/** The label of a remote line's origin: the node's name if known, else the short node id. */
export function originLabel(origin: RemoteOrigin): string {
  const name = origin.name === undefined ? '' : cleanNick(origin.name);
  if (name !== '') return truncateChars(name, MAX_ORIGIN_CHARS);
  const id = stripTerminalControls(origin.nodeId).trim();
  return id === '' ? '?' : shortId(id);
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export class PartylineHub implements CommandHub {
  readonly nodeName: string;
  readonly commands: CommandRegistry;
  readonly maxSessions: number;
  readonly idleTimeoutMs: number;
  readonly sessionQueueLines: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private services: PartylineServices;
  private readonly sessions = new Map<number, HubSession>();
  private outbound: ((line: LocalChatLine) => void) | undefined;
  private readonly lineListeners = new Set<(line: ChatLineEvent) => void>();
  private readonly nodeId: string;
  private nextId = 1;
  private stopped = false;
  private tokens = OUTBOUND_BURST_LINES;
  private tokensAtMs: number;
  private readonly counters: Omit<PartylineHubStats, 'sessions'> = {
    joins: 0,
    refusedFull: 0,
    localLines: 0,
    localLinesPaced: 0,
    remoteLines: 0,
    remoteLinesEmpty: 0,
    outputLinesDropped: 0,
    idleDisconnects: 0,
    commands: 0,
    commandErrors: 0,
    outboundErrors: 0,
  };

  constructor(opts: PartylineHubOptions) {
    this.nodeName = stripTerminalControls(opts.nodeName);
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'partyline' });
    this.commands = opts.commands ?? createCommandRegistry();
    this.services = { ...opts.services, nodeName: this.nodeName };
    this.nodeId = opts.services?.nodeId ?? '';
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.sessionQueueLines = opts.sessionQueueLines ?? DEFAULT_SESSION_QUEUE_LINES;
    if (!(this.maxSessions >= 1)) throw new RangeError(`maxSessions must be at least 1, got ${this.maxSessions}`);
    if (!(this.idleTimeoutMs >= 0)) throw new RangeError(`idleTimeoutMs must be >= 0, got ${this.idleTimeoutMs}`);
    if (!(this.sessionQueueLines >= 1)) throw new RangeError(`sessionQueueLines must be at least 1`);
    this.outbound = opts.outbound;
    this.tokensAtMs = this.clock.now();
  }

  /** Connects (or, with undefined, disconnects) the mesh side: it receives every local chat line. */
  setOutbound(fn: ((line: LocalChatLine) => void) | undefined): void {
    this.outbound = fn;
  }

  /** Calls `fn` with every chat line shown (local and remote, not join/leave lines); returns the unsubscribe. */
  onLine(fn: (line: ChatLineEvent) => void): () => void {
    this.lineListeners.add(fn);
    return () => this.lineListeners.delete(fn);
  }

  /**
   * Says a line as `nick` from outside a session (the HTTP API): shown to every session as `[nick] text` and
   * sent to the mesh like a typed line. Nick and text are sanitised and bounded as typed ones are. Unlike a
   * typed line, one over the mesh pacing is refused (not shown at all), so a program can wait and retry.
   */
  say(nick: string, text: string): SayResult {
    if (this.stopped) return { ok: false, code: 'stopped', message: 'the partyline is shutting down' };
    const cleanedNick = cleanNick(String(nick));
    if (cleanedNick === '') return { ok: false, code: 'empty-nick', message: 'the nick is empty once control characters and spaces are removed' };
    const cleanedText = cleanText(String(text), MAX_LINE_CHARS);
    if (cleanedText === '') return { ok: false, code: 'empty-text', message: 'the text is empty once control characters and spaces are removed' };
    if (this.outbound !== undefined && !this.takeOutboundToken()) {
      this.counters.localLinesPaced++;
      const retryAfterMs = Math.ceil(((1 - this.tokens) / OUTBOUND_LINES_PER_S) * 1000);
      return { ok: false, code: 'paced', retryAfterMs, message: `too many chat lines: this node sends at most ${OUTBOUND_LINES_PER_S} per second to the mesh (bursts of ${OUTBOUND_BURST_LINES}); try again in ${retryAfterMs} ms` };
    }
    this.counters.localLines++;
    const line = `[${cleanedNick}] ${cleanedText}`;
    for (const s of this.sessions.values()) s.deliver(line);
    const event = this.emitLine('local', 'api', cleanedNick, cleanedText, this.nodeId, this.nodeName);
    if (this.outbound === undefined) return { ok: true, line: event, mesh: 'no-mesh' };
    try {
      this.outbound({ nick: cleanedNick, text: cleanedText, timestampSec: unixSeconds(this.clock) });
    } catch (e) {
      this.counters.outboundErrors++;
      this.log.warn({ err: e }, 'partyline outbound port failed');
      return { ok: true, line: event, mesh: 'no-mesh' };
    }
    return { ok: true, line: event, mesh: 'sent' };
  }

  /** Connects `/peers` to the peer manager (which may be built after the hub). */
  setPeersProvider(peers: (() => readonly PeerSummary[]) | undefined): void {
    this.services = { ...this.services, peers };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Nicks of the local sessions, in join order. */
  who(): string[] {
    return [...this.sessions.values()].map((s) => s.nick);
  }

  stats(): PartylineHubStats {
    return { sessions: this.sessions.size, ...this.counters };
  }

  /**
   * Adds a session. Everyone, the newcomer included, sees `* nick joined the partyline`; then the
   * newcomer gets the welcome banner. Refused when the hub is full or stopped.
   */
  join(requestedNick: string, output: SessionOutput): Result<HubSession, DecodeError> {
    if (this.stopped) return err('stopped', 'The partyline is shutting down.');
    if (this.sessions.size >= this.maxSessions) {
      this.counters.refusedFull++;
      this.log.warn({ maxSessions: this.maxSessions }, 'partyline full, session refused');
      const n = this.maxSessions;
      return err('full', `Sorry, the partyline is full (${n} session${n === 1 ? '' : 's'}). Try again later.`);
    }
    const nick = cleanNick(requestedNick) || FALLBACK_NICK;
    const session = new HubSession(this, this.nextId++, nick, output);
    this.sessions.set(session.id, session);
    this.counters.joins++;
    this.log.info({ session: session.id, nick }, 'partyline session joined');
    this.systemLine(`* ${nick} joined the partyline`);
    for (const line of welcomeLines(this.nodeName)) session.deliver(line);
    session.touch();
    return ok(session);
  }

  /**
   * A chat line from another node (ChatMessage msg_type 3, after gossip verified it). Shown to every
   * local session as `[nick@origin] text`, sanitised, and never sent back to the mesh.
   */
  deliverRemote(nick: string, text: string, origin: RemoteOrigin): void {
    if (this.stopped) return;
    const cleanedText = cleanText(String(text ?? ''), MAX_LINE_CHARS);
    if (cleanedText === '') {
      this.counters.remoteLinesEmpty++;
      return;
    }
    const cleanedNick = cleanNick(String(nick ?? '')) || '?';
    this.counters.remoteLines++;
    const line = `[${cleanedNick}@${originLabel(origin)}] ${cleanedText}`;
    for (const s of this.sessions.values()) s.deliver(line);
    const name = origin.name === undefined ? '' : truncateChars(cleanNick(origin.name), MAX_ORIGIN_CHARS);
    this.emitLine('remote', 'mesh', cleanedNick, cleanedText, stripTerminalControls(String(origin.nodeId)).slice(0, 128), name === '' ? undefined : name);
  }

  private emitLine(origin: ChatLineEvent['origin'], via: ChatLineEvent['via'], nick: string, text: string, nodeId: string, nodeName: string | undefined): ChatLineEvent {
    const event: ChatLineEvent = { origin, via, nick, text, nodeId, ...(nodeName === undefined || nodeName === '' ? {} : { nodeName }), atMs: this.clock.now() };
    for (const fn of this.lineListeners) {
      try {
        fn(event);
      } catch (e) {
        this.log.warn({ err: e }, 'partyline line listener failed');
      }
    }
    return event;
  }

  /** Closes every session; later joins are refused. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of [...this.sessions.values()]) {
      s.deliver('* The partyline is shutting down.');
      s.close('stopped');
    }
  }

  // ---- used by HubSession ----

  /** @internal */
  systemLine(line: string, except?: HubSession): void {
    for (const s of this.sessions.values()) if (s !== except) s.deliver(line);
  }

  /** @internal */
  removeSession(session: HubSession, announce: boolean): void {
    if (!this.sessions.delete(session.id)) return;
    this.log.info({ session: session.id, nick: session.nick }, 'partyline session left');
    if (announce) this.systemLine(`* ${session.nick} left the partyline`);
  }

  /** @internal */
  chat(from: HubSession, text: string): void {
    this.counters.localLines++;
    const line = `[${from.nick}] ${text}`;
    for (const s of this.sessions.values()) if (s !== from) s.deliver(line);
    this.emitLine('local', 'ssh', from.nick, text, this.nodeId, this.nodeName);
    if (this.outbound === undefined) return;
    if (!this.takeOutboundToken()) {
      this.counters.localLinesPaced++;
      from.deliver(`* Too many lines: that one was not sent to other nodes (limit ${OUTBOUND_LINES_PER_S}/s).`);
      return;
    }
    try {
      this.outbound({ nick: from.nick, text, timestampSec: unixSeconds(this.clock) });
    } catch (e) {
      this.counters.outboundErrors++;
      this.log.warn({ err: e }, 'partyline outbound port failed');
    }
  }

  /** @internal */
  async command(from: HubSession, line: string): Promise<void> {
    const { name, args, rest } = parseCommandLine(line);
    const spec = this.commands.get(name);
    if (spec === undefined) {
      from.deliver(`Unknown command: ${stripTerminalControls(name)} (try /help)`);
      return;
    }
    this.counters.commands++;
    const ctx: CommandContext = {
      session: from,
      name,
      args,
      rest,
      write: (text: string) => {
        for (const l of String(text).split(/\r?\n/)) from.deliver(stripTerminalControls(l));
      },
      hub: this,
      services: this.services,
      registry: this.commands,
    };
    try {
      await spec.handler(ctx);
    } catch (e) {
      this.counters.commandErrors++;
      this.log.warn({ err: e, command: name }, 'partyline command failed');
      from.deliver(`Error: ${stripTerminalControls(e instanceof Error ? e.message : String(e))}`);
    }
  }

  /** @internal */
  countDropped(): void {
    this.counters.outputLinesDropped++;
  }

  /** @internal */
  idleTimedOut(session: HubSession): void {
    this.counters.idleDisconnects++;
    this.log.info({ session: session.id, nick: session.nick, idleMs: this.idleTimeoutMs }, 'partyline session idle, closing');
    session.deliver(`Idle for ${formatDuration(this.idleTimeoutMs)}: disconnecting.`);
    session.close('idle');
  }

  /** @internal */
  get clockRef(): Clock {
    return this.clock;
  }

  /** @internal */
  get logger(): Logger {
    return this.log;
  }

  private takeOutboundToken(): boolean {
    const now = this.clock.now();
    const elapsedMs = Math.max(0, now - this.tokensAtMs);
    this.tokensAtMs = now;
    this.tokens = Math.min(OUTBOUND_BURST_LINES, this.tokens + (elapsedMs * OUTBOUND_LINES_PER_S) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** One user's session in the hub. The SSH layer feeds it input and drains its output. */
export class HubSession implements CommandSession {
  readonly id: number;
  private currentNick: string;
  private readonly hub: PartylineHub;
  private readonly output: SessionOutput;
  private readonly queue: string[] = [];
  private blocked = false;
  private isClosed = false;
  private idleTimer: Timer | undefined;
  /** Lines dropped for this session since it last caught up. */
  private droppedInBurst = 0;
  /** Lines dropped for this session in its lifetime. */
  droppedLines = 0;

  constructor(hub: PartylineHub, id: number, nick: string, output: SessionOutput) {
    this.hub = hub;
    this.id = id;
    this.currentNick = nick;
    this.output = output;
  }

  get nick(): string {
    return this.currentNick;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The prompt the line editor shows for this session now. */
  get prompt(): string {
    return promptFor(this.currentNick);
  }

  /** Lines waiting for the terminal. */
  get queuedLines(): number {
    return this.queue.length;
  }

  /**
   * A line the user entered. Commands start with `/`; anything else is chat, shown to the other
   * sessions and sent to the mesh. Lines are trimmed; empty ones are ignored. Resolves when the line
   * (an async command included) has been handled.
   */
  async input(line: string): Promise<void> {
    if (this.isClosed) return;
    this.touch();
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('/')) {
      await this.hub.command(this, trimmed);
      return;
    }
    const text = cleanText(trimmed, MAX_LINE_CHARS);
    if (text !== '') this.hub.chat(this, text);
  }

  /** Any sign of life from the user (a keystroke): restarts the idle countdown. */
  touch(): void {
    if (this.isClosed || this.hub.idleTimeoutMs === 0) return;
    if (this.idleTimer === undefined) {
      this.idleTimer = this.hub.clockRef.setTimeout(() => this.hub.idleTimedOut(this), this.hub.idleTimeoutMs);
    } else {
      this.idleTimer.reset();
    }
  }

  rename(newNick: string): void {
    if (this.isClosed) return;
    const nick = cleanNick(newNick) || this.currentNick;
    const old = this.currentNick;
    this.currentNick = nick;
    this.hub.systemLine(`* ${old} is now known as ${nick}`);
  }

  /** Ends the session: the others see it leave, then the output is closed. Idempotent. */
  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.idleTimer?.cancel();
    this.hub.removeSession(this, reason !== 'stopped');
    this.queue.length = 0;
    this.output.close(reason);
  }

  /** The transport went away (the user disconnected): same as close, without calling the output back. */
  leave(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.idleTimer?.cancel();
    this.queue.length = 0;
    this.hub.removeSession(this, true);
  }

  /** The output can take lines again. */
  drained(): void {
    this.blocked = false;
    while (!this.blocked && this.queue.length > 0 && !this.isClosed) {
      this.blocked = !this.output.writeLine(this.queue.shift() as string);
    }
    if (!this.blocked && this.queue.length === 0 && this.droppedInBurst > 0 && !this.isClosed) {
      const n = this.droppedInBurst;
      this.droppedInBurst = 0;
      this.hub.logger.info({ session: this.id, nick: this.currentNick, dropped: n }, 'partyline session output caught up');
      this.blocked = !this.output.writeLine(`* ${n} line${n === 1 ? ' was' : 's were'} dropped: your terminal was not keeping up.`);
    }
  }

  /** @internal Queues one line for this session's terminal; drops it if the queue is full. */
  deliver(line: string): void {
    if (this.isClosed) return;
    if (!this.blocked && this.queue.length === 0) {
      this.blocked = !this.output.writeLine(line);
      return;
    }
    if (this.queue.length < this.hub.sessionQueueLines) {
      this.queue.push(line);
      return;
    }
    this.droppedLines++;
    this.hub.countDropped();
    if (this.droppedInBurst++ === 0) {
      this.hub.logger.warn(
        { session: this.id, nick: this.currentNick, queueLines: this.hub.sessionQueueLines },
        'partyline session output backed up, dropping lines',
      );
    }
  }
}
