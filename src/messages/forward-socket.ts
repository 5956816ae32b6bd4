// Hands a message to a local program over a Unix socket (reference §5.3): connect, write the payload,
// read the reply until the program closes the connection. As in Mycelium the write side stays open (a
// program written for Mycelium replies without waiting for end of input). Unlike Mycelium, reading the
// reply has a deadline too, and the reply has a size limit.
import { createConnection } from 'node:net';
import type { Clock } from '../base/clock.ts';
import { err, ok, type Result } from '../base/result.ts';

export interface ForwardOptions {
  clock: Clock;
  /** Connect and write the payload within this (Mycelium: 5 s for the write). */
  writeTimeoutMs: number;
  /** Then the whole reply must arrive within this. */
  replyTimeoutMs: number;
  maxReplyBytes: number;
  /** Ends the exchange early (the node is stopping). */
  signal?: AbortSignal;
}

export const FORWARD_WRITE_TIMEOUT_MS = 5_000;
export const FORWARD_REPLY_TIMEOUT_MS = 30_000;

/**
 * Resolves to the reply bytes, or an error (code: connect, write-timeout, reply-timeout, too-large,
 * no-reply, io) whose message names the socket and what went wrong.
 */
export function forwardToSocket(path: string, payload: Uint8Array, opts: ForwardOptions): Promise<Result<Uint8Array>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    let connected = false;
    const sock = createConnection({ path, allowHalfOpen: true });
    const onAbort = (): void => finish(err('aborted', `forward socket ${path}: abandoned, the node is stopping`));
    const finish = (r: Result<Uint8Array>): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      opts.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(r);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let timer = opts.clock.setTimeout(
      () => finish(err('write-timeout', `forward socket ${path}: could not ${connected ? 'write the message' : 'connect'} within ${opts.writeTimeoutMs} ms`)),
      opts.writeTimeoutMs,
    );
    sock.on('connect', () => {
      connected = true;
      sock.write(payload, (e) => {
        if (e || settled) return;
        timer.cancel();
        timer = opts.clock.setTimeout(() => finish(err('reply-timeout', `forward socket ${path}: no complete reply within ${opts.replyTimeoutMs} ms`)), opts.replyTimeoutMs);
      });
    });
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes > opts.maxReplyBytes) {
        finish(err('too-large', `forward socket ${path}: reply exceeds ${opts.maxReplyBytes} bytes`));
        return;
      }
      chunks.push(d);
    });
    sock.on('end', () => {
      if (bytes === 0) finish(err('no-reply', `forward socket ${path}: closed without a reply`));
      else finish(ok(new Uint8Array(Buffer.concat(chunks, bytes))));
    });
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const what = connected ? 'I/O error' : 'cannot connect';
      finish(err(connected ? 'io' : 'connect', `forward socket ${path}: ${what}: ${e.code ?? e.message}`));
    });
  });
}
