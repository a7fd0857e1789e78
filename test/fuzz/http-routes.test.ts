/**
 * Fuzz of the vend, listing, health and audit routes (serverless.yml) with valid authentication,
 * so every case reaches the handler: SigV4 as `ci` on /v1/service/*, a JWT on the person routes.
 * Properties (./properties.ts): no 5xx, credentials only for a valid vend of an entitled caller
 * (and each with its `issued` audit record), no secret in any answer.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStack } from '../support/stack';
import { headers, mutated, query, serialised, validVendBody, vendBody } from './arbitraries';
import { type FuzzRequest, fuzzHarness, type Route } from './harness';
import { expectAllAudited, FUZZ_RUNS, fixedSecrets, type Handed, validVend } from './properties';
import { fuzzRoute } from './run';

const stack = withStack();

let harness: Awaited<ReturnType<typeof fuzzHarness>>;
let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
let secrets: string[] = [];
const handed: Handed[] = [];

afterAll(() => harness?.close());
beforeAll(async () => {
  harness = await fuzzHarness(stack);
  ({ dynamodb } = await import('../../lib/wiring/clients'));
  secrets = [
    ...fixedSecrets(stack.stack.handlerEnv),
    ...(await Promise.all(['alice', 'erin'].map((u) => harness.token(u)))),
  ];
});

const SERVICE_USABLE = new Set(['prod-deploy', 'prod-readonly', 'prod-s3-read', 'staging-deploy']);
const ALICE_USABLE = new Set(['prod-readonly', 'prod-s3-read', 'staging-deploy']);

const withBody = (body: fc.Arbitrary<Buffer>): fc.Arbitrary<FuzzRequest> =>
  fc.record({
    headers: headers(),
    body,
    query: fc.oneof({ weight: 5, arbitrary: fc.constant('') }, query),
    flipBase64: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
  });

const readCase: fc.Arbitrary<FuzzRequest> = fc.record({
  headers: headers(),
  query,
  body: fc.option(serialised(fc.jsonValue({ maxDepth: 2 })), { nil: undefined, freq: 4 }),
  flipBase64: fc.boolean(),
});

const vendCase = (usable: ReadonlySet<string>) =>
  withBody(
    fc.oneof(
      { weight: 6, arbitrary: serialised(mutated(vendBody as fc.Arbitrary<Record<string, unknown>>)) },
      { weight: 1, arbitrary: validVendBody([...usable]).map((b) => Buffer.from(JSON.stringify(b))) },
    ),
  );

const routes: {
  route: Route;
  auth: Parameters<typeof fuzzRoute>[0]['auth'];
  cases: fc.Arbitrary<FuzzRequest>;
  usable?: ReadonlySet<string>;
}[] = [
  { route: { method: 'GET', path: '/v1/health', module: 'health' }, auth: { kind: 'none' }, cases: readCase },
  {
    route: { method: 'POST', path: '/v1/service/credentials', module: 'credentials' },
    auth: { kind: 'sigv4', profile: 'ci' },
    cases: vendCase(SERVICE_USABLE),
    usable: SERVICE_USABLE,
  },
  {
    route: { method: 'GET', path: '/v1/service/entitlements', module: 'entitlements' },
    auth: { kind: 'sigv4', profile: 'ci' },
    cases: readCase,
  },
  {
    route: { method: 'GET', path: '/v1/entitlements', module: 'entitlements' },
    auth: { kind: 'jwt', user: 'alice' },
    cases: readCase,
  },
  {
    route: { method: 'POST', path: '/v1/credentials', module: 'credentials' },
    auth: { kind: 'jwt', user: 'alice' },
    cases: vendCase(ALICE_USABLE),
    usable: ALICE_USABLE,
  },
  {
    route: { method: 'GET', path: '/v1/audit', module: 'audit' },
    auth: { kind: 'jwt', user: 'erin' },
    cases: readCase,
  },
];

describe(`fuzz: ${FUZZ_RUNS} cases per route, valid authentication, hostile everything else`, () => {
  for (const r of routes) {
    it(`${r.route.method} ${r.route.path}: no 5xx, credentials only for a valid entitled vend, no secret`, async () => {
      const usable = r.usable;
      const result = await fuzzRoute({
        route: r.route,
        auth: r.auth,
        cases: r.cases,
        send: harness.send,
        ...(usable ? { valid: (req: FuzzRequest) => validVend(req.body, usable) } : {}),
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
