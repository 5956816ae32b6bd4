// The partyline's SSH server (ssh2). Behaves as Micelio's (reference §5): the node's Ed25519
// identity is the host key, so the fingerprint users see is that of identity/node.pub; public-key
// authentication only, against <data_dir>/authorized_keys; any username is the initial nick; only
// "session" channels, with pty-req and shell accepted and exec/subsystem/env refused.
//
// Where Micelio has no limits, this server has them (reference §9, item 6): connections are capped
// (sessions are capped by the hub), a connection must log in and open its shell within a grace
// period, failed authentication attempts per connection are bounded, and a session idles out.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ServerChannel, Session } from 'ssh2';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { ed25519OpenSshPrivateKey, sshFingerprint } from '../identity/openssh.ts';
import { AuthorizedKeys } from './authorized-keys.ts';
import type { HubSession, PartylineHub, SessionOutput } from './hub.ts';
import { LineEditor } from './line-editor.ts';
import { MAX_LINE_CHARS } from './sanitize.ts';

export const DEFAULT_SSH_LISTEN = '127.0.0.1:2222';
/** Time to authenticate and open a shell (OpenSSH calls it LoginGraceTime). */
export const DEFAULT_LOGIN_GRACE_MS = 30_000;
/** Failed authentication attempts before the connection is dropped (OpenSSH's MaxAuthTries is 6). */
export const DEFAULT_MAX_AUTH_ATTEMPTS = 6;
/** Connections beyond the hub's session limit, so a full partyline can still say so politely. */
export const EXTRA_CONNECTIONS = 16;
/** Session channels one connection may open. */
export const MAX_CHANNELS_PER_CONNECTION = 4;
/** Typed-ahead input held while a line is handled; beyond it the channel is paused (SSH flow control). */
const MAX_PENDING_INPUT_CHARS = 64 * 1024;
const STOP_GRACE_MS = 2_000;

export interface SshHostIdentity {
  /** 32-byte Ed25519 seed (NodeIdentity.seed). */
  readonly seed: Uint8Array;
  /** 32-byte Ed25519 public key (NodeIdentity.ed25519Public). */
  readonly ed25519Public: Uint8Array;
}

export interface PartylineSshServerOptions {
  hub: PartylineHub;
  identity: SshHostIdentity;
  /** `<data_dir>/authorized_keys`. */
  authorizedKeysPath: string;
  clock: Clock;
  logger: Logger;
  /** `[ssh] listen`, "host:port" or "[v6]:port". Default 127.0.0.1:2222. */
  listen?: string;
  /** TCP connections at once. Default: the hub's maxSessions + 16. */
  maxConnections?: number;
  loginGraceMs?: number;
  maxAuthAttempts?: number;
  /** Reload timing for authorized_keys (tests shorten it). */
  authorizedKeysDebounceMs?: number;
  authorizedKeysPollMs?: number;
  /** SSH identification string after "SSH-2.0-". */
  ident?: string;
}

export interface PartylineSshServerStats {
  connections: number;
  connectionsRefused: number;
  loginsAccepted: number;
  authFailures: number;
  loginTimeouts: number;
  shells: number;
}

/** Parses "host:port" / "[v6]:port"; throws on anything else (config validation catches it first). */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(listen) ?? /^([^:[\]]*):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || m[1] === '' || !(port >= 0 && port <= 65535)) {
    throw new Error(`invalid ssh listen address ${JSON.stringify(listen)} (expected host:port)`);
  }
  return { host: m[1], port };
}

interface ConnState {
  socket: Socket;
  remote: string;
  client?: Connection;
  user?: string;
  keyFingerprint?: string;
  authFailures: number;
  channels: number;
  shells: Set<ShellState>;
  grace: Timer | undefined;
}

interface ShellState {
  stream: ServerChannel;
  session?: HubSession;
  ended: boolean;
}

export class PartylineSshServer {
  readonly hub: PartylineHub;
  readonly authorizedKeys: AuthorizedKeys;
  /** `SHA256:…` of the host key: equal to `ssh-keygen -lf identity/node.pub`. */
  readonly hostKeyFingerprint: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly listenAddr: { host: string; port: number };
  private readonly maxConnections: number;
  private readonly loginGraceMs: number;
  private readonly maxAuthAttempts: number;
  private readonly ssh: ssh2.Server;
  private net: NetServer | undefined;
  private readonly conns = new Map<string, ConnState>();
  private stopping = false;
  private readonly counters = {
    connectionsRefused: 0,
    loginsAccepted: 0,
    authFailures: 0,
    loginTimeouts: 0,
    shells: 0,
  };

