/**
 * The leak scanner itself: it finds every kind of secret wherever the suite looks, and leaves the
 * legitimate places alone. Uses its own scanner instances (planting a leak in the suite-wide one
 * would fail this file), plus one end-to-end check that the setup file feeds the suite-wide one.
 */
import { describe, expect, it } from 'vitest';
import { withStack } from '../stack';
import { type Exchange, judgeAnswer, judgeExchange } from './judge';
import { createLeakScanner, demoExternalIds, leaks } from './scanner';

const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const SESSION = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6x+example';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImF1ZCI6InZlbmQifQ.c2lnbmF0dXJlLWJ5dGVz';

describe('a scanner of its own', () => {
  it('knows the five demo ExternalIds from the world file', () => {
    expect(demoExternalIds()).toEqual([
      'prod-readonly-ext-7f3a',
      'prod-deploy-external-id-abc123',
      'prod-s3-ext-19c2',
      'prod-breakglass-ext-5d8e',
      'staging-deploy-ext-2b71',
    ]);
  });

  it.each([
    [
      'an ExternalId in a log line',
      (s: ReturnType<typeof createLeakScanner>) => s.log('assume role prod-s3-ext-19c2\n'),
      'ExternalId',
    ],
    [
      'an issued secret key in an error body',
      (s: ReturnType<typeof createLeakScanner>) => s.response('POST /x (503)', `{"detail":"${SECRET_KEY}"}`),
      'SecretAccessKey',
    ],
    [
      'an issued session token in an audit record',
      (s: ReturnType<typeof createLeakScanner>) => s.audit('r1', `{"token":"${SESSION}"}`),
      'SessionToken',
    ],
    [
      'a JWT-shaped value in a log line',
      (s: ReturnType<typeof createLeakScanner>) => s.log(`{"authorization":"Bearer ${JWT}"}\n`),
      'JWT',
    ],
    [
      'the Slack signing secret split across two writes of one line',
      (s: ReturnType<typeof createLeakScanner>) => {
        s.log('secret=local-vend-slack-');
        s.log('signing-secret-0000\n');
      },
      'Slack signing secret',
    ],
  ])('finds %s', (_name, plant, kind) => {
    const scanner = createLeakScanner();
    for (const id of demoExternalIds()) scanner.secret(id, 'ExternalId');
    scanner.secret('local-vend-slack-signing-secret-0000', 'Slack signing secret');
    scanner.issued({ SecretAccessKey: SECRET_KEY, SessionToken: SESSION });

    plant(scanner);

    const found = scanner.findings();
    expect(found.map((f) => f.kind)).toEqual([kind]);
    // A finding names where and what, never the secret itself.
    expect(JSON.stringify(found)).not.toContain(kind === 'JWT' ? JWT : 'ext-19c2');
  });

  it('does not count what it was never shown (the legitimate 200 body, the Authorization header)', () => {
    const scanner = createLeakScanner();
    scanner.issued({ SecretAccessKey: SECRET_KEY, SessionToken: SESSION });
    scanner.secret(JWT, 'JWT');
    scanner.log('{"message":"vend issued","accessKeyId":"ASIAEXAMPLE"}\n');
    scanner.response('GET /v1/audit (200)', '{"records":[{"accessKeyId":"ASIAEXAMPLE"}]}');
    expect(scanner.findings()).toEqual([]);
  });
});

