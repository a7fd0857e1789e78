/** The IAM authorizer: SigV4 (execute-api) against a key store, then execute-api:Invoke. */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  authorizeIam,
  executeApiArn,
  type GatewayKeyStore,
} from '../../../../infra/local/gateway/authorizers';
import type { KeyRecord, RawRequest } from '../../../../infra/local/types';

const NOW = new Date('2026-11-29T10:00:00Z');
const KEY: KeyRecord = {
  accessKeyId: 'ASIAQEXAMPLE0000CI01',
  secretAccessKey: 'local-test-secret-not-real-0000000000000',
  sessionToken: 'local-test-session-token',
  expiration: '2026-11-29T22:00:00Z',
  principal: {
    type: 'role-session',
    arn: 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci',
    account: '111122223333',
    roleArn: 'arn:aws:iam::111122223333:role/CICDDeployRole',
    userId: 'AROAEXAMPLEROLEID0001:ci',
  },
};

/** A store that knows one key and allows whatever `allow` says, recording what it was asked. */
function store(allow: (resource: string) => boolean) {
  const asked: { action: string; resource: string }[] = [];
  const s: GatewayKeyStore = {
    lookupAccessKey: (id) => (id === KEY.accessKeyId ? KEY : undefined),
    simulate: (q) => {
      asked.push({ action: q.action, resource: q.resource });
      return {
        decision: allow(q.resource) ? 'Allow' : 'ImplicitDeny',
        matched: [],
        principal: KEY.principal.arn,
      };
    },
  };
  return { s, asked };
}

async function signed(
  method: string,
  path: string,
  body = '',
  secret = KEY.secretAccessKey,
  scope: { region?: string; service?: string; signingDate?: Date } = {},
): Promise<RawRequest> {
  const signer = new SignatureV4({
    service: scope.service ?? 'execute-api',
    region: scope.region ?? 'us-east-1',
    credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: secret, sessionToken: KEY.sessionToken },
    sha256: Sha256,
  });
  const r = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4000,
      path,
      headers: { host: '127.0.0.1:4000' },
      body,
    },
    { signingDate: scope.signingDate ?? NOW },
  );
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { method, path, query: '', headers, body: Buffer.from(body), sourceIp: '127.0.0.1' };
}

const opts = (s: GatewayKeyStore) => ({
  store: s,
  now: NOW,
  region: 'us-east-1',
  accountId: '222233334444',
  apiId: 'abcdefghij',
});

describe('IAM authorizer', () => {
  it('passes a signed request and asks for execute-api:Invoke on the route ARN', async () => {
    const { s, asked } = store(() => true);

    const outcome = authorizeIam(await signed('POST', '/v1/service/credentials', '{}'), opts(s));

    expect(outcome).toMatchObject({
      ok: true,
      authorizer: {
        iam: {
          accessKey: KEY.accessKeyId,
          accountId: '111122223333',
          callerId: 'AROAEXAMPLEROLEID0001:ci',
          userArn: KEY.principal.arn,
          userId: 'AROAEXAMPLEROLEID0001:ci',
          cognitoIdentity: null,
          principalOrgId: null,
        },
      },
    });
    expect(asked).toEqual([
      {
        action: 'execute-api:Invoke',
        resource:
          'arn:aws:execute-api:us-east-1:222233334444:abcdefghij/$default/POST/v1/service/credentials',
      },
    ]);
  });

  it('answers 403 Forbidden when the policy does not allow the invoke', async () => {
    const { s } = store(() => false);

    const outcome = authorizeIam(await signed('GET', '/v1/service/entitlements'), opts(s));

    expect(outcome).toMatchObject({
      ok: false,
      response: { status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' } },
    });
    if (!outcome.ok) expect(JSON.parse(outcome.response.body.toString())).toEqual({ message: 'Forbidden' });
  });

  it('answers 403 Forbidden to an unsigned request', () => {
    const { s } = store(() => true);

    const outcome = authorizeIam(
      {
        method: 'GET',
        path: '/v1/service/x',
        query: '',
        headers: {},
        body: Buffer.alloc(0),
        sourceIp: '1.2.3.4',
      },
      opts(s),
    );

    expect(outcome).toMatchObject({
      ok: false,
      response: { status: 403, headers: { 'x-amzn-errortype': 'ForbiddenException' } },
    });
  });

  it('answers 403 with the signature-mismatch message to a request signed with the wrong secret', async () => {
    const { s } = store(() => true);

    const outcome = authorizeIam(await signed('GET', '/v1/service/x', '', 'the-wrong-secret'), opts(s));

    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.response.status).toBe(403);
    expect(JSON.parse(outcome.response.body.toString()).message).toMatch(
      /^The request signature we calculated does not match/,
    );
    expect(outcome.response.headers['x-amzn-errortype']).toBe('InvalidSignatureException');
  });

  it.each<[string, { region?: string; service?: string; signingDate?: Date }, string]>([
    ['another region', { region: 'eu-west-1' }, 'Credential should be scoped to a valid region. '],
    [
      'another service',
      { service: 'sts' },
      "Credential should be scoped to correct service: 'execute-api'. ",
    ],
    [
      'a date 6 minutes old (API Gateway allows 5)',
      { signingDate: new Date(NOW.getTime() - 6 * 60_000) },
      'Signature expired: 20261129T095400Z is now earlier than 20261129T095500Z (20261129T100000Z - 5 min.)',
    ],
    [
      'a date 6 minutes ahead',
      { signingDate: new Date(NOW.getTime() + 6 * 60_000) },
      'Signature not yet current: 20261129T100600Z is still later than 20261129T100500Z (20261129T100000Z + 5 min.)',
    ],
  ])(
    'answers a signature for %s 403 InvalidSignatureException, before any policy is asked',
    async (_n, scope, message) => {
      const { s, asked } = store(() => true);

      const outcome = authorizeIam(
        await signed('POST', '/v1/service/credentials', '{}', undefined, scope),
        opts(s),
      );

      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.response.status).toBe(403);
      expect(outcome.response.headers['x-amzn-errortype']).toBe('InvalidSignatureException');
      expect(JSON.parse(outcome.response.body.toString())).toEqual({ message });
      expect(asked).toEqual([]);
    },
  );

  it("passes a date 4 minutes off (inside API Gateway's 5)", async () => {
    const { s } = store(() => true);
    const req = await signed('GET', '/v1/service/x', '', undefined, {
      signingDate: new Date(NOW.getTime() - 4 * 60_000),
    });

    expect(authorizeIam(req, opts(s)).ok).toBe(true);
  });

  it('builds the execute-api ARN without the leading slash of the path', () => {
    expect(
      executeApiArn({ region: 'eu-west-1', accountId: '1', apiId: 'a', method: 'get', path: '/v1/health' }),
    ).toBe('arn:aws:execute-api:eu-west-1:1:a/$default/GET/v1/health');
  });
});
