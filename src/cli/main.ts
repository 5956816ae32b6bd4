// Entry point of bin/hypha.js. Exits explicitly: once the node has stopped nothing else should keep the
// process alive, and an exit code must not depend on handles a library forgot to release.
import { runCli } from './program.ts';

process.exit(await runCli(process.argv.slice(2)));
