// Decoders never throw on bad input from the network: they return a Result whose error says what was
// wrong, so the caller can close one link or drop one packet and log why (DESIGN.md, "Bytes in, typed
// result out").

export interface DecodeError {
  /** Stable, machine-readable reason, e.g. "bad-magic", "too-large", "truncated". */
  code: string;
  /** Human text for logs: what was wrong, with the offending value where useful. */
  message: string;
}

export type Result<T, E = DecodeError> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err(code: string, message: string): { ok: false; error: DecodeError } {
  return { ok: false, error: { code, message } };
}
