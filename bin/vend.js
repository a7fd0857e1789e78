#!/usr/bin/env node
// The `vend` package bin: runs the CLI's TypeScript sources (lib/cli) through tsx's ESM loader, so
// the CLI in a checkout is always the code next to it. lib/cli/run.ts sets the exit code.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../lib/cli/run.ts');
