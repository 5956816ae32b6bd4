// `hypha message send|receive`: Mycelium's message commands (reference §6) against a running node's HTTP
// API. The flags are Mycelium's; by default the output is for people, and with --json it is exactly what
// Mycelium's CLI prints (a message as {"id","srcIp","srcPk","dstIp","dstPk","topic"?,"payload"?}, topic
// and payload as text when they are UTF-8, else base64; a sent message as {"id"}), so scripts written for
// `mycelium message` read it unchanged.
//
// Exit codes: 0 done; 1 the node refused, could not be reached, or nothing came in time (no message, no
// reply); 2 bad usage (a bad destination, topic or file).
import { readFile, writeFile } from 'node:fs/promises';
import { ApiStatusError, statusError, type ApiClient, type ApiResponse } from '../api/client.ts';
import { base64, fromBase64, parseDestination, parseMessageId, type Destination, type InboundMessageJson } from '../messages/index.ts';
import { MAX_WAIT_MS } from '../messages/waits.ts';
import { MAX_TOPIC_BYTES } from '../wire/mycelium/message.ts';
import { printJson, withClient, type ClientArgs } from './admin.ts';

/** Waits longer than this (Mycelium's CLI waits "forever") are cut to the node's longest, and repeated for receive. */
const LONGEST_WAIT_S = MAX_WAIT_MS / 1000;
/** Time on top of a wait for the request itself. */
const REQUEST_MARGIN_MS = 30_000;

export interface SendArgs extends ClientArgs {
  destination: string;
  message?: string;
  wait: boolean;
  /** Seconds to wait for the reply (with --wait); undefined = as long as the node allows. */
  timeout?: number;
  topic?: string;
  msgPath?: string;
  replyTo?: string;
  /** Seconds the node tries to deliver the message (Hypha extension). */
  deadline?: number;
}

export interface ReceiveArgs extends ClientArgs {
  /** Seconds to wait; undefined = until a message comes. */
  timeout?: number;
  topic?: string;
  msgPath?: string;
  raw: boolean;
}

type Usage = { ok: true } | { ok: false; message: string };

/** DEST as Mycelium's CLI takes it: 64 hex characters are a public key, anything else an overlay IPv6 address. */
export function parseDest(text: string): { ok: true; value: Destination } | { ok: false; message: string } {
  const d: Destination = text.length === 64 ? { pk: text } : { ip: text };
  const r = parseDestination(d);
  if (!r.ok) return { ok: false, message: `${r.error.message} (DEST is an overlay IPv6 address in 400::/7 or a 64-hex public key)` };
  return { ok: true, value: d };
}

function topicBytes(topic: string | undefined): { ok: true; value: Uint8Array | undefined } | { ok: false; message: string } {
  if (topic === undefined) return { ok: true, value: undefined };
  const b = Buffer.from(topic, 'utf8');
  if (b.length > MAX_TOPIC_BYTES) return { ok: false, message: `the topic is ${b.length} bytes; at most ${MAX_TOPIC_BYTES}` };
  return { ok: true, value: new Uint8Array(b) };
}

function seconds(name: string, v: number | undefined, min: number): Usage {
  if (v === undefined || (Number.isFinite(v) && v >= min)) return { ok: true };
  return { ok: false, message: `--${name} must be a number of seconds ≥ ${min}` };
}

/** Text when the bytes are UTF-8 (Mycelium's String::from_utf8), else base64. */
function textOrBase64(b: Uint8Array): { text: string; utf8: boolean } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(b), utf8: true };
  } catch {
    return { text: base64(b), utf8: false };
  }
}

interface Received {
  json: InboundMessageJson;
  topic: Uint8Array | undefined;
  payload: Uint8Array;
}

function idOf(text: string): string {
  try {
    const { id } = JSON.parse(text) as { id?: unknown };
    if (typeof id === 'string') return id;
  } catch {
    // reported below
  }
  throw new ApiStatusError(200, `the node sent no message id: ${text.slice(0, 200)}`);
}

