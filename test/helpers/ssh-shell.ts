// An ssh2 client logged into a partyline with a pty: what its terminal shows, typing, waiting for lines.
import type { TestContext } from 'node:test';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { screenLines, waitFor } from '../partyline/helpers.ts';

export interface Shell {
  client: ssh2.Client;
  stream: ClientChannel;
  raw: () => string;
  screen: () => string[];
  closed: () => boolean;
  type: (s: string) => void;
  /** Waits until `line` is a row of the screen. */
  see: (line: string, timeoutMs?: number) => Promise<void>;
  /** How many rows are exactly `line`. */
  count: (line: string) => number;
}

export function sshLogin(t: TestContext, port: number, username: string, privateKey: string | Buffer): Promise<Shell> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    t.after(() => client.end());
    client
      .on('ready', () => {
        client.shell({ term: 'xterm', cols: 120, rows: 40 }, (e, stream) => {
          if (e) return reject(e);
          let raw = '';
          let closed = false;
          stream.on('data', (d: Buffer) => (raw += d.toString('utf8')));
          stream.on('close', () => (closed = true));
          // Go's x/term turns the \n of a \r\n into another \r\n: fold runs of CR before LF.
          const screen = () => screenLines(raw.replace(/\r+\n/g, '\r\n'));
          resolve({
            client,
            stream,
            raw: () => raw,
            screen,
            closed: () => closed,
            type: (s) => stream.write(s),
            see: (line, timeoutMs = 30_000) => waitFor(() => screen().includes(line), `${JSON.stringify(line)} on ${username}'s screen:\n${screen().join('\n')}`, timeoutMs),
            count: (line) => screen().filter((r) => r === line).length,
          });
        });
      })
      .on('error', reject)
      .connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 20_000, hostVerifier: () => true });
  });
}

export interface PartylineShell {
  /** Types `command`, then waits until a line after it matches `until`; returns the lines printed since. */
  run(command: string, until: RegExp, timeoutMs?: number): Promise<string[]>;
  close(): void;
}

/** A partyline session for multi-process tests: log in, type a command, wait for the lines it prints. */
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
  const screenTail = () => screenLines(raw).slice(-20).join('\n');
  await waitFor(() => raw.includes(`[${username}]> `), `the prompt; screen:\n${screenTail()}`, 30_000);
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