describe('a scanner of its own: issued secrets glued to other text', () => {
  it('finds an issued key inside a longer base64 run (…/ProdReadOnly/<key>), not only as a whole token', () => {
    const scanner = createLeakScanner();
    scanner.issued({ SecretAccessKey: SECRET_KEY, SessionToken: SESSION });
    scanner.response('POST /x (200)', `{"arn":"arn:aws:sts::1:assumed-role/R/s/${SECRET_KEY}x"}`);
    expect(scanner.findings().map((f) => f.kind)).toEqual(['SecretAccessKey']);
  });

  it('excuses exactly the findings it is given, and reports the same leak on another channel', () => {
    const scanner = createLeakScanner();
    scanner.secret('prod-s3-ext-19c2', 'ExternalId');
    scanner.console('log', 'ext prod-s3-ext-19c2');
    const planted = scanner.findings();
    scanner.excuse(planted);
    scanner.child('aws#1 stdout', 'ext prod-s3-ext-19c2');
    expect(scanner.findings().map((f) => f.where)).toEqual([
      expect.stringMatching(/^child aws#1 stdout #\d+$/),
    ]);
  });
});

describe('what of an answer is scanned (judge.ts): only a credentials answer’s own fields are legitimate', () => {
  const creds = {
    AccessKeyId: 'ASIAEXAMPLE',
    SecretAccessKey: SECRET_KEY,
    SessionToken: SESSION,
    Expiration: 'x',
  };

  it.each([
    ['vend’s answer', { credentials: creds, auditId: 'a1' }],
    ['credential_process output', { Version: 1, ...creds }],
    [
      'the container-credentials shape (Token)',
      { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: SECRET_KEY, Token: SESSION },
    ],
    ['the AWS CLI / boto3 AssumeRole output', { Credentials: creds, AssumedRoleUser: { Arn: 'arn' } }],
  ])('%s: its secret fields are learned and taken out, the rest stays', (_name, body) => {
    const j = judgeAnswer(JSON.stringify(body));
    expect(j.shape).toBe('credentials');
    expect(j.issued).toEqual([{ SecretAccessKey: SECRET_KEY, SessionToken: SESSION }]);
    expect(j.rest).not.toContain(SECRET_KEY);
    expect(j.rest).not.toContain(SESSION);
    expect(j.rest).toContain('ASIAEXAMPLE');
  });

  it('an ExternalId, a JWT or a second copy of the key in another field stays in what is scanned', () => {
    const j = judgeAnswer(
      JSON.stringify({ credentials: creds, note: 'prod-s3-ext-19c2', token: JWT, copy: SECRET_KEY }),
    );
    const scanner = createLeakScanner();
    scanner.secret('prod-s3-ext-19c2', 'ExternalId');
    for (const c of j.issued) scanner.issued(c);
    scanner.response('POST /v1/service/credentials (200)', j.rest);
    expect(
      scanner
        .findings()
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['ExternalId', 'JWT', 'SecretAccessKey']);
  });

  it('a credentials object nested anywhere else (an audit listing) is no credentials answer', () => {
    const j = judgeAnswer(JSON.stringify({ records: [{ credentials: creds }] }));
    expect(j.shape).toBe('plain');
    expect(j.rest).toContain(SECRET_KEY);
  });

  it('STS XML, `--format env` and a lone JWT (vend dev token) keep only their own secrets out', () => {
    const xml = `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>${SECRET_KEY}</SecretAccessKey><SessionToken>${SESSION}</SessionToken></Credentials><AssumedRoleUser><Arn>arn/prod-s3-ext-19c2</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`;
    const fromXml = judgeAnswer(xml);
    expect(fromXml.issued).toEqual([{ SecretAccessKey: SECRET_KEY, SessionToken: SESSION }]);
    expect(fromXml.rest).not.toContain(SECRET_KEY);
    expect(fromXml.rest).toContain('arn/prod-s3-ext-19c2');
    const env = `unset AWS_PROFILE\nexport AWS_ACCESS_KEY_ID='ASIA1'\nexport AWS_SECRET_ACCESS_KEY='${SECRET_KEY}'\nexport AWS_SESSION_TOKEN='${SESSION}'\nexport NOTE='prod-s3-ext-19c2'\n`;
    const fromEnv = judgeAnswer(env);
    expect(fromEnv.issued).toEqual([{ SecretAccessKey: SECRET_KEY, SessionToken: SESSION }]);
    expect(fromEnv.rest).not.toContain(SESSION);
    expect(fromEnv.rest).toContain('prod-s3-ext-19c2');
    expect(judgeAnswer(`${JWT}\n`, { tokenAnswer: true })).toMatchObject({ rest: '', tokens: [JWT] });
    expect(judgeAnswer(`${JWT}\n`).rest).toContain(JWT);
  });
});

describe('what of an exchange is scanned (judge.ts)', () => {
  const exchange = (e: Partial<Exchange>): Exchange => ({
    method: 'POST',
    url: '/',
    requestHeaders: {},
    requestBody: '',
    status: 200,
    responseBody: '',
    ...e,
  });
  const sigv4 = (service: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=ASIA1/20261129/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
  });

  it('STS: the request without its ExternalId parameter; the answer without its own credentials', () => {
    const v = judgeExchange(
      exchange({
        requestHeaders: sigv4('sts'),
        requestBody:
          'Action=AssumeRole&ExternalId=prod-s3-ext-19c2&Tags.member.1.Value=prod-readonly-ext-7f3a',
        responseBody: `<Credentials><SecretAccessKey>${SECRET_KEY}</SecretAccessKey><SessionToken>${SESSION}</SessionToken></Credentials>`,
      }),
    );
    expect(v.label).toBe('sts AssumeRole (200)');
    expect(v.request?.text).not.toContain('prod-s3-ext-19c2');
    expect(v.request?.text).toContain('prod-readonly-ext-7f3a');
    expect(v.response).not.toContain(SECRET_KEY);
    expect(v.issued).toEqual([{ SecretAccessKey: SECRET_KEY, SessionToken: SESSION }]);
  });

  it('DynamoDB: writes are scanned (the audit table as audit records), an entitlements table is not', () => {
    const put = (table: string) =>
      judgeExchange(
        exchange({
          requestHeaders: { 'x-amz-target': 'DynamoDB_20120810.PutItem', ...sigv4('dynamodb') },
          requestBody: JSON.stringify({ TableName: table, Item: { externalId: { S: 'prod-s3-ext-19c2' } } }),
        }),
        'vend-dev-audit',
      );
    expect(put('vend-dev-audit').request).toMatchObject({ audit: true });
    expect(put('vend-dev-requests').request).toMatchObject({ audit: false });
    expect(put('vend-dev-entitlements').request).toBeUndefined();
    expect(put('vend-dev-entitlements').response).toBeUndefined();
  });

  it('the vend API: the answer is scanned, the request (the client’s own input) is not; a bearer token is learned', () => {
    const v = judgeExchange(
      exchange({
        url: '/v1/requests',
        requestHeaders: { authorization: `Bearer ${JWT}` },
        requestBody: '{"reason":"prod-s3-ext-19c2"}',
        status: 400,
        responseBody: `{"detail":"echo ${JWT}"}`,
      }),
    );
    expect(v.request).toBeUndefined();
    expect(v.tokens).toEqual([JWT]);
    expect(v.response).toBe(`{"detail":"echo [the caller's own token]"}`);
  });

  it('a token endpoint’s own tokens are legitimate there and learned; the Slack Web API request is scanned', () => {
    const token = judgeExchange(
      exchange({
        url: '/oidc/token',
        responseBody: JSON.stringify({ access_token: JWT, token_type: 'Bearer' }),
      }),
    );
    expect(token.tokens).toEqual([JWT]);
    expect(token.response).not.toContain(JWT);
    const slack = judgeExchange(exchange({ url: '/slack/api/chat.postMessage', requestBody: 'text=hello' }));
    expect(slack.request?.text).toBe('text=hello');
  });
});

describe('the suite-wide scanner (test/support/leaks/setup.ts)', () => {
  const stack = withStack();

  it('hears this file: response bodies, audit writes, log lines; and learns the issued secrets', async () => {
    const before = leaks().stats();
    const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', { entitlement: 'nope' });
    expect(res.status).toBe(403);
    await res.text();
    const ok = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
      entitlement: 'prod-readonly',
    });
    expect(ok.status).toBe(200);
    await ok.json();
    await leaks().settle();

    const after = leaks().stats();
    expect(after.responses).toBeGreaterThan(before.responses);
    expect(after.audits).toBeGreaterThanOrEqual(before.audits + 3); // denied, intent, issued
    expect(after.logs).toBeGreaterThan(before.logs);
    // The two issued secrets and the broker's keys and signing secret were registered.
    expect(after.secrets).toBeGreaterThanOrEqual(before.secrets + 2);
    expect(leaks().findings()).toEqual([]);
  });
});
