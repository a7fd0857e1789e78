// biome-ignore-all lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
/**
 * The local API Gateway's authorizers and event, end to end: a real stack (IAM store, SigV4, the
 * local issuer) serving the fixture service whose functions echo the event they receive.
 */
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type CryptoKey, exportSPKI, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { withStack } from '../../support/stack';

const stack = withStack({
  serverlessFile: fileURLToPath(new URL('./fixtures/serverless.yml', import.meta.url)),
});

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

async function echoed(
  res: Response,
): Promise<{ event: Record<string, any>; context: Record<string, any>; env: Record<string, string> }> {
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

describe('IAM routes (SigV4, execute-api)', () => {
  it('passes a request signed with the ci profile and tells the function who called', async () => {
    const res = await stack.signedFetch('ci', 'POST', '/v1/service/echo', { entitlement: 'prod-readonly' });

    const { event } = await echoed(res);
    const iam = event.requestContext.authorizer.iam;
    expect(iam.userArn).toBe(stack.stack.keys.ci!.principal.arn);
    expect(iam.accessKey).toBe(stack.credentials('ci').accessKeyId);
    expect(iam.accountId).toBe('111122223333');
    expect(iam).toMatchObject({ cognitoIdentity: null, principalOrgId: null, callerId: iam.userId });
    expect(event.routeKey).toBe('POST /v1/service/echo');
    expect(JSON.parse(event.body)).toEqual({ entitlement: 'prod-readonly' });
    expect(event.isBase64Encoded).toBe(false);
  });

  it('matches {proxy+} and passes the query string for a signed GET', async () => {
    const res = await stack.signedFetch('ci', 'GET', '/v1/service/echo/a/b%20c?x=1&x=2&y=z');

    const { event } = await echoed(res);
    expect(event.routeKey).toBe('ANY /v1/service/echo/{proxy+}');
    expect(event.pathParameters).toEqual({ proxy: 'a/b c' });
    expect(event.rawQueryString).toBe('x=1&x=2&y=z');
    expect(event.queryStringParameters).toEqual({ x: '1,2', y: 'z' });
  });

  it('answers an unsigned request 403 Forbidden before the function runs', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/service/echo`, { method: 'POST', body: '{}' });

    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Forbidden' });
    expect(res.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9]{15}=$/);
  });

  it('answers a wrong signature 403 with the signature-mismatch message', async () => {
    const signed = await stack.signedFetch('ci', 'POST', '/v1/service/echo', '{"a":1}', {
      'content-type': 'application/json',
    });
    expect(signed.status).toBe(200);
    // Same credentials, body changed after signing: the signature no longer matches.
    const res = await tamper('{"a":2}');

    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /^The request signature we calculated does not match the signature you provided\./,
    );
  });

  it('answers an unknown access key 403 "security token … is invalid"', async () => {
    // A current date and a right scope: the key is what is wrong (the date and scope come first).
    const amzDate = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const res = await fetch(`${stack.apiUrl}/v1/service/echo`, {
      method: 'POST',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=ASIAUNKNOWNKEY000000/${amzDate.slice(0, 8)}/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        'x-amz-date': amzDate,
      },
    });

    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'The security token included in the request is invalid.' });
  });

  async function tamper(body: string): Promise<Response> {
    // Sign one body, send another.
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { Sha256 } = await import('@aws-crypto/sha256-js');
    const url = new URL('/v1/service/echo', stack.apiUrl);
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'us-east-1',
      credentials: stack.credentials('ci'),
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    return fetch(url, { method: 'POST', headers: signed.headers, body });
  }
});

describe('JWT routes (personJwt)', () => {
  const call = (authorization?: string): Promise<Response> =>
    fetch(`${stack.apiUrl}/v1/person/echo`, {
      headers: authorization === undefined ? {} : { authorization },
    });

  it('passes a valid token and presents the claims as HTTP APIs do (all strings, arrays as [a b])', async () => {
    const token = await stack.token('alice');

    const { event } = await echoed(await call(`Bearer ${token}`));

    const claims = event.requestContext.authorizer.jwt.claims;
    expect(claims.preferred_username).toBe('alice');
    expect(claims.email).toBe('alice@example.com');
    expect(claims.groups).toBe('[sre]');
    expect(claims.email_verified).toBe('true');
    expect(claims.exp).toMatch(/^\d+$/);
    expect(claims.iss).toBe(stack.stack.oidc.issuer);
  });

  it('accepts the token without the Bearer prefix, as API Gateway does', async () => {
    const token = await stack.token('bob');

    const { event } = await echoed(await call(token));

    expect(event.requestContext.authorizer.jwt.claims.groups).toBe('[security-approvers]');
  });

  it('accepts any of the configured audiences', async () => {
    const token = await stack.token('carol', { audience: 'vend-other' });

    expect((await call(`Bearer ${token}`)).status).toBe(200);
  });

  it('answers a missing token 401 Unauthorized with a Bearer challenge', async () => {
    const res = await call();

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers an expired token 401', async () => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    const token = await stack.token('alice', { extraClaims: { iat: past, nbf: past, exp: past + 60 } });

    const res = await call(`Bearer ${token}`);

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers a token for another audience 401', async () => {
    const token = await stack.token('alice', { audience: 'someone-else' });

    expect((await call(`Bearer ${token}`)).status).toBe(401);
  });

  it('answers an alg:none token 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: stack.stack.oidc.issuer,
      aud: 'vend',
      sub: 'x',
      iat: now,
      exp: now + 600,
      groups: ['sre'],
    };
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;

    expect((await call(`Bearer ${token}`)).status).toBe(401);
  });

  it('answers an HS256 token keyed with the issuer public key 401 (algorithm confusion)', async () => {
    const jwk = stack.stack.oidc.jwks.keys[0]!;
    const pem = await exportSPKI(
      (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256', { extractable: true })) as CryptoKey,
    );
    const now = Math.floor(Date.now() / 1000);
    const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64url({ iss: stack.stack.oidc.issuer, aud: 'vend', sub: 'x', iat: now, exp: now + 600 })}`;
    const token = `${signingInput}.${createHmac('sha256', pem).update(signingInput).digest('base64url')}`;

    expect((await call(`Bearer ${token}`)).status).toBe(401);
  });
});

describe('the payload-2.0 event and the result', () => {
  it('hands a form body base64-encoded, as HTTP APIs do', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/open/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'a=1; b=2' },
      body: 'payload=%7B%22x%22%3A1%7D',
    });

    const { event, context, env } = await echoed(res);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64').toString()).toBe('payload=%7B%22x%22%3A1%7D');
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.authorizer).toBeUndefined();
    expect(event.requestContext.stage).toBe('$default');
    expect(context.functionName).toBe('vend-gateway-test-test-echo');
    expect(context.remainingMs).toBeGreaterThan(0);
    expect(context.remainingMs).toBeLessThanOrEqual(2000);
    expect(env.ECHO_STAGE).toBe('test');
    expect(res.headers.get('x-echo')).toBe('yes');
  });

  it('answers 500 Internal Server Error when the function throws', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/open/fail`);

    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
  });

  it('answers an unknown route 404 Not Found', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/nothing-here`);

    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'Not Found' });
  });

  it('answers a body over 10 MB 413 without running the function', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/open/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });

    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: 'Request Entity Too Large' });
  });
});
