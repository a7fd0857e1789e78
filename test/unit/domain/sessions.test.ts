/**
 * Who may see and revoke which session (lib/domain/sessions.ts), when a session can still be
 * revoked, the revoke bodies; and the console rules (lib/domain/console.ts): the destination and the
 * sign-in URL.
 */
import { describe, expect, it } from 'vitest';
import {
  consoleDestination,
  DEFAULT_CONSOLE_DESTINATION,
  loginUrl,
  splitConsoleBody,
} from '../../../lib/domain/console';
import { ConflictError, InvalidRequestError } from '../../../lib/domain/errors';
import {
  actorOf,
  assertRevocable,
  listScope,
  mayRevoke,
  NotAllowedToListError,
  parseRevokeBody,
  parseRevokeCallerBody,
  type SessionRecord,
  sessionView,
} from '../../../lib/domain/sessions';
import { alice, bob, ciService, dave, entitlement, mallory, person } from './world';

const RIGHTS = { securityGroup: 'security-approvers' };
const NOW = new Date('2026-11-29T10:00:00.000Z');

function aliceSession(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    auditId: '01KB0000000000000000000001',
    caller: actorOf(alice()),
    entitlement: 'prod-admin',
    roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
    assumedRoleArn:
      'arn:aws:sts::444455556666:assumed-role/BreakGlassAdmin/vend-alice-01KB0000000000000000000001',
    sourceIdentity: 'alice@example.com',
    accessKeyId: 'ASIAEXAMPLE000000001',
    issuedAt: '2026-11-29T09:50:00.000Z',
    expiresAt: '2026-11-29T10:05:00Z',
    delivery: 'keys',
    ...over,
  };
}

describe('who may revoke a session', () => {
  const prodAdmin = entitlement('prod-admin');

  it('its owner, the entitlement’s approvers and the security group; nobody else', () => {
    const s = aliceSession();
    expect(mayRevoke(alice(), s, prodAdmin, RIGHTS)).toBe(true);
    expect(mayRevoke(bob(), s, prodAdmin, RIGHTS)).toBe(true);
    expect(
      mayRevoke(person('sam', ['platform-security']), s, prodAdmin, { securityGroup: 'platform-security' }),
    ).toBe(true);
    expect(mayRevoke(mallory(), s, prodAdmin, RIGHTS)).toBe(false);
    expect(mayRevoke(dave(), s, prodAdmin, RIGHTS)).toBe(false);
    expect(mayRevoke(ciService(), s, prodAdmin, RIGHTS)).toBe(false);
  });

  it('an approver of another entitlement is not an approver of this one; a deleted entitlement has none', () => {
    const s = aliceSession({ entitlement: 'prod-readonly' });
    const approverElsewhere = person('frank', ['deploy-approvers']);
    const gated = {
      ...entitlement('prod-admin'),
      approval: { approvals: 1, approverGroups: ['deploy-approvers'] },
    };
    expect(mayRevoke(approverElsewhere, s, entitlement('prod-readonly'), RIGHTS)).toBe(false);
    expect(mayRevoke(approverElsewhere, s, gated, RIGHTS)).toBe(true);
    expect(mayRevoke(approverElsewhere, s, undefined, RIGHTS)).toBe(false);
    expect(mayRevoke(bob(), s, undefined, RIGHTS)).toBe(true);
  });
});

describe('all=true', () => {
  const all = [entitlement('prod-readonly'), entitlement('prod-admin')];

  it('everything for the security group, the approved entitlements for approvers, refused otherwise', () => {
    expect(listScope(bob(), all, RIGHTS)).toEqual({ kind: 'all' });
    const approver = person('frank', ['security-approvers']);
    expect(listScope(approver, all, { securityGroup: 'someone-else' })).toEqual({
      kind: 'entitlements',
      ids: ['prod-admin'],
    });
    expect(() => listScope(alice(), all, RIGHTS)).toThrow(NotAllowedToListError);
    expect(() => listScope(ciService(), all, RIGHTS)).toThrow(NotAllowedToListError);
  });
});

