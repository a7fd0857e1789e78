/**
 * The process entry of the `vend` CLI: runs {@link main} with this process's arguments and I/O and
 * sets the exit code. It is the entry point of the built CLI (infra/build-cli.ts bundles it into
 * dist/cli/vend.mjs, which `bin/vend.js` imports); `npx tsx lib/cli/run.ts …` runs the sources.
 */
import { main } from './main';

// The SDK warns on stderr about Node 20's end of support; the CLI's stderr is for its own one line.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Ctrl-C outside a wait (or in the instant before a wait installs its own handler) ends the CLI
// with the documented 130 instead of Node's default signal death; inside a wait, main's own
// handler runs too and reports what was left as it was.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (process.listenerCount(signal) === 1) process.exit(130);
  });
}
process.exitCode = await main(process.argv.slice(2));
