// The JSON-RPC 2.0 server on --jsonrpc-addr (default 127.0.0.1:8990), as Mycelium's jsonrpsee server: a
// request (or a batch) POSTed to any path, or sent as a text message on a WebSocket to any path. Every call
// runs on its own, so a popMessage waiting for a message holds up nothing, on its connection or elsewhere.
// With an API token (--api-token-file) every request, and every WebSocket upgrade, must carry it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../base/log.ts';
import { addressText, listenHttp, sameToken } from '../listen.ts';
import { API_MODULES } from '../modules.ts';
import { MAX_MESSAGE_BODY_BYTES } from '../message-json.ts';
import type { ApiModule, JsonSchema } from '../route.ts';
import type { NodeServices } from '../services.ts';
import { RPC_BUSY, rpcMethods } from './methods.ts';
import { openRpcDocument } from './openrpc.ts';
import { handleRpcText, INVALID_REQUEST, PARSE_ERROR, type RpcDispatcher } from './protocol.ts';
import { acceptKey, CLOSE_GOING_AWAY, WsConnection } from './websocket.ts';

/** Time a client has to send a whole request (headers and body). */
const REQUEST_TIMEOUT_MS = 60_000;
const MAX_CONNECTIONS = 1_024;
const MAX_WEBSOCKETS = 256;
/** Calls one WebSocket may have running at once; more are answered "busy". */
const MAX_CALLS_PER_WEBSOCKET = 64;
const JSON_TYPE = 'application/json; charset=utf-8';

export interface JsonRpcServerOptions {
  services: NodeServices;
  logger: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token every request must carry; undefined = none (Mycelium's behaviour). */
  token?: string;
  version: string;
  /** Largest request (default: room for the largest message in base64). */
  maxRequestBytes?: number;
  /** Schemas for the OpenRPC document (default: those of API_MODULES). */
  modules?: readonly ApiModule[];
}


function rpcErrorText(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } });
}

export class JsonRpcServer {
  /** The OpenRPC document rpc.discover returns. */
  readonly document: Record<string, unknown>;
  private readonly opts: JsonRpcServerOptions;
  private readonly log: Logger;
  private readonly dispatcher: RpcDispatcher;
  private readonly server: Server;
  private readonly maxRequestBytes: number;
  private readonly sockets = new Set<Socket | Duplex>();
  private readonly websockets = new Set<WsConnection>();
  private readonly stopping = new AbortController();
  private bound: AddressInfo | undefined;

