// Shared helpers for the partyline tests: a fake terminal for the hub, and a reader of what a real
// terminal would show for the bytes an SSH session received.
import type { SessionOutput } from '../../src/partyline/hub.ts';

export class FakeOutput implements SessionOutput {
  lines: string[] = [];
  closedWith: string | undefined;
  /** When true, every write reports a full buffer (a terminal that stopped reading). */
  slow = false;

  writeLine(line: string): boolean {
    this.lines.push(line);
    return !this.slow;
  }

  close(reason: string): void {
    this.closedWith = reason;
  }

  take(): string[] {
    const l = this.lines;
    this.lines = [];
    return l;
  }
}

/**
 * The rows a terminal ends up showing for raw session output: CSI sequences dropped, split on CRLF,
 * and within a row only what follows the last CR (a redraw overwrites the row from its start).
 */
export function screenLines(raw: string): string[] {
  return raw
    // eslint-disable-next-line no-control-regex -- terminal output is made of control sequences
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .split('\r\n')
    .map((row) => row.slice(row.lastIndexOf('\r') + 1));
}

/** Polls `cond` until it holds, failing after `timeoutMs` with `what`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