  constructor(opts: PartylineSshServerOptions) {
    this.hub = opts.hub;
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'partyline' });
    this.listenAddr = parseListenAddress(opts.listen ?? DEFAULT_SSH_LISTEN);
    this.maxConnections = opts.maxConnections ?? opts.hub.maxSessions + EXTRA_CONNECTIONS;
    this.loginGraceMs = opts.loginGraceMs ?? DEFAULT_LOGIN_GRACE_MS;
    this.maxAuthAttempts = opts.maxAuthAttempts ?? DEFAULT_MAX_AUTH_ATTEMPTS;
    this.hostKeyFingerprint = sshFingerprint(opts.identity.ed25519Public);
    this.authorizedKeys = new AuthorizedKeys({
      path: opts.authorizedKeysPath,
      clock: opts.clock,
      logger: opts.logger,
      debounceMs: opts.authorizedKeysDebounceMs,
      pollIntervalMs: opts.authorizedKeysPollMs,
    });
    this.ssh = new ssh2.Server(
      { hostKeys: [ed25519OpenSshPrivateKey(opts.identity.seed)], ident: opts.ident ?? 'Hypha' },
      (client, info) => this.onClient(client, `${info.ip}:${info.port}`),
    );
    this.ssh.on('error', (e: Error) => this.log.warn({ err: e }, 'ssh server error'));
  }

  /** Loads authorized_keys, freezes the command registry and starts listening. Resolves to the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.net) throw new Error('partyline ssh server already listening');
    this.hub.commands.freeze();
    await this.authorizedKeys.start();
    const net = createServer((socket) => this.onSocket(socket));
    this.net = net;
    try {
      await new Promise<void>((resolve, reject) => {
        net.once('error', reject);
        net.listen(this.listenAddr.port, this.listenAddr.host, () => {
          net.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.net = undefined;
      this.authorizedKeys.stop();
      throw new Error(`partyline ssh server cannot listen on ${this.listenAddr.host}:${this.listenAddr.port}: ${(e as Error).message}`, { cause: e });
    }
    net.on('error', (e) => this.log.warn({ err: e }, 'ssh listener error'));
    const addr = this.address as { host: string; port: number };
    this.log.info({ listen: `${addr.host}:${addr.port}`, hostKey: this.hostKeyFingerprint }, 'partyline ssh server listening');
    return addr;
  }

  /** The bound address, once listening. */
  get address(): { host: string; port: number } | undefined {
    const a = this.net?.address();
    if (!a || typeof a === 'string') return undefined;
    return { host: a.address, port: a.port };
  }

  stats(): PartylineSshServerStats {
    return { connections: this.conns.size, ...this.counters };
  }

  /** Stops listening and closes every connection (sessions see a shutdown line first). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.authorizedKeys.stop();
    const closed = this.net ? new Promise<void>((resolve) => this.net?.close(() => resolve())) : Promise.resolve();
    for (const c of this.conns.values()) {
      for (const sh of c.shells) {
        sh.session?.deliver('* The partyline is shutting down.');
        sh.session?.close('stopped');
        this.endShell(sh);
      }
      c.grace?.cancel();
      try {
        c.client?.end();
      } catch {
        // already gone
      }
      c.socket.end();
    }
    // Sockets that do not finish closing politely are destroyed.
    const deadline = this.clock.setTimeout(() => {
      for (const c of this.conns.values()) c.socket.destroy();
    }, STOP_GRACE_MS);
    await closed;
    deadline.cancel();
    for (const c of this.conns.values()) c.socket.destroy();
    this.log.info('partyline ssh server stopped');
  }

  private onSocket(socket: Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.stopping || this.conns.size >= this.maxConnections) {
      this.counters.connectionsRefused++;
      this.log.warn({ remote, maxConnections: this.maxConnections }, 'ssh connection refused: too many connections');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const state: ConnState = { socket, remote, authFailures: 0, channels: 0, shells: new Set(), grace: undefined };
    state.grace = this.clock.setTimeout(() => {
      this.counters.loginTimeouts++;
      this.log.info({ remote, user: state.user }, 'ssh connection closed: no login and shell within the grace time');
      socket.destroy();
    }, this.loginGraceMs);
    this.conns.set(remote, state);
    socket.on('error', () => undefined); // reported through ssh2's client 'error'
    socket.once('close', () => {
      state.grace?.cancel();
      this.conns.delete(remote);
      for (const sh of state.shells) this.shellGone(sh);
    });
    this.ssh.injectSocket(socket);
  }

  private onClient(client: Connection, remote: string): void {
    const state = this.conns.get(remote);
    if (state === undefined) {
      client.end();
      return;
    }
    state.client = client;
    client.on('error', (e: Error) => this.log.debug({ remote, err: e.message }, 'ssh connection error'));
    client.on('authentication', (ctx: AuthContext) => this.authenticate(state, ctx));
    client.on('session', (accept, reject) => {
      if (state.user === undefined || state.channels >= MAX_CHANNELS_PER_CONNECTION) return reject();
      state.channels++;
      this.onSession(state, accept());
    });
    // No forwarding of any kind, no global requests (keepalive@openssh.com is answered "false").
    client.on('tcpip', (_accept, reject) => reject());
    client.on('openssh.streamlocal', (_accept, reject) => reject());
    client.on('request', (_accept: unknown, reject: (() => void) | undefined) => reject?.());
  }

  private authenticate(state: ConnState, ctx: AuthContext): void {
    const refuse = (why: string) => {
      if (ctx.method !== 'none') {
        state.authFailures++;
        this.counters.authFailures++;
        this.log.info({ remote: state.remote, user: ctx.username, method: ctx.method, reason: why }, 'ssh authentication refused');
      }
      ctx.reject(['publickey']);
      if (state.authFailures >= this.maxAuthAttempts) {
        this.log.warn({ remote: state.remote, attempts: state.authFailures }, 'ssh connection dropped: too many failed authentication attempts');
        state.client?.end();
      }
    };
    if (ctx.method !== 'publickey') {
      refuse('only public-key authentication is accepted');
      return;
    }
    const key = this.authorizedKeys.find(ctx.key.data);
    if (key === undefined) {
      refuse(this.authorizedKeys.size === 0 ? 'no authorized keys loaded' : 'key not in authorized_keys');
      return;
    }
    if (ctx.signature === undefined || ctx.blob === undefined) {
      ctx.accept(); // the client asks whether this key would do: yes (it must still sign)
      return;
    }
    if (!key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) {
      refuse('bad signature');
      return;
    }
    state.user = ctx.username;
    state.keyFingerprint = key.fingerprint;
    this.counters.loginsAccepted++;
    this.log.info(
      { remote: state.remote, user: ctx.username, key: key.fingerprint, comment: key.comment || undefined },
      'ssh login',
    );
    ctx.accept();
  }

  private onSession(state: ConnState, session: Session): void {
    let pty: { cols: number } | undefined;
    let shellStarted = false;
    let editor: LineEditor | undefined;
    session.on('pty', (accept, reject, info) => {
      if (shellStarted) return reject?.();
      pty = { cols: info.cols };
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (pty) pty.cols = info.cols;
      editor?.setColumns(info.cols);
      accept?.();
    });
    // As Micelio: no environment, no commands, no subsystems (so `ssh host cmd` and sftp fail).
    session.on('env', (_accept, reject) => reject?.());
    session.on('exec', (_accept, reject) => reject());
    session.on('subsystem', (_accept, reject) => reject());
    session.on('sftp', (_accept, reject) => reject());
    session.on('x11', (_accept, reject) => reject?.());
    session.on('auth-agent', (_accept, reject) => reject?.());
    session.on('signal', (_accept, reject) => reject?.());
    session.on('close', () => {
      state.channels = Math.max(0, state.channels - 1);
    });
    session.on('shell', (accept) => {
      shellStarted = true;
      const stream = accept();
      editor = this.startShell(state, stream, pty);
    });
  }

  private startShell(state: ConnState, stream: ServerChannel, pty: { cols: number } | undefined): LineEditor | undefined {
    state.grace?.cancel();
    state.grace = undefined;
    this.counters.shells++;
    const sh: ShellState = { stream, ended: false };
    state.shells.add(sh);
    stream.on('error', (e: Error) => this.log.debug({ remote: state.remote, err: e.message }, 'ssh channel error'));
    stream.on('close', () => {
      state.shells.delete(sh);
      this.shellGone(sh);
      // The connection exists for this shell: when the last one is gone, hang up.
      if (state.shells.size === 0) state.client?.end();
    });

    const editor = new LineEditor({
      interactive: pty !== undefined,
      columns: pty?.cols,
      maxLineChars: MAX_LINE_CHARS,
      write: (data) => (sh.ended ? true : stream.write(data)),
      onLine: (line) => {
        const session = sh.session;
        if (session === undefined) return;
        void session.input(line).then(() => {
          if (session.closed || sh.ended) return;
          editor.showPrompt(session.prompt);
          if (stream.isPaused() && editor.pendingChars < MAX_PENDING_INPUT_CHARS / 2) stream.resume();
        });
      },
      onEnd: () => {
        sh.session?.leave();
        this.endShell(sh);
      },
    });
    const output: SessionOutput = {
      writeLine: (line) => (sh.ended ? true : editor.printAbove(line)),
      close: () => {
        editor.end();
        this.endShell(sh);
      },
    };
    const joined = this.hub.join(state.user ?? '', output);
    if (!joined.ok) {
      stream.write(joined.error.message + '\r\n');
      this.endShell(sh, 1);
      return undefined;
    }
    const session = joined.value;
    sh.session = session;
    stream.on('data', (data: Buffer) => {
      session.touch();
      editor.feed(data);
      if (editor.pendingChars > MAX_PENDING_INPUT_CHARS) stream.pause();
    });
    stream.on('drain', () => session.drained());
    editor.showPrompt(session.prompt);
    return editor;
  }

  private endShell(sh: ShellState, exitCode = 0): void {
    if (sh.ended) return;
    sh.ended = true;
    try {
      sh.stream.exit(exitCode);
      sh.stream.end();
    } catch {
      // the channel is already closed
    }
  }

  private shellGone(sh: ShellState): void {
    sh.ended = true;
    sh.session?.leave();
  }
}
