// A small client for the node's HTTP API (the CLI's `peers`, `routes` and `stats` commands use it). Errors
// are typed so the CLI can say what to do: the node is not running, a token is needed, or the node refused
// the request with a message.
import { request as httpRequest } from 'node:http';
import { API_PREFIX } from './openapi.ts';

export const DEFAULT_CLIENT_TIMEOUT_MS = 10_000;

export interface ApiClientOptions {
  /** host:port of the API, e.g. "127.0.0.1:8989" or "[::1]:8989". */
  address: string;
  token?: string;
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  /** The body as text ("" for 204). */
  text: string;
}

/** The node could not be reached at all. */
export class ApiUnreachableError extends Error {
  readonly address: string;
  readonly code: string | undefined;
  constructor(address: string, code: string | undefined, detail: string) {
    const why = code === 'ECONNREFUSED' ? 'connection refused'
      : code === 'TIMEOUT' ? 'no answer in time'
        : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? 'host unreachable'
          : detail;
    super(`cannot reach the Hypha API at http://${address}: ${why} — is the node running? start it with \`hypha run\` (or point --api-addr at it)`);
    this.name = 'ApiUnreachableError';
    this.address = address;
    this.code = code;
  }
}

/** The node answered with an error status; `message` is its text. */
export class ApiStatusError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiStatusError';
    this.status = status;
  }
}

function causeCode(e: unknown): string | undefined {
  let c: unknown = e;
  for (let i = 0; i < 4 && c !== undefined && c !== null; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

export class ApiClient {
  private readonly opts: ApiClientOptions;

  constructor(opts: ApiClientOptions) {
    this.opts = opts;
  }

  /** Sends one request to `${API_PREFIX}${path}`; resolves with any status, rejects only if the node is unreachable. */
  async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`http://${this.opts.address}${API_PREFIX}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS),
      });
    } catch (e) {
      const timedOut = (e as { name?: string }).name === 'TimeoutError';
      throw new ApiUnreachableError(this.opts.address, timedOut ? 'TIMEOUT' : causeCode(e), e instanceof Error ? e.message : String(e));
    }
    return { status: res.status, text: await res.text() };
  }

  /**
   * As request(), for calls that may wait long (a long-poll, a push waiting for its reply): over node:http,
   * whose only limit is `timeoutMs` (fetch gives up when the headers take more than 300 s).
   */
  requestLong(method: string, path: string, body: unknown, timeoutMs: number): Promise<ApiResponse> {
    const url = new URL(`http://${this.opts.address}${API_PREFIX}${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string | number> = {};
    if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const signal = AbortSignal.timeout(timeoutMs);
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers,
        signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(new ApiUnreachableError(this.opts.address, causeCode(e), e.message)));
      });
      req.on('error', (e) => {
        const timedOut = signal.aborted;
        reject(new ApiUnreachableError(this.opts.address, timedOut ? 'TIMEOUT' : causeCode(e), e.message));
      });
      req.end(payload);
    });
  }

  /**
   * Opens a long-lived GET (a text/event-stream) that ends only when `signal` aborts or the node closes it: no
   * timeout once connected. An error status becomes ApiStatusError with the node's message.
   */
  async openStream(path: string, signal: AbortSignal, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { accept: 'text/event-stream', ...headers };
    if (this.opts.token !== undefined) h.authorization = `Bearer ${this.opts.token}`;
    // The connect timeout covers the answer's headers only; the body streams for as long as it lasts.
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) ac.abort(signal.reason);
    const connect = AbortSignal.timeout(this.opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS);
    const onTimeout = () => ac.abort(connect.reason);
    connect.addEventListener('abort', onTimeout, { once: true });
    let res: Response;
    try {
      res = await fetch(`http://${this.opts.address}${API_PREFIX}${path}`, { headers: h, signal: ac.signal });
    } catch (e) {
      if (signal.aborted) throw e;
      throw new ApiUnreachableError(this.opts.address, connect.aborted ? 'TIMEOUT' : causeCode(e), e instanceof Error ? e.message : String(e));
    } finally {
      connect.removeEventListener('abort', onTimeout);
    }
    if (res.status !== 200) throw statusError({ status: res.status, text: await res.text() });
    return res;
  }

  /** GET returning parsed JSON; an error status becomes ApiStatusError with the node's message. */
  async getJson<T>(path: string): Promise<T> {
    const r = await this.request('GET', path);
    if (r.status !== 200) throw statusError(r);
    try {
      return JSON.parse(r.text) as T;
    } catch {
      throw new ApiStatusError(r.status, `the node sent something that is not JSON: ${r.text.slice(0, 200)}`);
    }
  }
}

export function statusError(r: ApiResponse): ApiStatusError {
  const msg = r.text.trim();
  if (r.status === 401) {
    return new ApiStatusError(401, `${msg || 'unauthorized'} (give the node's token file with --api-token-file)`);
  }
  return new ApiStatusError(r.status, msg === '' ? `the node answered ${r.status}` : msg);
}

/** One server-sent event as a client reads it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** The events of a text/event-stream body, in order, until it ends (comments skipped). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = '';
  let ev: { id?: string; event?: string; data: string[] } = { data: [] };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (ev.data.length > 0 || ev.event !== undefined) yield { ...(ev.id === undefined ? {} : { id: ev.id }), event: ev.event ?? 'message', data: ev.data.join('\n') };
        ev = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') ev.data.push(value);
      else if (field === 'event') ev.event = value;
      else if (field === 'id') ev.id = value;
    }
  }
}
