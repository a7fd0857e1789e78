/**
 * The local federation endpoint (`<awsUrl>/federation`, infra/local/federation) against the whole
 * local stack: a session vended by vend's own API (alice, prod-readonly) is exchanged with
 * `Action=getSigninToken` and signed in with `Action=login`, landing on the local console page
 * that names `assumed-role/ProdReadOnly/…`, the SourceIdentity and the expiry; no response on the
 * way carries the secret or the session token. Refusals are AWS's: HTTP 400 for unknown, forged,
 * expired or revoked credentials, for `SessionDuration` with role-chained credentials, for unknown
 * actions and missing parameters; a sign-in token works once.
 */
import { describe, expect, it } from 'vitest';
import { withStack } from '../../support/stack';
import { writeDenyList } from './deny-list';

let offsetMs = 0;
const stack = withStack({ now: () => new Date(Date.now() + offsetMs) });
const DESTINATION = 'https://console.aws.amazon.com/console/home?region=us-east-1';

interface Vended {
  credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
  assumedRoleArn: string;
  sourceIdentity: string;
  auditId: string;
}

async function vend(user: string, entitlement = 'prod-readonly'): Promise<Vended> {
  const res = await fetch(`${stack.apiUrl}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.token(user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entitlement, durationSeconds: 900 }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Vended;
}

const sessionJson = (c: { AccessKeyId: string; SecretAccessKey: string; SessionToken?: string }) =>
  JSON.stringify({ sessionId: c.AccessKeyId, sessionKey: c.SecretAccessKey, sessionToken: c.SessionToken });

async function getSigninToken(session: string, extra = '') {
  const res = await fetch(
    `${stack.awsUrl}/federation?Action=getSigninToken${extra}&Session=${encodeURIComponent(session)}`,
  );
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

const loginUrl = (token: string, destination = DESTINATION, issuer = 'https://vend.example.com/') =>
  `${stack.awsUrl}/federation?Action=login&Issuer=${encodeURIComponent(issuer)}` +
  `&Destination=${encodeURIComponent(destination)}&SigninToken=${encodeURIComponent(token)}`;

const tokenOf = (body: string) => (JSON.parse(body) as { SigninToken: string }).SigninToken;

describe('console sign-in through the local federation endpoint', () => {
  it('alice`s vended session signs in and lands on the console page naming assumed-role/ProdReadOnly/…', async () => {
    const v = await vend('alice');
    const got = await getSigninToken(sessionJson(v.credentials));
    expect(got.status).toBe(200);
    expect(got.type).toBe('application/json');
    const token = tokenOf(got.body);
    // Opaque: nothing of the credentials in it, in any encoding.
    for (const secret of [
      v.credentials.SecretAccessKey,
      v.credentials.SessionToken,
      v.credentials.AccessKeyId,
    ]) {
      expect(got.body).not.toContain(secret);
      expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain(secret.slice(0, 16));
    }

    const login = await fetch(loginUrl(token), { redirect: 'manual' });
    expect(login.status).toBe(302);
    const location = login.headers.get('location')!;
    expect(location).toMatch(/^\/federation\/console\/[A-Za-z0-9_-]{43}$/);

    const page = await fetch(new URL(location, stack.awsUrl));
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(v.assumedRoleArn).toMatch(/^arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\//);
    expect(html).toContain(`<strong id="assumed-role-arn">${v.assumedRoleArn}</strong>`);
    expect(html).toContain(`<dd id="source-identity">${v.sourceIdentity}</dd>`);
    expect(v.sourceIdentity).toBe('alice@example.com');
    // Without SessionDuration the console session lasts as long as the credentials.
    expect(html).toContain(`<dd id="expires-at">${v.credentials.Expiration}</dd>`);
    expect(html).toContain(`vend:audit-id=${v.auditId}`);
    for (const secret of [v.credentials.SecretAccessKey, v.credentials.SessionToken])
      expect(html).not.toContain(secret);
  });

  it('a sign-in token works once', async () => {
    const v = await vend('alice');
    const token = tokenOf((await getSigninToken(sessionJson(v.credentials))).body);
    expect((await fetch(loginUrl(token), { redirect: 'manual' })).status).toBe(302);
    const again = await fetch(loginUrl(token), { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(await again.text()).toBe('Invalid SigninToken parameter\n');
  });

  it('refuses unknown and forged credentials with a plain 400 that says nothing about which part failed', async () => {
    const v = await vend('alice');
    const c = v.credentials;
    const forged = [
      { ...c, AccessKeyId: 'ASIAAAAAAAAAAAAAAAAA' },
      { ...c, SecretAccessKey: `${c.SecretAccessKey.slice(0, -1)}x` },
      { ...c, SessionToken: `${c.SessionToken}x` },
      { ...c, SessionToken: '' },
    ];
    for (const f of forged) {
      const r = await getSigninToken(sessionJson(f));
      expect(r).toEqual({
        status: 400,
        type: 'text/plain; charset=utf-8',
        body: 'Invalid credentials parameter\n',
      });
    }
    // Long-term keys are not a session (AWS wants temporary credentials here).
    const broker = stack.credentials('vend-broker');
    expect(
      (
        await getSigninToken(
          sessionJson({ AccessKeyId: 'AKIAAAAAAAAAAAAAAAAA', SecretAccessKey: broker.secretAccessKey }),
        )
      ).status,
    ).toBe(400);
    for (const bad of ['', 'not json', '{"sessionId":"ASIA"}', '[]'])
      expect((await getSigninToken(bad)).status).toBe(400);
  });

  it('SessionDuration: refused for role-chained credentials (every vended session), honoured otherwise', async () => {
    const v = await vend('alice');
    expect(await getSigninToken(sessionJson(v.credentials), '&SessionDuration=1800')).toMatchObject({
      status: 400,
      body: 'Invalid credentials parameter\n',
    });
    // The broker's own base session is not chained (it models Lambda's credentials).
    const b = stack.credentials('vend-broker');
    const base = sessionJson({
      AccessKeyId: b.accessKeyId,
      SecretAccessKey: b.secretAccessKey,
      SessionToken: b.sessionToken,
    });
    const ok = await getSigninToken(base, '&SessionDuration=1800');
    expect(ok.status).toBe(200);
    const page = await fetch(loginUrl(tokenOf(ok.body)));
    const expires = /<dd id="expires-at">([^<]+)<\/dd>/.exec(await page.text())?.[1];
    expect(Date.parse(expires!) - Date.now() - offsetMs).toBeGreaterThan(1790_000);
    expect(Date.parse(expires!) - Date.now() - offsetMs).toBeLessThanOrEqual(1800_000);
    for (const d of ['899', '43201', '1e3', 'soon'])
      expect((await getSigninToken(base, `&SessionDuration=${d}`)).status).toBe(400);
  });

  it('unknown actions, missing parameters and foreign destinations are 400; the page escapes what it shows', async () => {
    const plain = async (query: string) => {
      const r = await fetch(`${stack.awsUrl}/federation${query}`, { redirect: 'manual' });
      return [r.status, await r.text()];
    };
    expect(await plain('')).toEqual([400, 'Missing Action parameter\n']);
    expect(await plain('?Action=getFederationToken')).toEqual([400, 'Invalid Action parameter\n']);
    expect(await plain('?Action=GetSigninToken')).toEqual([400, 'Invalid Action parameter\n']);
    expect(await plain('?Action=getSigninToken')).toEqual([400, 'Invalid credentials parameter\n']);
    expect(await plain('?Action=login')).toEqual([400, 'Invalid SigninToken parameter\n']);
    expect(
      await plain('?Action=login&SigninToken=abc&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F'),
    ).toEqual([400, 'Invalid SigninToken parameter\n']);
    expect((await fetch(`${stack.awsUrl}/federation/console/nope`)).status).toBe(404);

    const v = await vend('alice');
    for (const destination of [
      'https://evil.example.com/',
      'http://console.aws.amazon.com/',
      'javascript:alert(1)',
    ]) {
      const token = tokenOf((await getSigninToken(sessionJson(v.credentials))).body);
      expect((await fetch(loginUrl(token, destination), { redirect: 'manual' })).status).toBe(400);
    }
    const token = tokenOf((await getSigninToken(sessionJson(v.credentials))).body);
    const page = await fetch(loginUrl(token, DESTINATION, '<script>alert("x")</script>'));
    const html = await page.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('a revoked session is refused, and a console page opened before the revocation turns to 403', async () => {
    const v = await vend('alice');
    const kept = await vend('alice');
    const page = await fetch(loginUrl(tokenOf((await getSigninToken(sessionJson(v.credentials))).body)), {
      redirect: 'manual',
    });
    const consoleUrl = new URL(page.headers.get('location')!, stack.awsUrl);
    expect((await fetch(consoleUrl)).status).toBe(200);
    // A token issued before the revocation cannot be used after it either.
    const pending = tokenOf((await getSigninToken(sessionJson(v.credentials))).body);

    const broker = stack.credentials('vend-broker');
    await writeDenyList(stack.awsUrl, broker, '444455556666', 'ProdReadOnly', {
      sessions: [{ until: new Date(v.credentials.Expiration), auditIds: [v.auditId] }],
    });

    expect((await getSigninToken(sessionJson(v.credentials))).body).toBe('Invalid credentials parameter\n');
    expect((await fetch(loginUrl(pending), { redirect: 'manual' })).status).toBe(400);
    const revoked = await fetch(consoleUrl);
    expect(revoked.status).toBe(403);
    expect(await revoked.text()).toContain('Session revoked');
    expect((await getSigninToken(sessionJson(kept.credentials))).status).toBe(200);
  });

  it('an expired session is refused, and its console page says so (401)', async () => {
    const v = await vend('alice');
    const page = await fetch(loginUrl(tokenOf((await getSigninToken(sessionJson(v.credentials))).body)), {
      redirect: 'manual',
    });
    const consoleUrl = new URL(page.headers.get('location')!, stack.awsUrl);
    offsetMs += 901_000; // past the 900 s credentials (last test: signed calls would now be skewed)
    expect((await getSigninToken(sessionJson(v.credentials))).status).toBe(400);
    const expired = await fetch(consoleUrl);
    expect(expired.status).toBe(401);
    expect(await expired.text()).toContain('Session expired');
  });
});
