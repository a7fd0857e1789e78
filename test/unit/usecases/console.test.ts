/**
 * Console sign-in with in-memory ports: the vend use case's records with `console` as the
 * delivery, the sign-in token asked for with the session and nothing else, the URL built on the
 * federation endpoint, and each failure dropping the session (no record, no URL).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import { parseEntitlement } from '../../../lib/domain/entitlement';
import { UpstreamUnavailableError, VendError } from '../../../lib/domain/errors';
import type { Entitlement } from '../../../lib/domain/types';
import type { AssumeRoleParams } from '../../../lib/ports';
import type { SigninSession } from '../../../lib/ports/sessions';
import { type ConsoleDeps, vendConsole } from '../../../lib/usecases/console';
import { alice, mallory, rawEntitlements } from '../domain/world';
import { MemoryLimiter } from './limiter-fake';
import { MemorySessionStore } from './sessions-fake';

const NOW = new Date('2026-11-29T10:00:00.000Z');
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const TOKEN = `FQoGZXIvYXdzEBYaD${'A'.repeat(200)}`;
const request = { requestId: 'req-1' };

let records: AuditRecord[];
let sessions: MemorySessionStore;
let asked: SigninSession[];
let signinFails: Error | undefined;
let assumed: AssumeRoleParams[];
let deps: ConsoleDeps;

beforeEach(() => {
  const ents = new Map<string, Entitlement>(
    Object.values(rawEntitlements()).map((r) => {
      const e = parseEntitlement(r);
      return [e.id, e];
    }),
  );
  records = [];
  sessions = new MemorySessionStore();
  asked = [];
  signinFails = undefined;
  assumed = [];
  let seq = 0;
  deps = {
    entitlements: {
      get: async (id) => ents.get(id),
      list: async () => [...ents.values()],
      put: async () => undefined,
    },
    audit: { append: async (r) => void records.push(structuredClone(r)) },
    issuer: {
      assume: async (p) => {
        assumed.push(p);
        return {
          accessKeyId: 'ASIAEXAMPLE000000001',
          secretAccessKey: SECRET,
          sessionToken: TOKEN,
          expiration: new Date(NOW.getTime() + p.durationSeconds * 1000),
          assumedRoleArn: `arn:aws:sts::444455556666:assumed-role/ProdReadOnly/${p.roleSessionName}`,
          assumedRoleId: `AROAEXAMPLE:${p.roleSessionName}`,
        };
      },
    },
    limiter: new MemoryLimiter(),
    sessions,
    rateLimits: { windowSeconds: 60, perCaller: 100, perEntitlement: 100, requestsPerCaller: 5 },
    now: () => NOW,
    newId: () => `01JD000000000000000000${String(++seq).padStart(4, '0')}`,
    log: { error: () => undefined },
    signin: {
      federationUrl: 'https://signin.aws.amazon.com/federation',
      getSigninToken: async (s) => {
        asked.push(s);
        if (signinFails) throw signinFails;
        return 'SIGNIN-TOKEN';
      },
    },
    consoleIssuer: 'https://vend.example.com/',
  };
});

async function refusal(p: Promise<unknown>): Promise<VendError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VendError);
  return e as VendError;
}

describe('vendConsole', () => {
  it('answers a sign-in URL and never the keys; the session is recorded as console', async () => {
    const out = await vendConsole(deps)({
      caller: alice(),
      body: { entitlement: 'prod-readonly', durationSeconds: 900 },
      request,
    });

    expect(out).toEqual({
      url: 'https://signin.aws.amazon.com/federation?Action=login&Issuer=https%3A%2F%2Fvend.example.com%2F&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F&SigninToken=SIGNIN-TOKEN',
      expiresAt: '2026-11-29T10:15:00Z',
      entitlement: 'prod-readonly',
      auditId: expect.any(String),
      assumedRoleArn: expect.stringContaining('assumed-role/ProdReadOnly/'),
    });
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
    expect(asked).toEqual([
      { accessKeyId: 'ASIAEXAMPLE000000001', secretAccessKey: SECRET, sessionToken: TOKEN },
    ]);
    expect(records.map((r) => [r.decision, r.delivery])).toEqual([
      ['intent', 'console'],
      ['issued', 'console'],
    ]);
    expect(sessions.items.get(out.auditId)?.delivery).toBe('console');
  });

  it('the federation endpoint failing is 503, audited as a console denial, and the session is dropped', async () => {
    signinFails = new UpstreamUnavailableError('the AWS sign-in endpoint is unavailable; retry shortly', 2);

    const e = await refusal(
      vendConsole(deps)({ caller: alice(), body: { entitlement: 'prod-readonly' }, request }),
    );

    expect(e.code).toBe('upstream_unavailable');
    expect(records.map((r) => r.decision)).toEqual(['intent', 'issued', 'denied']);
    expect(records[2]).toMatchObject({ reasonCode: 'upstream_unavailable', delivery: 'console' });
    expect(sessions.items.size).toBe(0);
  });

  it('a destination off the console’s hosts is 400, audited, before STS is asked', async () => {
    const e = await refusal(
      vendConsole(deps)({
        caller: alice(),
        body: { entitlement: 'prod-readonly', destination: 'https://evil.example/' },
        request,
      }),
    );
    expect(e.code).toBe('invalid_request');
    expect(assumed).toEqual([]);
    expect(records).toEqual([
      expect.objectContaining({ decision: 'denied', entitlement: 'prod-readonly', delivery: 'console' }),
    ]);
  });

  it('the vend rules hold: not entitled → 403 and no sign-in asked', async () => {
    expect(
      (
        await refusal(
          vendConsole(deps)({ caller: mallory(), body: { entitlement: 'prod-readonly' }, request }),
        )
      ).status,
    ).toBe(403);
    expect(asked).toEqual([]);
  });
});