describe('state', () => {
  it('live, revoked, expired as of now; only a live unrevoked one can be revoked (409 otherwise)', () => {
    const live = aliceSession();
    const revoked = aliceSession({
      revocation: { at: NOW.toISOString(), by: actorOf(bob()), reason: 'x', scope: 'session' },
    });
    const expired = aliceSession({ expiresAt: '2026-11-29T10:00:00Z' });
    expect(sessionView(live, NOW).status).toBe('live');
    expect(sessionView(revoked, NOW)).toMatchObject({ status: 'revoked', revoked: true });
    expect(sessionView(expired, NOW).status).toBe('expired');
    expect(() => assertRevocable(live, NOW)).not.toThrow();
    expect(() => assertRevocable(revoked, NOW)).toThrow(ConflictError);
    expect(() => assertRevocable(expired, NOW)).toThrow(ConflictError);
  });
});

describe('revoke bodies', () => {
  it('a reason is required, printable and bounded; nothing else is taken', () => {
    expect(parseRevokeBody({ reason: '  laptop lost  ' })).toEqual({ reason: 'laptop lost' });
    for (const body of [
      undefined,
      null,
      [],
      {},
      { reason: '' },
      { reason: ' ' },
      { reason: 7 },
      { reason: 'a\u0000b' },
    ]) {
      expect(() => parseRevokeBody(body), JSON.stringify(body)).toThrow(InvalidRequestError);
    }
    expect(() => parseRevokeBody({ reason: 'x'.repeat(513) })).toThrow(InvalidRequestError);
    expect(() => parseRevokeBody({ reason: 'ok', auditId: 'x' })).toThrow(/unknown field "auditId"/);
  });

  it('a caller revocation names a caller id of printable ASCII', () => {
    expect(
      parseRevokeCallerBody({ caller: 'arn:aws:iam::111122223333:role/CICDDeployRole', reason: 'r' }),
    ).toEqual({
      caller: 'arn:aws:iam::111122223333:role/CICDDeployRole',
      reason: 'r',
    });
    for (const caller of [undefined, '', 'a b', 'é', 'x'.repeat(513)]) {
      expect(() => parseRevokeCallerBody({ caller, reason: 'r' })).toThrow(InvalidRequestError);
    }
  });
});

describe('console sign-in rules', () => {
  it('the destination defaults to the console home and must be an AWS console page over https', () => {
    expect(consoleDestination(undefined)).toBe(DEFAULT_CONSOLE_DESTINATION);
    expect(consoleDestination('https://us-east-1.console.aws.amazon.com/s3/home?region=us-east-1')).toBe(
      'https://us-east-1.console.aws.amazon.com/s3/home?region=us-east-1',
    );
    expect(consoleDestination('https://console.amazonaws-us-gov.com/')).toBe(
      'https://console.amazonaws-us-gov.com/',
    );
    for (const bad of [
      'http://console.aws.amazon.com/',
      'https://console.aws.amazon.com.evil.example/',
      'https://evil.example/?https://console.aws.amazon.com/',
      'https://user:pw@console.aws.amazon.com/',
      'https://console.aws.amazon.com:8443/',
      'javascript:alert(1)',
      '//console.aws.amazon.com/',
      42,
      `https://console.aws.amazon.com/${'a'.repeat(2100)}`,
    ]) {
      expect(() => consoleDestination(bad), String(bad)).toThrow(InvalidRequestError);
    }
  });

  it('the body’s destination is taken out; the rest is the vend body', () => {
    expect(
      splitConsoleBody({ entitlement: 'prod-readonly', destination: 'https://console.aws.amazon.com/ec2/' }),
    ).toEqual({
      vendBody: { entitlement: 'prod-readonly' },
      destination: 'https://console.aws.amazon.com/ec2/',
    });
  });

  it('the sign-in URL is Action=login with Issuer, Destination and the token, on the federation endpoint', () => {
    const url = new URL(
      loginUrl({
        federationUrl: 'https://signin.aws.amazon.com/federation',
        issuer: 'https://vend.example.com/',
        destination: 'https://console.aws.amazon.com/',
        signinToken: 'tok&en=',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://signin.aws.amazon.com/federation');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'login',
      Issuer: 'https://vend.example.com/',
      Destination: 'https://console.aws.amazon.com/',
      SigninToken: 'tok&en=',
    });
  });
});
