/**
 * Vitest global setup: the tests that run `vend` as a user does (`node bin/vend.js`, test/e2e/cli,
 * the local stack's `vend dev token`) run the built CLI in dist/cli/, so it is rebuilt first when
 * any of its sources changed since the last build (`npm ci` builds it too, through `prepare`).
 */
import { ensureCliBuilt } from '../../infra/build-cli';

export default async function setup(): Promise<void> {
  await ensureCliBuilt((line) => process.stderr.write(`${line}\n`));
}
