/**
 * Fuzz of the request routes (serverless.yml `requests` function) with valid JWTs: create, list,
 * read, approve, deny, and vend inside a grant. Ids are drawn from the requests the suite made
 * (pending and approved ones) as well as from junk, so votes and vends meet real state.
 * Properties (./properties.ts): no 5xx, credentials only from `/credentials` of an approved request
 * of the requester with a valid body (each with its `issued` audit record), no secret anywhere.
 * Oracles of issue 11: a path id that is not shaped like an id vend makes (10 kB, NUL, traversal,
 * non-ASCII, near-ULIDs) is always 404, before any store is read; a request that was created never
 * has a duration outside [900, 3600], and has exactly the duration asked for.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStack } from '../support/stack';
import {
  decisionBody,
  headers,
  ids,
  mutated,
  query,
  requestBody,
  serialised,
  ULID_SHAPE,
  vendBody,
} from './arbitraries';
import { type Auth, type FuzzRequest, fuzzHarness, type Outcome, type Route } from './harness';
import {
  type Expected,
  expectAllAudited,
  FUZZ_RUNS,
  fixedSecrets,
  type Handed,
  validVend,
} from './properties';
import { fuzzRoute } from './run';

const stack = withStack();

let harness: Awaited<ReturnType<typeof fuzzHarness>>;
let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
let secrets: string[] = [];
const handed: Handed[] = [];
const known: string[] = [];
const approved = new Set<string>();
const reviews: string[] = [];

async function as(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${await stack.token(user)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as { id: string; status: string } };
}

afterAll(() => harness?.close());
beforeAll(async () => {
  harness = await fuzzHarness(stack);
  ({ dynamodb } = await import('../../lib/wiring/clients'));
  secrets = [
    ...fixedSecrets(stack.stack.handlerEnv),
    ...(await Promise.all(['alice', 'bob', 'carol'].map((u) => harness.token(u)))),
  ];
  // Real state for the fuzz to meet: pending requests, and one approved by two approvers.
  for (let i = 0; i < 4; i++) {
    const made = await as('alice', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      durationSeconds: 3600,
      reason: `INC-${i} fuzz fixture`,
    });
    expect(made.status).toBe(201);
    known.push(made.json.id);
  }
  // A break-glass use by dave opens a review for the sign-off route to meet.
  const glass = await as('dave', 'POST', '/v1/requests', {
    entitlement: 'prod-admin',
    durationSeconds: 3600,
    reason: 'INC-12 fuzz fixture: database on fire',
    breakGlass: true,
    ticket: 'INC-12',
  });
  expect(glass.status).toBe(201);
  const open = await fetch(`${stack.apiUrl}/v1/reviews`, {
    headers: { authorization: `Bearer ${await stack.token('carol')}` },
  });
  expect(open.status).toBe(200);
  const listed = (await open.json()) as { reviews?: { id: string }[] };
  reviews.push(...(listed.reviews ?? []).map((r) => r.id));
  expect(reviews.length).toBeGreaterThan(0);
  const grant = known[0]!;
  expect((await as('bob', 'POST', `/v1/requests/${grant}/approve`, {})).status).toBe(200);
  const second = await as('carol', 'POST', `/v1/requests/${grant}/approve`, {});
  expect(second.json.status).toBe('approved');
  approved.add(grant);
});

/** Learns ids and approvals from the answers, so later routes meet them. */
function observe(_req: FuzzRequest, out: Outcome): void {
  if (out.status !== 200 && out.status !== 201) return;
  try {
    const body = JSON.parse(out.body) as { id?: unknown; status?: unknown; requester?: unknown };
    if (typeof body.id === 'string' && !known.includes(body.id) && known.length < 200) known.push(body.id);
    if (typeof body.id === 'string' && body.status === 'approved') approved.add(body.id);
  } catch {
    // not JSON: nothing to learn
  }
}

const idParam = ids(() => known).map((id) => ({ id }));

// The vend-inside-a-grant route mostly meets the approved grant, so valid vends happen often.
const grantParam = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0).map(() => ({ id: [...approved][0] ?? 'none' })) },
  idParam,
);

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

const readCase = (withId: boolean): fc.Arbitrary<FuzzRequest> =>
  fc.record({
    headers: headers(),
    query,
    params: withId ? idParam : fc.constant({}),
    body: fc.option(serialised(fc.jsonValue({ maxDepth: 2 })), { nil: undefined, freq: 4 }),
    flipBase64: fc.boolean(),
  });

const asRecord = <T>(a: fc.Arbitrary<T>) => a as unknown as fc.Arbitrary<Record<string, unknown>>;

/** A path id not shaped like a ULID names nothing: 404, whatever else the request carries. */
function malformedIdIs404(req: FuzzRequest): Expected | undefined {
  const id = req.params?.id;
  if (id === undefined || ULID_SHAPE.test(id)) return undefined;
  return { status: 404, code: 'not_found', why: 'a path id not shaped like an id' };
}

