/**
 * Vitest setup file (vitest.config.ts `setupFiles`): wires the suite-wide leak scanner
 * (./scanner.ts) into every test file.
 *
 * 1. Taps process.stdout/stderr: every log line of the handlers (Powertools Logger) and the stack.
 * 2. Wraps the global fetch: every response body a test receives; person tokens sent in
 *    `Authorization: Bearer` and the credentials of 200 credentials answers become secrets.
 * 3. Once a local stack runs in the file (its environment is in process.env), taps vend's own
 *    DynamoDB client (lib/wiring/clients.ts, the instance the in-process handlers use) for every write to
 *    the audit table; the broker's own keys become secrets.
 * 4. afterAll: fails the file on any finding.
 */
import { afterAll, beforeEach, expect } from 'vitest';
import { demoExternalIds, describeFinding, leaks } from './scanner';

const scanner = leaks();
for (const id of demoExternalIds()) scanner.secret(id, 'ExternalId');

// 1. Logs.
for (const stream of [process.stdout, process.stderr]) {
  const original = stream.write;
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    scanner.log(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof stream.write;
}

// 2. Responses.
const realFetch = globalThis.fetch;
const bearerOf = (init: RequestInit | undefined, input: unknown): string | undefined => {
  const headers = new Headers(
    init?.headers ?? (input instanceof Request ? input.headers : undefined) ?? undefined,
  );
  // API Gateway also takes the token without the `Bearer` prefix, so tests send it both ways.
  const value = (headers.get('authorization') ?? '').replace(/^Bearer\s+/i, '').trim();
  return /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(value) ? value : undefined;
};
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const token = bearerOf(init, input);
  if (token) scanner.secret(token, 'JWT');
  const res = await realFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const where = `${method} ${url.pathname} (${res.status})`;
  // A body the test aborted or never read is one that nothing arrived from, so errors are dropped.
  if (res.body)
    scanner.track(
      res
        .clone()
        .text()
        .then((body) => record(where, url.pathname, res.status, body, token)),
    );
  return res;
};

/**
 * Legitimate places, never scanned: a 200 that IS a credentials document (vend's `{credentials}`
 * answer, or the container-credentials shape `{AccessKeyId, SecretAccessKey, Token}` that
 * `vend serve` hands to local processes), and a 200 token response of a token endpoint
 * (`{access_token}` from the local issuer). Their secrets are registered, so they may appear
 * nowhere else. A response is also not scanned for the caller's own bearer token (an echo of what
 * the test itself sent, e.g. a gateway spec's echo handler); logs still are.
 */
function record(where: string, path: string, status: number, body: string, ownToken?: string): void {
  let json: Record<string, unknown> | undefined;
  if (/SecretAccessKey|access_token|id_token/.test(body)) {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
    } catch {
      json = undefined;
    }
  }
  const nested = json?.credentials as Record<string, unknown> | undefined;
  const credentials =
    nested && typeof nested === 'object' && 'SecretAccessKey' in nested
      ? nested
      : json && 'SecretAccessKey' in json
        ? json
        : undefined;
  if (credentials) {
    scanner.issued({
      SecretAccessKey: credentials.SecretAccessKey,
      SessionToken: credentials.SessionToken ?? credentials.Token,
    });
  }
  const tokens = [json?.access_token, json?.id_token, json?.refresh_token].filter(
    (t): t is string => typeof t === 'string',
  );
  for (const t of tokens) scanner.secret(t, 'JWT');
  const legitimate =
    status === 200 && (credentials !== undefined || (tokens.length > 0 && /\/token$/.test(path)));
  if (legitimate) return;
  scanner.response(where, ownToken ? body.split(ownToken).join("[the caller's own token]") : body);
}

// 3. Audit records (and the broker's own keys), once a stack has put its environment in place.
let tapped = false;
beforeEach(async () => {
  if (tapped) return;
  const env = process.env;
  const needed = [
    'AWS_ENDPOINT_URL',
    'VEND_AUDIT_TABLE',
    'VEND_ENTITLEMENTS_TABLE',
    'VEND_REQUESTS_TABLE',
    'VEND_OIDC_ISSUER',
  ];
  if (!needed.every((k) => env[k]) || !(env.AWS_REGION || env.AWS_DEFAULT_REGION)) return;
  tapped = true;
  scanner.secret(env.VEND_SLACK_SIGNING_SECRET, 'Slack signing secret');
  scanner.secret(env.AWS_SECRET_ACCESS_KEY, 'broker SecretAccessKey');
  scanner.secret(env.AWS_SESSION_TOKEN, 'broker SessionToken');
  const table = env.VEND_AUDIT_TABLE!;
  const { dynamodb } = await import('../../../lib/wiring/clients');
  dynamodb.middlewareStack?.add(
    (next) => async (args) => {
      const text = JSON.stringify(args.input);
      if (text.includes(table)) scanner.audit(`written to ${table}`, text);
      return next(args);
    },
    { step: 'initialize', name: 'leakScannerAudit' },
  );
});

// 4. Judge.
afterAll(async () => {
  await scanner.settle();
  const found = scanner.findings();
  if (found.length > 0) {
    expect.fail(
      `leak scanner: ${found.length} secret(s) where they must not be:\n${found
        .slice(0, 20)
        .map(describeFinding)
        .join('\n')}`,
    );
  }
});
