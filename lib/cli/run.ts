/**
 * The process entry of the `vend` CLI: runs {@link main} with this process's arguments and I/O and
 * sets the exit code. `bin/vend.js` imports this file (through tsx).
 */
import { main } from './main';

process.exitCode = await main(process.argv.slice(2));
