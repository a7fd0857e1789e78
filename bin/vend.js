#!/usr/bin/env node
// The `vend` package bin. It runs the CLI as built by `npm run build:cli` (infra/build-cli.ts) into
// dist/cli/: plain JavaScript, no TypeScript compiled at start. `npm ci`, `npm install` and
// `npm pack` build it through the `prepare` script. Kept as a separate small file so the path that
// AWS profiles name (`credential_process = node …/bin/vend.js …`) does not change with the build.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/vend.mjs', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write(
    'vend: the CLI is not built: run npm run build:cli (npm ci does it) in the vend package\n',
  );
  process.exitCode = 2;
}
