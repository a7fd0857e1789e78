/**
 * The properties every fuzzed answer must have, and the oracle that says whether a body is a valid
 * vend for a caller (the only bodies that may get credentials back).
 */
import { expect } from 'vitest';
import { issuedKeys, scanTable } from '../support/audit-table';
import { demoExternalIds, leaks } from '../support/leaks/scanner';
import type { Outcome } from './harness';

/** How many cases per route (`FUZZ_RUNS`, default 1000) and how many of them go through the gateway. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
/** The first cases of each route go through the gateway over HTTP; the rest invoke the handler. */
export const FUZZ_GATEWAY_RUNS = Number(process.env.FUZZ_GATEWAY_RUNS ?? 100);
/** Cases run concurrently in batches of this size (one fast-check run is one batch). */
export const FUZZ_BATCH = 8;

const VEND_KEYS = new Set(['entitlement', 'durationSeconds', 'policy', 'reason']);

/**
 * True when `bytes` is a vend body vend may honour for a caller who may use `usable`: a JSON
 * object (strict UTF-8, no BOM) with only the vend fields, an entitlement the caller may use, a
 * whole duration in [900, 3600] if any, a reason of at most 512 characters if any. The policy is
 * not judged here (whether it narrows the ceiling is the domain's own spec); a policy the domain
 * refuses only makes a refusal, which the property allows. `emptyIsObject`: the request routes
 * read an absent body as `{}` (functions/requests.ts).
 *
 * @example validVend(Buffer.from('{"entitlement":"prod-readonly"}'), new Set(['prod-readonly'])) // true
 */
export function validVend(
  bytes: Buffer | undefined,
  usable: ReadonlySet<string>,
  opts: { fixedEntitlement?: string; emptyIsObject?: boolean } = {},
): boolean {
  let body: unknown;
  if (opts.emptyIsObject && (bytes === undefined || bytes.length === 0))
    return validVend(Buffer.from('{}'), usable, opts);
  try {
    body = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes ?? Buffer.alloc(0)),
    );
  } catch {
    return false;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const b = body as Record<string, unknown>;
  if (!Object.keys(b).every((k) => VEND_KEYS.has(k))) return false;
  const entitlement = b.entitlement ?? opts.fixedEntitlement;
  if (typeof entitlement !== 'string' || !usable.has(entitlement)) return false;
  if (opts.fixedEntitlement !== undefined && entitlement !== opts.fixedEntitlement) return false;
  const d = b.durationSeconds;
  if (d !== undefined && !(typeof d === 'number' && Number.isInteger(d) && d >= 900 && d <= 3600))
    return false;
  if (b.reason !== undefined && !(typeof b.reason === 'string' && b.reason.length <= 512)) return false;
  return true;
}

/** Credentials an answer handed out, to be matched with `issued` audit records afterwards. */
export interface Handed {
  accessKeyId: string;
  auditId: string;
  route: string;
}

/** The secrets no answer may carry: demo ExternalIds, the Slack signing secret, the broker's keys. */
export function fixedSecrets(handlerEnv: Record<string, string>): string[] {
  return [
    ...demoExternalIds(),
    handlerEnv.VEND_SLACK_SIGNING_SECRET,
    handlerEnv.AWS_SECRET_ACCESS_KEY,
    handlerEnv.AWS_SESSION_TOKEN,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 8);
}

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./;

/** An answer the oracle can predict exactly for a request (e.g. a malformed path id is a 404). */
export interface Expected {
  status: number;
  /** The problem code, when the answer is vend's (the gateway's own 404 for a path it does not route has none). */
  code?: string;
  why: string;
}

/**
 * Judges one answer.
 * - never a 5xx (nothing is injected in the fuzz): no client input may produce one;
 * - the predicted status (and code) when the oracle predicts one (`expected`);
 * - credentials only in a 200 of a credentials route, for a body the oracle calls valid;
 * - no fixed secret, no token, nothing JWT-shaped in any answer.
 * Every answer but the legitimate credentials 200 is fed to the suite-wide leak scanner.
 */
export function judge(
  out: Outcome,
  ctx: {
    route: string;
    credentialsRoute: boolean;
    valid: boolean;
    secrets: readonly string[];
    handed: Handed[];
    describe: () => string;
    expected?: Expected | undefined;
  },
): void {
  // Failure messages end up in the test output: never with the credentials in them.
  const shown = () => out.body.replace(/"(SecretAccessKey|SessionToken)":"[^"]*"/g, '"$1":"[redacted]"');
  const where = () =>
    `${ctx.route} via ${out.via}: ${out.status} ${shown().slice(0, 300)}\nrequest: ${ctx.describe()}`;
  expect(out.status, where()).toBeLessThan(500);
  const expected = ctx.expected;
  if (expected) {
    expect(out.status, `${expected.why}: ${where()}`).toBe(expected.status);
    if (expected.code !== undefined && /problem\+json/.test(out.headers['content-type'] ?? '')) {
      expect((JSON.parse(out.body) as { code?: string }).code, `${expected.why}: ${where()}`).toBe(
        expected.code,
      );
    }
  }
  const hasCredentials = /SecretAccessKey|SessionToken/.test(out.body);
  if (hasCredentials || (ctx.credentialsRoute && out.status === 200)) {
    expect(
      ctx.credentialsRoute && out.status === 200,
      `credentials outside a credentials 200: ${where()}`,
    ).toBe(true);
    expect(ctx.valid, `credentials for a body the oracle calls invalid: ${where()}`).toBe(true);
    const body = JSON.parse(out.body) as {
      credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
      auditId: string;
    };
    expect(body.credentials.AccessKeyId).toMatch(/^ASIA/);
    ctx.handed.push({ accessKeyId: body.credentials.AccessKeyId, auditId: body.auditId, route: ctx.route });
    leaks().issued(body.credentials);
  } else {
    // The harness does not go through the global fetch, so the suite-wide scanner hears it here.
    leaks().response(`${ctx.route} (${out.via}, ${out.status})`, out.body);
  }
  for (const s of ctx.secrets) expect(out.body.includes(s), `a secret in ${where()}`).toBe(false);
  expect(JWT_SHAPE.test(out.body), `a JWT in ${where()}`).toBe(false);
}

/** Every handed-out AccessKeyId has its `issued` audit record (same auditId). */
export async function expectAllAudited(
  dynamodb: Parameters<typeof scanTable>[0],
  table: string,
  handed: Handed[],
): Promise<void> {
  const issued = issuedKeys(await scanTable(dynamodb, table));
  for (const h of handed) {
    expect(issued.get(h.accessKeyId), `no issued audit record for ${h.accessKeyId} (${h.route})`).toBe(
      h.auditId,
    );
  }
}

/** A short, secret-free description of a request for failure messages. */
export function describeRequest(req: {
  headers: Record<string, string>;
  body?: Buffer;
  query?: string;
  params?: Record<string, string>;
}): string {
  const body = req.body === undefined ? '(none)' : JSON.stringify(req.body.toString('utf8').slice(0, 200));
  const params = JSON.stringify(req.params ?? {});
  return `headers=${JSON.stringify(req.headers)} query=${(req.query ?? '').slice(0, 200)} params=${params.length > 200 ? `${params.slice(0, 200)}… (${params.length} chars)` : params} body=${body}`;
}
