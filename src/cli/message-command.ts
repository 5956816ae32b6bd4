// The definitions of `hypha message send|receive` (flags, help); message.ts, which does the work, is loaded
// only when one of them runs.
import { Option, type Command } from 'commander';
import { DEFAULT_DEADLINE_MS, MAX_WAIT_MS } from '../messages/waits.ts';
import { MAX_TOPIC_BYTES } from '../wire/mycelium/message.ts';
import { clientArgs, clientCommand, group, type ClientOpts } from './client-command.ts';
import type { CliIo } from './io.ts';

const LONGEST_WAIT_S = MAX_WAIT_MS / 1000;

function secondsOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser((v: string) => {
    const n = Number(v);
    // Checked (with a message) by the command; NaN marks a value that is not a number.
    return v.trim() === '' ? Number.NaN : n;
  });
}

/** Adds `message send` and `message receive`. */
export function addMessageCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const message = group(program, 'message', 'send and receive messages through a running node (Mycelium\'s message bus)');
  clientCommand(message, 'send', 'send a message to another node; with --wait, print its reply')
    .argument('<destination>', 'overlay IPv6 address (400::/7) or 64-hex public key of the receiving node')
    .argument('[message]', 'the message text (or give --msg-path)')
    .option('-w, --wait', 'wait for a reply and print it')
    .addOption(secondsOption('--timeout <seconds>', `with --wait: seconds to wait for the reply (default: as long as the node allows, ${LONGEST_WAIT_S} s)`))
    .option('-t, --topic <topic>', `topic of the message (text, at most ${MAX_TOPIC_BYTES} bytes); receivers can filter on it`)
    .option('--msg-path <file>', 'send the contents of this file (instead of the message argument)')
    .option('--reply-to <id>', 'send the message as the reply to message <id> (16 hex characters)')
    .addOption(secondsOption('--deadline <seconds>', `Hypha: seconds the node tries to deliver the message before giving up (default ${DEFAULT_DEADLINE_MS / 1000})`))
    .action(async (destination: string, text: string | undefined, opts: ClientOpts & { wait?: boolean; timeout?: number; topic?: string; msgPath?: string; replyTo?: string; deadline?: number }) => {
      const { messageSend } = await import('./message.ts');
      setExit(await messageSend({
        ...clientArgs(opts, io), destination, message: text, wait: opts.wait === true, timeout: opts.timeout, topic: opts.topic, msgPath: opts.msgPath, replyTo: opts.replyTo, deadline: opts.deadline,
      }));
    });
  clientCommand(message, 'receive', 'wait for a message and print it')
    .addOption(secondsOption('--timeout <seconds>', 'seconds to wait for a message (default: until one comes); exit 1 if none came'))
    .option('-t, --topic <topic>', 'only a message with exactly this topic (text)')
    .option('--msg-path <file>', 'write the payload to this file')
    .option('--raw', 'print only the payload, as it is')
    .action(async (opts: ClientOpts & { timeout?: number; topic?: string; msgPath?: string; raw?: boolean }) => {
      const { messageReceive } = await import('./message.ts');
      setExit(await messageReceive({ ...clientArgs(opts, io), timeout: opts.timeout, topic: opts.topic, msgPath: opts.msgPath, raw: opts.raw === true }));
    });
}
