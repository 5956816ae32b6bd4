// How a state key and value are shown to people: by the partyline's /get and /state and by `hypha state`.
// A module of its own so the CLI can format without loading the state service.
import { shortId } from '../identity/identity.ts';
import type { StateItem } from '../state/service.ts';

const MAX_VALUE_CHARS = 120;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A value as one line of text: UTF-8 text (control characters shown as escapes), otherwise 0x-hex. */
export function displayValue(v: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(v);
    // eslint-disable-next-line no-control-regex
    text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  } catch {
    text = `0x${Buffer.from(v).toString('hex')}`;
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}… (${v.length} bytes)` : text;
}

/** A key with its owner shortened to 12 characters: `56475aa75463/color`. */
export function displayKey(item: Pick<StateItem, 'owner' | 'subkey'>): string {
  return `${shortId(item.owner)}/${item.subkey}`;
}
