/**
 * `GET /v1/health`: liveness, no authorizer. Answers `{ status: 'ok', version }` with
 * `Cache-Control: no-store` (a cached "ok" would hide an outage). It touches no table and no
 * upstream on purpose: readiness of dependencies is what the other routes' 503s report.
 */

import { routeParams, withHttp } from '../lib/http';
import pkg from '../package.json' with { type: 'json' };

export const handler = withHttp(async () => ({ body: { status: 'ok', version: pkg.version } }), {
  route: 'GET /v1/health',
  params: { 'GET /v1/health': routeParams({}) },
});
