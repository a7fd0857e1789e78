/**
 * Fuzz of console sign-in and the session routes (serverless.yml `credentials`, `requests` and
 * `sessions` functions) with valid JWTs: `POST /v1/console`, `POST /v1/requests/{id}/console`,
 * `GET /v1/sessions`, `POST /v1/sessions/{auditId}/revoke`, `POST /v1/sessions/revoke`. Audit ids are
 * drawn from sessions the suite vended as well as from junk, so revocations meet real state.
 * Properties (./properties.ts): no 5xx, never credentials (a console answer is a sign-in URL on the
 * federation endpoint and nothing else), no secret anywhere; a path id not shaped like an id is 404.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStack } from '../support/stack';
import { headers, ids, mutated, query, serialised, ULID_SHAPE, vendBody } from './arbitraries';
import { type Auth, type FuzzRequest, fuzzHarness, type Outcome, type Route } from './harness';
import { type Expected, FUZZ_RUNS, fixedSecrets, type Handed } from './properties';
import { fuzzRoute } from './run';

const stack = withStack();

let harness: Awaited<ReturnType<typeof fuzzHarness>>;
let secrets: string[] = [];
const handed: Handed[] = [];
const sessions: string[] = [];
const callers: string[] = [];
let grant = 'none';

async function as(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${await stack.token(user)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

afterAll(() => harness?.close());
beforeAll(async () => {
  harness = await fuzzHarness(stack);
  secrets = [
    ...fixedSecrets(stack.stack.handlerEnv),
    ...(await Promise.all(['alice', 'bob', 'carol'].map((u) => harness.token(u)))),
  ];
  // Live sessions for the revoke routes to meet, and an approved grant for the grant console.
  for (let i = 0; i < 6; i++) {
    const vended = await as('alice', 'POST', '/v1/credentials', { entitlement: 'prod-readonly' });
    expect(vended.status).toBe(200);
    sessions.push(vended.json.auditId as string);
  }
  const listed = await as('alice', 'GET', '/v1/sessions');
  callers.push(((listed.json.sessions as { caller: { id: string } }[])[0]?.caller.id ?? '') as string);
  const made = await as('alice', 'POST', '/v1/requests', {
    entitlement: 'prod-admin',
    durationSeconds: 3600,
    reason: 'INC-15 fuzz fixture',
  });
  grant = made.json.id as string;
  for (const approver of ['bob', 'carol']) {
    expect((await as(approver, 'POST', `/v1/requests/${grant}/approve`, {})).status).toBe(200);
  }
});

const bodyCase = (
  body: fc.Arbitrary<Buffer>,
  params: fc.Arbitrary<Record<string, string>>,
): fc.Arbitrary<FuzzRequest> =>
  fc.record({
    headers: headers(),
    body,
    query: fc.oneof({ weight: 5, arbitrary: fc.constant('') }, query),
    params,
    flipBase64: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
  });

const asRecord = <T>(a: fc.Arbitrary<T>) => a as unknown as fc.Arbitrary<Record<string, unknown>>;

const destination = fc.oneof(
  fc.constantFrom(
    'https://console.aws.amazon.com/',
    'https://us-east-1.console.aws.amazon.com/s3/home',
    'https://evil.example/',
    'http://console.aws.amazon.com/',
    'javascript:alert(1)',
  ),
  fc.webUrl(),
  fc.string(),
  fc.anything(),
);
const consoleBody = fc.tuple(vendBody, fc.option(destination, { nil: undefined })).map(([v, d]) => ({
  ...v,
  ...(d === undefined ? {} : { destination: d }),
}));
const reasonBody = fc.record(
  { reason: fc.oneof(fc.string(), fc.constant('laptop lost'), fc.anything()) },
  { requiredKeys: [] },
);
const callerBody = fc.record(
  {
    caller: fc.oneof(
      { weight: 2, arbitrary: fc.constant(0).map(() => callers[0] ?? 'x') },
      fc.string(),
      fc.anything(),
    ),
    reason: fc.oneof(fc.constant('left'), fc.string(), fc.anything()),
  },
  { requiredKeys: [] },
);

// Dot segments are not ids at all: the URL they make is normalised to another route (RFC 3986).
const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

/** A path id not shaped like a ULID names nothing: 404, whatever else the request carries. */
function malformedIdIs404(req: FuzzRequest): Expected | undefined {
  const id = req.params?.id ?? req.params?.auditId;
  if (id === undefined || ULID_SHAPE.test(id) || DOT_SEGMENT.test(id)) return undefined;
  return { status: 404, code: 'not_found', why: 'a path id not shaped like an id' };
}

