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