function readMessage(text: string): Received {
  let json: InboundMessageJson;
  try {
    json = JSON.parse(text) as InboundMessageJson;
  } catch {
    throw new ApiStatusError(200, `the node sent something that is not JSON: ${text.slice(0, 200)}`);
  }
  const payload = fromBase64(json.payload ?? '');
  const topic = json.topic === undefined ? undefined : fromBase64(json.topic);
  if (payload === undefined || (json.topic !== undefined && topic === undefined)) throw new ApiStatusError(200, 'the node sent a message whose payload or topic is not base64');
  return { json, topic, payload };
}

/** Mycelium's CliMessage: topic and payload as text or base64; payload left out once written to a file. */
function cliMessage(m: Received, withPayload: boolean): Record<string, string> {
  const out: Record<string, string> = { id: m.json.id, srcIp: m.json.srcIp, srcPk: m.json.srcPk, dstIp: m.json.dstIp, dstPk: m.json.dstPk };
  if (m.topic !== undefined) out.topic = textOrBase64(m.topic).text;
  if (withPayload) out.payload = textOrBase64(m.payload).text;
  return out;
}

/** A message for people: who sent it, the topic, and the payload (or where it was written). */
function describeMessage(m: Received, writtenTo: string | undefined): string {
  const lines = [`Message ${m.json.id} from ${m.json.srcIp} (public key ${m.json.srcPk})`];
  if (m.topic !== undefined) {
    const t = textOrBase64(m.topic);
    lines.push(`Topic: ${t.utf8 ? t.text : `${t.text} (base64: not UTF-8)`}`);
  }
  const size = `${m.payload.length} byte${m.payload.length === 1 ? '' : 's'}`;
  if (writtenTo !== undefined) lines.push(`Payload: ${size}, written to ${writtenTo}`);
  else {
    const p = textOrBase64(m.payload);
    lines.push(p.utf8 ? `Payload (${size}):` : `Payload (${size}, not UTF-8, in base64):`, p.text);
  }
  return `${lines.join('\n')}\n`;
}

function fail(args: ClientArgs, cmd: string, message: string, code: number): number {
  args.io.stderr(`hypha message ${cmd}: ${message}\n`);
  return code;
}

async function writePayload(args: ClientArgs, cmd: string, path: string, payload: Uint8Array): Promise<boolean> {
  try {
    await writeFile(path, payload);
    return true;
  } catch (e) {
    fail(args, cmd, `cannot write the payload to ${path}: ${(e as Error).message}`, 1);
    return false;
  }
}