/** A console answer is a sign-in URL on the federation endpoint, and nothing else. */
function consoleAnswer(_req: FuzzRequest, out: Outcome): void {
  if (out.status !== 200) return;
  const body = JSON.parse(out.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['assumedRoleArn', 'auditId', 'entitlement', 'expiresAt', 'url']);
  const url = new URL(String(body.url));
  expect(`${url.origin}${url.pathname}`).toBe(`${stack.awsUrl}/federation`);
  expect(url.searchParams.get('Action')).toBe('login');
  expect(url.searchParams.has('SessionDuration')).toBe(false);
}

const sessionParam = ids(() => sessions).map((auditId) => ({ auditId }));
const grantParam = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0).map(() => ({ id: grant })) },
  ids(() => [grant]).map((id) => ({ id })),
);

const routes: { route: Route; auth: Auth; cases: fc.Arbitrary<FuzzRequest>; check?: typeof consoleAnswer }[] =
  [
    {
      route: { method: 'POST', path: '/v1/console', module: 'credentials' },
      auth: { kind: 'jwt', user: 'alice' },
      cases: bodyCase(serialised(mutated(asRecord(consoleBody))), fc.constant({})),
      check: consoleAnswer,
    },
    {
      route: { method: 'POST', path: '/v1/requests/{id}/console', module: 'requests' },
      auth: { kind: 'jwt', user: 'alice' },
      cases: bodyCase(
        fc.oneof(
          { weight: 4, arbitrary: serialised(mutated(asRecord(consoleBody))) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(Buffer.from('{}'), Buffer.from('{"durationSeconds":900}')),
          },
        ),
        grantParam,
      ),
      check: consoleAnswer,
    },
    {
      route: { method: 'GET', path: '/v1/sessions', module: 'sessions' },
      auth: { kind: 'jwt', user: 'bob' },
      cases: fc.record({
        headers: headers(),
        query: fc.oneof(fc.constantFrom('', 'all=true', 'all=1', 'all=0', 'all=yes'), query),
        params: fc.constant({}),
        body: fc.option(serialised(fc.jsonValue({ maxDepth: 2 })), { nil: undefined, freq: 4 }),
        flipBase64: fc.boolean(),
      }),
    },
    {
      route: { method: 'POST', path: '/v1/sessions/{auditId}/revoke', module: 'sessions' },
      auth: { kind: 'jwt', user: 'mallory' },
      cases: bodyCase(serialised(mutated(asRecord(reasonBody))), sessionParam),
    },
    {
      route: { method: 'POST', path: '/v1/sessions/revoke', module: 'sessions' },
      auth: { kind: 'jwt', user: 'carol' },
      cases: bodyCase(serialised(mutated(asRecord(callerBody))), fc.constant({})),
    },
  ];

describe(`fuzz: ${FUZZ_RUNS} cases per session route, valid JWTs, real and junk ids`, () => {
  for (const r of routes) {
    it(`${r.route.method} ${r.route.path}: no 5xx, never credentials, no secret`, async () => {
      const result = await fuzzRoute({
        route: r.route,
        auth: r.auth,
        cases: r.cases,
        send: harness.send,
        ...(r.route.path.includes('{') ? { expected: malformedIdIs404 } : {}),
        ...(r.check ? { check: r.check } : {}),
        secrets: () => secrets,
        handed,
      });
      console.info(
        `fuzz ${r.route.method} ${r.route.path}: ${result.gateway} via gateway, ${result.direct} direct; statuses ${JSON.stringify(result.statuses)}`,
      );
      expect(result.gateway + result.direct).toBeGreaterThanOrEqual(FUZZ_RUNS);
    });
  }

  it('mallory revoked nothing: every session the suite vended still allows', async () => {
    for (const auditId of sessions) {
      const s = (
        (await as('alice', 'GET', '/v1/sessions')).json.sessions as { auditId: string; revoked: boolean }[]
      ).find((x) => x.auditId === auditId);
      // carol's caller revocations may have revoked them; mallory's never did.
      if (s?.revoked) {
        const revoked = (await as('carol', 'GET', '/v1/sessions?all=true')).json.sessions as {
          auditId: string;
          revocation?: { by: { label: string } };
        }[];
        expect(revoked.find((x) => x.auditId === auditId)?.revocation?.by.label).toBe('carol@example.com');
      }
    }
    expect(handed).toEqual([]);
  });
});
