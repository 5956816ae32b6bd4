// Tag selectors address desired state to nodes by their tags ([node] tags).
//
//   selector := "*" | term ("," term)*        every term must hold (a conjunction)
//   term     := tag | "!" tag                 the node has / does not have the tag
//
// A tag is matched exactly (case-sensitive), so "region=EU" selects nodes tagged "region=EU" and "EU"
// selects nodes tagged "EU". Selectors sit in a state key (`<controller>/desired/<selector>/<name>`), so
// they cannot hold "/" or whitespace; a tag containing ",", "/", "!", "%" or "*" is written
// percent-encoded (%2C, %2F, %21, %25, %2A).
import { err, ok, type Result } from '../base/result.ts';

export interface SelectorTerm {
  tag: string;
  negated: boolean;
}

export interface Selector {
  /** The selector as written in the key. */
  text: string;
  /** Empty for "*": matches every node. */
  terms: SelectorTerm[];
}

export const MAX_SELECTOR_TERMS = 16;

export function parseSelector(text: string): Result<Selector> {
  if (text === '*') return ok({ text, terms: [] });
  if (text === '') return err('selector', 'empty selector');
  const parts = text.split(',');
  if (parts.length > MAX_SELECTOR_TERMS) return err('selector', `selector has ${parts.length} terms, at most ${MAX_SELECTOR_TERMS}`);
  const terms: SelectorTerm[] = [];
  for (const part of parts) {
    const negated = part.startsWith('!');
    const raw = negated ? part.slice(1) : part;
    if (raw === '') return err('selector', `selector ${JSON.stringify(text)} has an empty term`);
    if (raw.includes('*')) return err('selector', `selector ${JSON.stringify(text)}: "*" stands alone`);
    let tag: string;
    try {
      tag = decodeURIComponent(raw);
    } catch {
      return err('selector', `selector ${JSON.stringify(text)}: bad percent-encoding in ${JSON.stringify(raw)}`);
    }
    terms.push({ tag, negated });
  }
  return ok({ text, terms });
}

export function matchesSelector(sel: Selector, tags: readonly string[]): boolean {
  const have = new Set(tags);
  return sel.terms.every((t) => have.has(t.tag) !== t.negated);
}

/** A tag written so it can stand as one selector term (percent-encodes what the grammar reserves). */
export function encodeTagForSelector(tag: string): string {
  return tag.replace(/[%,/!*\s]/g, (c) => encodeURIComponent(c).replace('*', '%2A').replace('!', '%21'));
}

/** The value of `<node>/_tags`: the node's tags as a UTF-8 JSON array of strings. */
export function encodeTags(tags: readonly string[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([...tags]));
}

export function decodeTags(value: Uint8Array): string[] | undefined {
  try {
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
    if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) return undefined;
    return v as string[];
  } catch {
    return undefined;
  }
}