  constructor(opts: JsonRpcServerOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ component: 'jsonrpc' });
    this.maxRequestBytes = opts.maxRequestBytes ?? MAX_MESSAGE_BODY_BYTES;
    let document: Record<string, unknown> = {};
    const methods = rpcMethods(opts.services, () => document);
    const schemas: Record<string, JsonSchema> = {};
    for (const m of opts.modules ?? API_MODULES) Object.assign(schemas, m.schemas ?? {});
    document = openRpcDocument({ title: 'Hypha JSON-RPC API', version: opts.version, description: 'Mycelium-compatible JSON-RPC 2.0 API (HTTP POST and WebSocket); errors say what was wrong.' }, methods.values(), schemas);
    this.document = document;
    this.dispatcher = {
      methods,
      onInternalError: (name, e) => this.log.error({ method: name, err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'JSON-RPC handler failed'),
    };
    const server = createServer((req, res) => void this.onRequest(req, res));
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.maxConnections = MAX_CONNECTIONS;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nnot an HTTP request\n');
      else socket.destroy();
    });
    this.server = server;
  }

  /** undefined if the request may go on, else the reason it may not. */
  private unauthorized(req: IncomingMessage): string | undefined {
    const token = this.opts.token;
    if (token === undefined) return undefined;
    const header = req.headers.authorization;
    const given = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
    if (given !== undefined && sameToken(given, token)) return undefined;
    return given === undefined ? 'this node requires an API token: send "Authorization: Bearer <token>"' : 'wrong API token';
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    const denied = this.unauthorized(req);
    if (denied !== undefined) {
      send(401, 'text/plain; charset=utf-8', `${denied}\n`, { 'www-authenticate': 'Bearer realm="hypha"' });
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      send(405, 'text/plain; charset=utf-8', 'JSON-RPC: POST a JSON-RPC 2.0 request (or a batch) with Content-Type: application/json, or open a WebSocket\n', { allow: 'POST' });
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooBig = (): void => {
      // Answer, then drop the connection (the rest of the body is not read).
      res.once('finish', () => req.destroy());
      send(413, JSON_TYPE, rpcErrorText(INVALID_REQUEST, `invalid request: the request is over the limit of ${this.maxRequestBytes} bytes`), { connection: 'close' });
    };
    if (declared > this.maxRequestBytes) return tooBig();
    const chunks: Buffer[] = [];
    let size = 0;
    const body = await new Promise<Buffer | undefined>((resolve) => {
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.maxRequestBytes) {
          resolve(undefined);
          tooBig();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', () => resolve(undefined));
      req.on('close', () => resolve(undefined));
    });
    if (body === undefined) return;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      return send(200, JSON_TYPE, rpcErrorText(PARSE_ERROR, 'parse error: the request is not UTF-8 text'));
    }
    // Ends long waits when the caller goes away (or the server stops).
    const abort = new AbortController();
    const onStop = (): void => abort.abort();
    this.stopping.signal.addEventListener('abort', onStop);
    res.once('close', () => abort.abort());
    try {
      const out = await handleRpcText(this.dispatcher, text, { signal: abort.signal });
      if (out === undefined) {
        res.writeHead(204);
        res.end();
      } else send(200, JSON_TYPE, out);
    } finally {
      this.stopping.signal.removeEventListener('abort', onStop);
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: string, message: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\n${message}\n`);
    };
    const denied = this.unauthorized(req);
    if (denied !== undefined) return refuse('401 Unauthorized', denied);
    const key = req.headers['sec-websocket-key'];
    if (String(req.headers.upgrade).toLowerCase() !== 'websocket' || typeof key !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(key)) {
      return refuse('400 Bad Request', 'only WebSocket upgrades are served here (Upgrade: websocket with a Sec-WebSocket-Key)');
    }
    if (req.headers['sec-websocket-version'] !== '13') {
      socket.end('HTTP/1.1 426 Upgrade Required\r\nsec-websocket-version: 13\r\nconnection: close\r\n\r\n');
      return;
    }
    if (this.websockets.size >= MAX_WEBSOCKETS) return refuse('503 Service Unavailable', `${MAX_WEBSOCKETS} WebSockets are open already`);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\n\r\n`);
    const abort = new AbortController();
    const onStop = (): void => abort.abort();
    this.stopping.signal.addEventListener('abort', onStop);
    let calls = 0;
    const ws: WsConnection = new WsConnection(socket, head, {
      maxMessageBytes: this.maxRequestBytes,
      onMessage: (text) => {
        if (calls >= MAX_CALLS_PER_WEBSOCKET) {
          ws.sendText(rpcErrorText(RPC_BUSY, `${MAX_CALLS_PER_WEBSOCKET} calls are running on this WebSocket already; wait for an answer or open another connection`));
          return;
        }
        calls++;
        void handleRpcText(this.dispatcher, text, { signal: abort.signal }).then((out) => {
          calls--;
          if (out !== undefined) ws.sendText(out);
        });
      },
      onClose: () => {
        abort.abort();
        this.stopping.signal.removeEventListener('abort', onStop);
        this.websockets.delete(ws);
      },
    });
    this.websockets.add(ws);
  }

  /** Binds the address; rejects with a message that says what to change if it cannot. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = this.opts;
    await listenHttp(this.server, host, port, { what: 'JSON-RPC', flag: '--jsonrpc-addr', off: 'JSON-RPC' });
    this.bound = this.server.address() as AddressInfo;
    this.log.info({ url: this.url, auth: this.opts.token === undefined ? 'none' : 'bearer token' }, 'JSON-RPC listening');
    return this.bound;
  }

  /** "127.0.0.1:8990" once listening. */
  get address(): string | undefined {
    return addressText(this.bound);
  }

  get url(): string | undefined {
    return this.address === undefined ? undefined : `http://${this.address}`;
  }

  /** Stops listening, ends every wait and drops every connection. */
  async close(): Promise<void> {
    this.stopping.abort();
    for (const ws of this.websockets) ws.close(CLOSE_GOING_AWAY, 'the node is stopping');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
