// ChatMessage (msg_type 3) payloads: Micelio's {nick, text, timestamp}, plus one field only Hypha reads,
// the sending node's name. Micelio has no node names on the wire (PeerHello carries none), but a
// ChatMessage is signed by its originator and relayed verbatim, so a name carried inside it arrives
// authentic to that node (it is what the node calls itself, not a verified identity — like a nick).
// Go decodes the message and ignores the unknown field; Hypha shows the line as `[nick@name] text`.
import { create } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ok, type Result } from '../../base/result.ts';
import { ChatMessageSchema } from '../gen/micelio_pb.ts';
import { decodeMessage, encodeMessage } from './codec.ts';

/**
 * Field number of the Hypha-only `origin_name` string in ChatMessage. Far above Micelio's 1–3, so a
 * field Micelio adds later will not collide with it.
 */
export const CHAT_ORIGIN_NAME_FIELD = 1000;
/** Longest origin name sent, in characters (the config allows 64). */
export const MAX_CHAT_ORIGIN_NAME_CHARS = 64;

export interface ChatPayload {
  nick: string;
  text: string;
  /** Unix seconds (Micelio sends it; nobody uses it). */
  timestampSec: bigint;
  /** The sending node's name, when a Hypha node sent it. */
  originName?: string;
}

export function encodeChatMessage(c: { nick: string; text: string; timestampSec: number | bigint; originName?: string }): Uint8Array {
  const ts = typeof c.timestampSec === 'bigint' ? c.timestampSec : BigInt(Math.max(0, Math.floor(c.timestampSec)));
  const msg = create(ChatMessageSchema, { nick: c.nick, text: c.text, timestamp: BigInt.asUintN(64, ts) });
  const name = c.originName === undefined ? '' : [...c.originName].slice(0, MAX_CHAT_ORIGIN_NAME_CHARS).join('');
  if (name !== '') {
    msg.$unknown = [{ no: CHAT_ORIGIN_NAME_FIELD, wireType: WireType.LengthDelimited, data: new BinaryWriter().string(name).finish() }];
  }
  return encodeMessage(ChatMessageSchema, msg);
}

/** Decodes a ChatMessage payload; an unreadable origin name is ignored, not an error. */
export function decodeChatMessage(bytes: Uint8Array): Result<ChatPayload> {
  const r = decodeMessage(ChatMessageSchema, bytes);
  if (!r.ok) return r;
  const out: ChatPayload = { nick: r.value.nick, text: r.value.text, timestampSec: r.value.timestamp };
  for (const f of r.value.$unknown ?? []) {
    if (f.no !== CHAT_ORIGIN_NAME_FIELD || f.wireType !== WireType.LengthDelimited) continue;
    try {
      out.originName = new BinaryReader(f.data).string();
    } catch {
      // A malformed extension is the sender's problem; the line itself is fine.
    }
  }
  return ok(out);
}
