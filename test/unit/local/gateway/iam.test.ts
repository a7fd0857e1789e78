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
): Promise<RawRequest> {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: 'us-east-1',
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
    { signingDate: NOW },
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

  it('builds the execute-api ARN without the leading slash of the path', () => {
    expect(
      executeApiArn({ region: 'eu-west-1', accountId: '1', apiId: 'a', method: 'get', path: '/v1/health' }),
    ).toBe('arn:aws:execute-api:eu-west-1:1:a/$default/GET/v1/health');
  });
});
