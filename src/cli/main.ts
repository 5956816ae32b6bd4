// Entry point of bin/hypha.js. Exits explicitly: once the node has stopped nothing else should keep the
// process alive, and an exit code must not depend on handles a library forgot to release. Writes to a pipe
// are asynchronous, so the exit waits until stdout and stderr are flushed (a message payload can be MiBs).
import { runCli } from './program.ts';

const code = await runCli(process.argv.slice(2));
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
