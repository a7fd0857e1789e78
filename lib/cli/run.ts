/**
 * The process entry of the `vend` CLI: runs {@link main} with this process's arguments and I/O and
 * sets the exit code. `bin/vend.js` imports this file (through tsx).
 */
import { main } from './main';

// The SDK warns on stderr about Node 20's end of support; the CLI's stderr is for its own one line.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await main(process.argv.slice(2));
