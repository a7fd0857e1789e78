/**
 * `npm run package`: packages the service offline with osls + serverless-esbuild, exactly as a
 * deployment would, into `.serverless/` (or `--out DIR`). Nothing is uploaded.
 *
 * The JWT authorizer's issuer is part of the template, so packaging needs `VEND_OIDC_ISSUER`. When it
 * is unset (CI, a first look), the template is built for `https://issuer.invalid` and this script
 * says so: that artifact proves the build, it is not one to deploy.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args[outIndex + 1] : undefined;
const stage = process.env.VEND_STAGE ?? 'dev';

const env: NodeJS.ProcessEnv = {
  ...process.env,
  SLS_TELEMETRY_DISABLED: '1',
  SLS_NOTIFICATIONS_MODE: 'off',
};
if (!env.VEND_OIDC_ISSUER) {
  env.VEND_OIDC_ISSUER = 'https://issuer.invalid';
  console.error('package: VEND_OIDC_ISSUER is not set; building for https://issuer.invalid (not deployable)');
}

const result = spawnSync(
  process.execPath,
  [
    fileURLToPath(new URL('../node_modules/osls/bin/serverless.js', import.meta.url)),
    'package',
    '--stage',
    stage,
    ...(out ? ['--package', out] : []),
  ],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
