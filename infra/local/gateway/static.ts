/**
 * The web console on the local gateway (issue 16): what CloudFront and its private S3 bucket do in
 * AWS, at `$VEND_URL/` beside the API. `GET /` is `index.html`, `GET /config.json` the app's
 * settings (the issuer, from serverless.yml's JWT authorizer, so the app signs in where the API
 * checks tokens), and the built files of `dist/web/` by their flat names. Nothing under `/v1` is
 * ever served from here: the gateway asks this module only when no route matched and the path is
 * outside `/v1/`.
 *
 * Every answer carries the same security headers as the CloudFront response headers policy in
 * serverless.yml (a spec compares the two): a CSP with no inline script or style, `connect-src`
 * limited to this origin and the issuer's, Trusted Types required (so no string can become markup),
 * `frame-ancestors 'none'`, `Referrer-Policy: no-referrer`, `nosniff`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { GatewayResponse } from './result';

/** The public client id the web console signs in with (registered at the issuer). */
export const WEB_CLIENT_ID = 'vend-web';

/** Settings of {@link createWebApp}. */
export interface WebAppOptions {
  /** The built app (`dist/web`). */
  dir: string;
  /** The OIDC issuer URL the app signs in at. */
  issuer: string;
  /** The group whose members see the Audit page (the API decides regardless). */
  auditorsGroup?: string;
}

/**
 * The Content-Security-Policy of the web console, for an issuer origin (`https://login.example.com`).
 * The same string is in serverless.yml's `WebSecurityHeaders` policy.
 *
 * @example webCsp('http://127.0.0.1:4566') // "default-src 'self'; … connect-src 'self' http://127.0.0.1:4566; …"
 */
export function webCsp(issuerOrigin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${issuerOrigin}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

/** The headers on every web console response (CloudFront: `WebSecurityHeaders`). */
export function webSecurityHeaders(issuerOrigin: string): Record<string, string> {
  return {
    'content-security-policy': webCsp(issuerOrigin),
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** Flat names only: no directory, no `..`, nothing encoded. */
const FILE_NAME = /^\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The web console's request handler: an answer for `GET`/`HEAD` of a static path, `undefined` for
 * anything it does not serve (the gateway then answers its own 404).
 *
 * @example
 * const web = createWebApp({ dir: 'dist/web', issuer: 'http://127.0.0.1:4566/oidc' });
 * await web('GET', '/') // { status: 200, headers: { 'content-type': 'text/html; …', … }, body }
 */
export function createWebApp(
  opts: WebAppOptions,
): (method: string, path: string) => Promise<GatewayResponse | undefined> {
  const issuerOrigin = new URL(opts.issuer).origin;
  const security = webSecurityHeaders(issuerOrigin);
  const config = Buffer.from(
    JSON.stringify({
      issuer: opts.issuer,
      clientId: WEB_CLIENT_ID,
      scope: 'openid profile email groups',
      auditorsGroup: opts.auditorsGroup ?? 'auditors',
    }),
  );
  const answer = (status: number, type: string, body: Buffer, cache: string): GatewayResponse => ({
    status,
    headers: { ...security, 'content-type': type, 'cache-control': cache },
    body,
  });
  return async (method, path) => {
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    if (path === '/v1' || path.startsWith('/v1/')) return undefined;
    if (path === '/config.json') return answer(200, TYPES['.json']!, config, 'no-cache');
    const name = path === '/' || path === '/index.html' ? '/index.html' : path;
    if (!FILE_NAME.test(name)) return undefined;
    // Only names the build wrote: the directory listing is the allow-list.
    let files: string[];
    try {
      files = await readdir(opts.dir);
    } catch {
      files = [];
    }
    if (!files.includes('index.html')) {
      return answer(
        503,
        'text/plain; charset=utf-8',
        Buffer.from('The web console is not built: run `npm run build:web` (npm ci does it too).\n'),
        'no-store',
      );
    }
    const file = name.slice(1);
    if (!files.includes(file)) return undefined;
    const body = await readFile(join(opts.dir, file));
    // Built assets carry a content hash in their name: cache them for good; revalidate the rest.
    const hashed = /-[A-Z0-9]{8}\.(js|css)$/.test(file);
    return answer(
      200,
      TYPES[extname(file)] ?? 'application/octet-stream',
      body,
      hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
  };
}
