// Preloaded with `node --import` by test/cli/startup.test.ts: at exit, writes every module the process
// loaded (one URL a line, after a marker) to stderr, so a test can check what a command pulls in.
import { registerHooks } from 'node:module';

export const LOADS_MARKER = '--- modules loaded ---';

const loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => process.stderr.write(`${LOADS_MARKER}\n${loaded.join('\n')}\n`));