/** A created request has the duration asked for, and never one outside [900, 3600]. */
function createdDurationInRange(req: FuzzRequest, out: Outcome): void {
  // A flipped base64 flag means the handler read other bytes than these: nothing to compare.
  if (out.status !== 201 || req.flipBase64) return;
  const created = JSON.parse(out.body) as { durationSeconds?: unknown };
  expect(created.durationSeconds, out.body.slice(0, 300)).toBeGreaterThanOrEqual(900);
  expect(created.durationSeconds, out.body.slice(0, 300)).toBeLessThanOrEqual(3600);
  let asked: unknown;
  try {
    asked = (JSON.parse(req.body?.toString('utf8') ?? '{}') as { durationSeconds?: unknown }).durationSeconds;
  } catch {
    return;
  }
  if (asked !== undefined) expect(created.durationSeconds, 'the duration asked for, not another').toBe(asked);
}

const routes: {
  route: Route;
  auth: Auth;
  cases: fc.Arbitrary<FuzzRequest>;
  vend?: boolean;
  check?: (req: FuzzRequest, out: Outcome) => void;
}[] = [
  {
    route: { method: 'POST', path: '/v1/requests', module: 'requests' },
    auth: { kind: 'jwt', user: 'alice' },
    cases: bodyCase(
      fc.oneof(
        { weight: 4, arbitrary: serialised(mutated(asRecord(requestBody))) },
        {
          weight: 1,
          arbitrary: fc
            .record({
              durationSeconds: fc.integer({ min: 900, max: 3600 }),
              reason: fc.string({ minLength: 3 }),
            })
            .map((b) => Buffer.from(JSON.stringify({ entitlement: 'prod-admin', ...b }))),
        },
      ),
      fc.constant({}),
    ),
    check: createdDurationInRange,
  },
  {
    route: { method: 'GET', path: '/v1/requests', module: 'requests' },
    auth: { kind: 'jwt', user: 'bob' },
    cases: readCase(false),
  },
  {
    route: { method: 'GET', path: '/v1/requests/{id}', module: 'requests' },
    auth: { kind: 'jwt', user: 'alice' },
    cases: readCase(true),
  },
  {
    route: { method: 'POST', path: '/v1/requests/{id}/approve', module: 'requests' },
    auth: { kind: 'jwt', user: 'bob' },
    cases: bodyCase(serialised(mutated(asRecord(decisionBody))), idParam),
  },
  {
    route: { method: 'POST', path: '/v1/requests/{id}/deny', module: 'requests' },
    auth: { kind: 'jwt', user: 'carol' },
    cases: bodyCase(serialised(mutated(asRecord(decisionBody))), idParam),
  },
  {
    route: { method: 'POST', path: '/v1/requests/{id}/credentials', module: 'requests' },
    auth: { kind: 'jwt', user: 'alice' },
    cases: bodyCase(
      fc.oneof(
        { weight: 4, arbitrary: serialised(mutated(asRecord(vendBody))) },
        { weight: 1, arbitrary: fc.constantFrom(Buffer.from('{}'), Buffer.from('{"durationSeconds":900}')) },
      ),
      grantParam,
    ),
    vend: true,
  },
  {
    route: { method: 'POST', path: '/v1/requests/{id}/cancel', module: 'requests' },
    auth: { kind: 'jwt', user: 'alice' },
    cases: bodyCase(serialised(mutated(asRecord(decisionBody))), idParam),
  },
  {
    route: { method: 'GET', path: '/v1/reviews', module: 'requests' },
    auth: { kind: 'jwt', user: 'carol' },
    cases: readCase(false),
  },
  {
    route: { method: 'POST', path: '/v1/reviews/{id}/sign-off', module: 'requests' },
    auth: { kind: 'jwt', user: 'carol' },
    cases: bodyCase(
      serialised(mutated(asRecord(decisionBody))),
      ids(() => reviews).map((id) => ({ id })),
    ),
  },
];

describe(`fuzz: ${FUZZ_RUNS} cases per request route, valid JWTs, real and junk ids`, () => {
  for (const r of routes) {
    it(`${r.route.method} ${r.route.path}: no 5xx, credentials only inside an approved grant, no secret`, async () => {
      const result = await fuzzRoute({
        route: r.route,
        auth: r.auth,
        cases: r.cases,
        send: harness.send,
        observe,
        ...(r.route.path.includes('{id}') ? { expected: malformedIdIs404 } : {}),
        ...(r.check ? { check: r.check } : {}),
        // alice may vend only for a request of hers that is approved, for its own entitlement.
        ...(r.vend
          ? {
              valid: (req: FuzzRequest) =>
                approved.has(req.params?.id ?? '') &&
                validVend(req.body, new Set(['prod-admin']), {
                  fixedEntitlement: 'prod-admin',
                  emptyIsObject: true,
                }),
            }
          : {}),
        secrets: () => secrets,
        handed,
      });
      console.info(
        `fuzz ${r.route.method} ${r.route.path}: ${result.gateway} via gateway, ${result.direct} direct; statuses ${JSON.stringify(result.statuses)}`,
      );
      expect(result.gateway + result.direct).toBeGreaterThanOrEqual(FUZZ_RUNS);
    });
  }

  it('every credentials answer of the fuzz has its issued audit record', async () => {
    expect(handed.length).toBeGreaterThan(0);
    await expectAllAudited(dynamodb, process.env.VEND_AUDIT_TABLE ?? 'vend-dev-audit', handed);
  });
});
