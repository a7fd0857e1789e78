#!/usr/bin/env node
// The `vend` package bin: a small launcher that runs the TypeScript sources through tsx's ESM API.
// For now it only knows `vend dev token` (lib/cli/dev-token.ts); the full CLI (lib/cli/main.ts,
// CONTRACT §5) replaces that import when it lands.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../lib/cli/dev-token.ts');
process.exitCode = await main(process.argv.slice(2));