export async function messageSend(a: SendArgs): Promise<number> {
  const usage = (m: string) => fail(a, 'send', m, 2);
  if (a.wait && a.replyTo !== undefined) return usage('--wait and --reply-to cannot be combined: a reply gets no reply');
  const dst = parseDest(a.destination);
  if (!dst.ok) return usage(dst.message);
  const topic = topicBytes(a.topic);
  if (!topic.ok) return usage(topic.message);
  for (const c of [seconds('timeout', a.timeout, 0), seconds('deadline', a.deadline, 0.001)]) if (!c.ok) return usage(c.message);
  if (a.replyTo !== undefined) {
    const id = parseMessageId(a.replyTo);
    if (!id.ok) return usage(`--reply-to: ${id.error.message}`);
  }
  let payload: Uint8Array;
  if (a.msgPath !== undefined) {
    try {
      payload = await readFile(a.msgPath);
    } catch (e) {
      return usage(`cannot read --msg-path ${a.msgPath}: ${(e as Error).message}`);
    }
  } else if (a.message !== undefined) payload = new Uint8Array(Buffer.from(a.message, 'utf8'));
  else return usage('give the message as an argument after DEST, or in a file with --msg-path');

  const body = { dst: dst.value, ...(topic.value !== undefined ? { topic: base64(topic.value) } : {}), payload: base64(payload) };
  const query: string[] = [];
  const waitS = a.wait ? Math.min(a.timeout ?? LONGEST_WAIT_S, LONGEST_WAIT_S) : undefined;
  if (waitS !== undefined) query.push(`reply_timeout=${Math.ceil(waitS)}`);
  if (a.deadline !== undefined) query.push(`deadline=${a.deadline}`);
  const qs = query.length > 0 ? `?${query.join('&')}` : '';
  const timeoutMs = (waitS ?? 0) * 1000 + REQUEST_MARGIN_MS;
  return withClient('message send', { ...a, timeoutMs }, async (client: ApiClient) => {
    if (a.replyTo !== undefined) {
      const r = await client.requestLong('POST', `/messages/reply/${encodeURIComponent(a.replyTo)}${qs}`, body, timeoutMs);
      if (r.status !== 204) throw statusError(r);
      if (a.json) printJson(a.io, { id: a.replyTo });
      else a.io.stdout(`replied to message ${a.replyTo} (${payload.length} bytes to ${a.destination})\n`);
      return 0;
    }
    const r: ApiResponse = await client.requestLong('POST', `/messages${qs}`, body, timeoutMs);
    if (r.status === 201 || r.status === 408) {
      const id = idOf(r.text);
      if (a.json) a.io.stdout(`${JSON.stringify({ id })}\n`);
      if (r.status === 201) {
        if (!a.json) a.io.stdout(`sent message ${id} (${payload.length} bytes to ${a.destination})\n`);
        return 0;
      }
      return fail(a, 'send', `no reply within ${waitS} s; message ${id} is still being delivered`, 1);
    }
    if (r.status !== 200) throw statusError(r);
    const reply = readMessage(r.text);
    if (a.json) a.io.stdout(`${JSON.stringify(cliMessage(reply, true))}\n`);
    else a.io.stdout(`Reply to ${describeMessage(reply, undefined).slice('Message '.length)}`);
    return 0;
  });
}

export async function messageReceive(a: ReceiveArgs): Promise<number> {
  const usage = (m: string) => fail(a, 'receive', m, 2);
  const topic = topicBytes(a.topic);
  if (!topic.ok) return usage(topic.message);
  const t = seconds('timeout', a.timeout, 0);
  if (!t.ok) return usage(t.message);
  const topicQuery = topic.value === undefined ? '' : `&topic=${encodeURIComponent(base64(topic.value))}`;
  return withClient('message receive', a, async (client: ApiClient) => {
    // Without --timeout, wait until a message comes: one long-poll after another.
    let left = a.timeout;
    let r: ApiResponse;
    for (;;) {
      const waitS = Math.min(left ?? LONGEST_WAIT_S, LONGEST_WAIT_S);
      r = await client.requestLong('GET', `/messages?timeout=${Math.ceil(waitS)}${topicQuery}`, undefined, waitS * 1000 + REQUEST_MARGIN_MS);
      if (r.status !== 204) break;
      if (left !== undefined) {
        left -= waitS;
        if (left <= 0) return fail(a, 'receive', `no message${a.topic === undefined ? '' : ` with topic ${JSON.stringify(a.topic)}`} within ${a.timeout} s`, 1);
      }
    }
    if (r.status !== 200) throw statusError(r);
    const m = readMessage(r.text);
    if (a.msgPath !== undefined && !(await writePayload(a, 'receive', a.msgPath, m.payload))) return 1;
    if (a.raw) {
      // Mycelium: the payload as it is, then a newline; nothing when it went to a file.
      if (a.msgPath === undefined) {
        if (a.io.stdoutBytes) a.io.stdoutBytes(m.payload);
        else a.io.stdout(Buffer.from(m.payload).toString('utf8'));
        a.io.stdout('\n');
      }
      return 0;
    }
    if (a.json) a.io.stdout(`${JSON.stringify(cliMessage(m, a.msgPath === undefined))}\n`);
    else a.io.stdout(describeMessage(m, a.msgPath));
    return 0;
  });
}
