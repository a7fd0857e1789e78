/**
 * Fuzz of the Slack routes: slash commands and interactions whose bodies are mutated (fields
 * dropped, retyped, unknown users, apps and teams, junk payload JSON, raw bytes), each signed with a
 * valid v0 signature over the exact bytes sent, so every case gets past verification to the parsers
 * and the use cases. Properties: no 5xx, never credentials, no secret (the signing secret included).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TEAM_ID } from '../../infra/local/slack/sink';
import { LOCAL_SLACK_APP_ID, LOCAL_SLACK_CHANNELS } from '../../infra/local/stack';
import { withStack } from '../support/stack';
import { headers, ids } from './arbitraries';
import { type FuzzRequest, fuzzHarness, type Route } from './harness';
import { FUZZ_RUNS, fixedSecrets } from './properties';
import { fuzzRoute } from './run';

const stack = withStack();

let harness: Awaited<ReturnType<typeof fuzzHarness>>;
let secrets: string[] = [];
const known: string[] = [];

afterAll(() => harness?.close());
beforeAll(async () => {
  harness = await fuzzHarness(stack);
  secrets = fixedSecrets(stack.stack.handlerEnv);
  const res = await fetch(`${stack.apiUrl}/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.token('alice')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      entitlement: 'prod-admin',
      durationSeconds: 3600,
      reason: 'INC-9 slack fuzz fixture',
    }),
  });
  expect(res.status).toBe(201);
  known.push(((await res.json()) as { id: string }).id);
});

const USERS = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE', 'U0ERIN', 'U0MALLORY', 'U0NOBODY', ''];
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 30 }));

const commandText = fc.oneof(
  fc.constantFrom(
    'help',
    '',
    'request prod-admin 1h INC-7 rollback 部署🔥',
    'request prod-admin 15m x',
    'request prod-readonly 1h y z',
    'request prod-admin 99h too long',
    'request prod-admin -1h negative',
    'break-glass prod-admin 1h INC-8 db on fire',
    'break-glass prod-admin 1h',
    'status',
    'status 01J00000000000000000000000',
  ),
  fc.tuple(fc.constantFrom('request', 'break-glass', 'status', 'approve'), text).map(([a, b]) => `${a} ${b}`),
  text,
);

const commandForm = fc
  .record(
    {
      command: fc.oneof({ weight: 5, arbitrary: fc.constant('/vend') }, text),
      text: commandText,
      team_id: fc.oneof({ weight: 5, arbitrary: fc.constant(LOCAL_TEAM_ID) }, text),
      api_app_id: fc.oneof({ weight: 5, arbitrary: fc.constant(LOCAL_SLACK_APP_ID) }, text),
      user_id: fc.constantFrom(...USERS),
      channel_id: fc.constantFrom('C0WHEREVER', ''),
      response_url: fc.constantFrom('https://hooks.slack.com/commands/x', 'javascript:alert(1)'),
    },
    { requiredKeys: [] },
  )
  .chain((form) =>
    fc
      .dictionary(fc.string({ maxLength: 10 }), text, { maxKeys: 2 })
      .map((extra) => Buffer.from(new URLSearchParams({ ...extra, ...form }).toString())),
  );

const interactionPayload = fc.record(
  {
    type: fc.oneof(
      { weight: 5, arbitrary: fc.constant('block_actions') },
      fc.constantFrom('view_submission', ''),
      text,
    ),
    api_app_id: fc.oneof({ weight: 5, arbitrary: fc.constant(LOCAL_SLACK_APP_ID) }, fc.jsonValue()),
    team: fc.oneof({ weight: 5, arbitrary: fc.constant({ id: LOCAL_TEAM_ID }) }, fc.jsonValue()),
    user: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...USERS).map((id) => ({ id })) }, fc.jsonValue()),
    actions: fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .tuple(
            fc.constantFrom('vend_approve', 'vend_deny', 'vend_other', ''),
            ids(() => known),
          )
          .map(([action_id, value]) => [{ action_id, value }]),
      },
      fc.jsonValue(),
    ),
    container: fc.constant({ channel_id: LOCAL_SLACK_CHANNELS.approvers }),
  },
  { requiredKeys: [] },
);

const interactionBody = fc.oneof(
  {
    weight: 6,
    arbitrary: interactionPayload.map((p) => Buffer.from(`payload=${encodeURIComponent(JSON.stringify(p))}`)),
  },
  fc.jsonValue().map((p) => Buffer.from(`payload=${encodeURIComponent(JSON.stringify(p) ?? '')}`)),
  fc.constantFrom(
    Buffer.from('payload=%7B'),
    Buffer.from('payload='),
    Buffer.from('payload=%ZZ'),
    Buffer.from(''),
    Buffer.from([0xff, 0xfe, 0x00]),
  ),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
);

const FORM_TYPES = [
  'application/x-www-form-urlencoded',
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded, application/x-www-form-urlencoded',
];

/** Signs the final bytes as the local Slack app would (fresh timestamp, v0 HMAC). */
function signed(req: FuzzRequest): FuzzRequest {
  const secret = stack.stack.handlerEnv.VEND_SLACK_SIGNING_SECRET ?? '';
  const ts = String(Math.floor(Date.now() / 1000));
  const body = req.body ?? Buffer.alloc(0);
  const mac = createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex');
  return {
    ...req,
    headers: { ...req.headers, 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${mac}` },
  };
}

const slackCase = (body: fc.Arbitrary<Buffer>): fc.Arbitrary<FuzzRequest> =>
  fc.record({
    headers: headers(FORM_TYPES),
    body,
    flipBase64: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
  });

const routes: { route: Route; cases: fc.Arbitrary<FuzzRequest> }[] = [
  { route: { method: 'POST', path: '/v1/slack/commands', module: 'slack' }, cases: slackCase(commandForm) },
  {
    route: { method: 'POST', path: '/v1/slack/interactions', module: 'slack' },
    cases: slackCase(interactionBody),
  },
];

describe(`fuzz: ${FUZZ_RUNS} validly signed Slack requests per route`, () => {
  for (const r of routes) {
    it(`${r.route.path}: no 5xx, never credentials, no secret`, async () => {
      const result = await fuzzRoute({
        route: r.route,
        auth: { kind: 'slack' },
        cases: r.cases,
        send: harness.send,
        finalise: signed,
        secrets: () => secrets,
        handed: [],
      });
      console.info(
        `fuzz POST ${r.route.path}: ${result.gateway} via gateway, ${result.direct} direct; statuses ${JSON.stringify(result.statuses)}`,
      );
      expect(result.gateway + result.direct).toBeGreaterThanOrEqual(FUZZ_RUNS);
      // Most cases must reach the use case, not die at the signature check.
      const past = Object.entries(result.statuses)
        .filter(([s]) => s !== '401')
        .reduce((n, [, c]) => n + c, 0);
      expect(past / (result.gateway + result.direct)).toBeGreaterThan(0.5);
    });
  }
});
