// Where a CLI command writes and which exit codes it returns: shared by every command module, and light
// (no node parts), so `hypha --help` and the client commands load quickly.

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout(text: string): void;
  /** Raw bytes to stdout (a message payload); without it they are written as UTF-8 text. */
  stdoutBytes?(bytes: Uint8Array): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CliIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stdoutBytes: (b) => void process.stdout.write(b),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
  };
}
