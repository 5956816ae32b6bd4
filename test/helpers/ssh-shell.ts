// A partyline session over real SSH for multi-process tests: log in, type a command, wait for the lines
// it prints.
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';

/** What a terminal shows for raw session output (see test/partyline/helpers.ts). */
function screenLines(raw: string): string[] {
  return raw
    // eslint-disable-next-line no-control-regex -- terminal output is made of control sequences
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .split('\r\n')
    .map((row) => row.slice(row.lastIndexOf('\r') + 1));
}

export interface PartylineShell {
  /** Types `command`, then waits until a line after it matches `until`; returns the lines printed since. */
  run(command: string, until: RegExp, timeoutMs?: number): Promise<string[]>;
  close(): void;
}

export async function openShell(port: number, privateKey: string, username = 'tester'): Promise<PartylineShell> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.on('ready', () => resolve()).on('error', reject).connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 30_000, hostVerifier: () => true });
  });
  const stream = await new Promise<ClientChannel>((resolve, reject) => {
    client.shell({ term: 'xterm', cols: 200, rows: 50 }, (e, s) => (e ? reject(e) : resolve(s)));
  });
  let raw = '';
  stream.on('data', (d: Buffer) => (raw += d.toString('utf8')));
  const waitFor = async (cond: () => boolean, what: string, timeoutMs: number): Promise<void> => {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; screen:\n${screenLines(raw).slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await waitFor(() => raw.includes(`[${username}]> `), 'the prompt', 30_000);
  return {
    async run(command, until, timeoutMs = 30_000) {
      const mark = raw.length;
      stream.write(`${command}\r`);
      let lines: string[] = [];
      await waitFor(() => {
        lines = screenLines(raw.slice(mark)).slice(1);
        return lines.some((l) => until.test(l));
      }, `${JSON.stringify(command)} to print ${until}`, timeoutMs);
      return lines;
    },
    close() {
      stream.close();
      client.end();
    },
  };
}
