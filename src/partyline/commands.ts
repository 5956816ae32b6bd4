// The partyline's slash commands: a registry that later layers and plugins extend (/state, /get, /set,
// ...), frozen when the SSH server starts listening, plus the built-ins with Micelio's exact texts
// (reference §5). Handlers see the calling session, their arguments, a writer for their output, and
// the node services the composition root hands in.
import { charCount, cleanNick, stripTerminalControls, MAX_NICK_CHARS } from './sanitize.ts';
import { shortId } from '../identity/identity.ts';

/** A session as a command sees it. */
export interface CommandSession {
  readonly id: number;
  readonly nick: string;
  /** Renames the session; everyone (including this session) sees `* old is now known as new`. */
  rename(newNick: string): void;
  /** Ends the session once the output already queued has been written. */
  close(reason?: string): void;
}

/** The hub as a command sees it. */
export interface CommandHub {
  readonly nodeName: string;
  /** Nicks of the local sessions, in join order. */
  who(): string[];
}

/** One connected mesh peer, as `/peers` prints it. The peer manager provides these. */
export interface PeerSummary {
  /** 64 hex characters. */
  nodeId: string;
  /** The peer's node name, if it told us. */
  name?: string;
  /** host:port of the link. */
  address?: string;
  direction?: 'inbound' | 'outbound';
  /** Link kind or protocol, e.g. "micelio", "hypha", "mycelium". */
  kind?: string;
}

/** What the node lends to command handlers. More fields are added as layers arrive. */
export interface PartylineServices {
  readonly nodeName: string;
  readonly nodeId?: string;
  /** Connected peers, for `/peers`. Absent when the node has no mesh. */
  readonly peers?: () => readonly PeerSummary[];
}

export interface CommandContext {
  readonly session: CommandSession;
  /** The command name as typed, e.g. "/nick". */
  readonly name: string;
  /** Whitespace-separated arguments after the name (Go's strings.Fields). */
  readonly args: readonly string[];
  /** Everything after the name with its inner spacing kept, e.g. the value of `/set key a  b`. */
  readonly rest: string;
  /**
   * Writes output to the calling session only. Text is split on newlines, and each line is stripped
   * of terminal control sequences, so a handler may print data that came from the network.
   */
  write(text: string): void;
  readonly hub: CommandHub;
  readonly services: PartylineServices;
  /** The registry that dispatched this command (frozen while the server listens). */
  readonly registry: CommandRegistry;
}

export type CommandHandler = (ctx: CommandContext) => void | Promise<void>;

export interface CommandSpec {
  /** Shown by /help, e.g. "/nick <name>". */
  usage: string;
  /** One line for /help, e.g. "change your nickname". */
  help: string;
  handler: CommandHandler;
}

export interface CommandInfo {
  readonly name: string;
  readonly usage: string;
  readonly help: string;
}

const COMMAND_NAME = /^\/[^\s/]{1,31}$/;

/**
 * Commands by name. Registering is allowed until `freeze()` (the SSH server freezes it when it starts
 * listening, so the command set cannot change under a connected user); re-registering a name replaces
 * the command but keeps its position, and /help lists commands in registration order.
 */
export class CommandRegistry {
  private readonly commands = new Map<string, CommandSpec>();
  private isFrozen = false;

  /** `name` with or without the leading slash: "who" and "/who" are the same command. */
  register(name: string, spec: CommandSpec): void {
    if (this.isFrozen) throw new Error(`partyline command ${name}: the registry is frozen (the server is listening)`);
    const key = normaliseName(name);
    if (!COMMAND_NAME.test(key)) throw new Error(`partyline command name ${JSON.stringify(name)} is not a single word`);
    if (typeof spec?.handler !== 'function') throw new Error(`partyline command ${key}: handler is not a function`);
    this.commands.set(key, { usage: spec.usage || key, help: spec.help ?? '', handler: spec.handler });
  }

  freeze(): void {
    this.isFrozen = true;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /** Exact, case-sensitive lookup (as Micelio). */
  get(name: string): CommandSpec | undefined {
    return this.commands.get(name);
  }

  list(): CommandInfo[] {
    return [...this.commands].map(([name, c]) => ({ name, usage: c.usage, help: c.help }));
  }
}

function normaliseName(name: string): string {
  return name.startsWith('/') ? name : `/${name}`;
}

/** One /help line, Go's `fmt "  %-14s — %s"`: usage left-aligned in 14 characters. */
export function formatHelpLine(usage: string, help: string): string {
  const pad = Math.max(0, 14 - charCount(usage));
  return `  ${usage}${' '.repeat(pad)} — ${help}`;
}

/** Splits a command line as Go's strings.Fields does, keeping the raw remainder after the name. */
export function parseCommandLine(line: string): { name: string; args: string[]; rest: string } {
  const trimmed = line.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  const name = m ? m[1] : '';
  const rest = m ? m[2] : '';
  const args = rest === '' ? [] : rest.split(/\s+/).filter((a) => a !== '');
  return { name, args, rest };
}

/** The output of `/peers`. */
export function formatPeers(peers: readonly PeerSummary[] | undefined): string[] {
  if (peers === undefined) return ['Peers: this node has no mesh network'];
  if (peers.length === 0) return ['Peers (0): none'];
  const lines = [`Peers (${peers.length}):`];
  for (const p of peers) {
    const parts = [shortId(p.nodeId), p.name || '-', p.address || '-'];
    if (p.direction) parts.push(p.direction);
    if (p.kind) parts.push(p.kind);
    lines.push('  ' + parts.map((x) => stripTerminalControls(x)).join('  '));
  }
  return lines;
}

/** Registers Micelio's built-ins in Micelio's order (which is also the /help order), then /peers. */
export function registerBuiltinCommands(registry: CommandRegistry): void {
  registry.register('/who', {
    usage: '/who',
    help: 'list online users',
    handler: (ctx) => {
      const nicks = ctx.hub.who();
      ctx.write(`Online (${nicks.length}): ${nicks.join(', ')}`);
    },
  });
  registry.register('/nick', {
    usage: '/nick <name>',
    help: 'change your nickname',
    handler: (ctx) => {
      const wanted = ctx.args[0];
      const stripped = wanted === undefined ? '' : stripTerminalControls(wanted).trim();
      if (stripped === '') {
        ctx.write('Usage: /nick <name>');
        return;
      }
      if (charCount(stripped) > MAX_NICK_CHARS) {
        ctx.write(`Nick too long (max ${MAX_NICK_CHARS} characters)`);
        return;
      }
      ctx.session.rename(cleanNick(stripped));
    },
  });
  registry.register('/quit', {
    usage: '/quit',
    help: 'disconnect',
    handler: (ctx) => {
      ctx.write('Goodbye.');
      ctx.session.close('quit');
    },
  });
  registry.register('/help', {
    usage: '/help',
    help: 'show this help',
    handler: (ctx) => {
      ctx.write('Commands:');
      for (const c of ctx.registry.list()) ctx.write(formatHelpLine(c.usage, c.help));
    },
  });
  registry.register('/peers', {
    usage: '/peers',
    help: 'list connected peers',
    handler: (ctx) => {
      for (const line of formatPeers(ctx.services.peers?.())) ctx.write(line);
    },
  });
}

/** A registry holding the built-ins, ready for more commands. */
export function createCommandRegistry(): CommandRegistry {
  const registry = new CommandRegistry();
  registerBuiltinCommands(registry);
  return registry;
}
