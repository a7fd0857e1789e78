/**
 * The leak scanner itself: it finds every kind of secret wherever the suite looks, and leaves the
 * legitimate places alone. Uses its own scanner instances (planting a leak in the suite-wide one
 * would fail this file), plus one end-to-end check that the setup file feeds the suite-wide one.
 */
import { describe, expect, it } from 'vitest';
import { withStack } from '../stack';
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
