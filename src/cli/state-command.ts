// The definitions of `hypha state get|set|del|list|watch` (arguments, flags, help); state.ts, which does the
// work, is loaded only when one of them runs.
import type { Command } from 'commander';
import { clientArgs, clientCommand, group, type ClientOpts } from './client-command.ts';
import type { CliIo } from './io.ts';
import type * as StateCli from './state.ts';

/** The implementations, loaded when a command runs. */
const load = (): Promise<typeof StateCli> => import('./state.ts');

interface StateOpts extends ClientOpts {
  value?: boolean;
  deleted?: boolean;
  file?: string;
  own?: boolean;
  limit?: string;
}

export function addStateCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const state = group(program, 'state', "read and write a running node's replicated state");
  clientCommand(state, 'get', 'show one key (a bare subkey is the node\'s own)')
    .argument('<key>', '<node_id>/<subkey>, <short id>/<subkey>, or a subkey of this node')
    .option('--value', 'print only the value (UTF-8 text), for scripts')
    .option('--deleted', 'show a deleted key\'s tombstone instead of "not found"')
    .action(async (key: string, opts: StateOpts) => setExit(await (await load()).stateGet(clientArgs(opts, io), key, { value: opts.value === true, deleted: opts.deleted === true })));
  clientCommand(state, 'set', 'write a key of the node\'s own namespace')
    .argument('<key>', 'a subkey (or <this node id>/<subkey>)')
    .argument('[value]', 'the value as text')
    .option('--file <path>', 'take the value\'s bytes from a file (- = stdin)')
    .action(async (key: string, value: string | undefined, opts: StateOpts) => setExit(await (await load()).stateSet(clientArgs(opts, io), key, value, opts.file)));
  clientCommand(state, 'del', 'delete a key of the node\'s own namespace')
    .argument('<key>', 'a subkey (or <this node id>/<subkey>)')
    .action(async (key: string, opts: StateOpts) => setExit(await (await load()).stateDel(clientArgs(opts, io), key)));
  clientCommand(state, 'list', 'list the state (keys, subkeys or short keys starting with a prefix)')
    .argument('[prefix]', 'a full "<node_id>/…" prefix, or a key/subkey prefix matched as /state does', '')
    .option('--own', 'only the node\'s own keys (the prefix is then a subkey prefix)')
    .option('--deleted', 'include deleted keys still remembered')
    .option('--limit <n>', 'show at most n entries')
    .action(async (prefix: string, opts: StateOpts) => {
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
        io.stderr(`hypha state list: --limit must be a whole number above 0, got ${JSON.stringify(opts.limit)}\n`);
        setExit(2);
        return;
      }
      setExit(await (await load()).stateList(clientArgs(opts, io), { prefix, own: opts.own === true, deleted: opts.deleted === true, limit }));
    });
  clientCommand(state, 'watch', 'print every change as it happens, until Ctrl-C (--json: one JSON change per line)')
    .argument('[prefix]', 'only keys starting with this (as for list)', '')
    .action(async (prefix: string, opts: StateOpts) => setExit(await (await load()).stateWatch(clientArgs(opts, io), prefix)));
}
