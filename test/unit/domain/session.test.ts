import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidAuditIdError } from '../../../lib/domain/errors';
import { sessionName, sessionTags, sourceIdentity, transitiveTagKeys } from '../../../lib/domain/session';
import type { Caller, PersonCaller, ServiceCaller } from '../../../lib/domain/types';
import { alice, ciService, ISSUER } from './world';

// The STS constraints (fact sheet §1), written out independently of lib/domain/limits.ts.
const STS_NAME = /^[A-Za-z0-9_+=,.@-]{2,64}$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const AUDIT_ID = '01JD5Z3Q9R8X7W6V5T4S3R2Q1P';

const auditIdArb = fc.stringMatching(/^[A-Za-z0-9_+=,.@-]{1,40}$/);
const roleNameArb = fc.stringMatching(/^[A-Za-z0-9_+=,.@-]{1,64}$/);
const accountArb = fc.stringMatching(/^\d{12}$/);
const serviceArb: fc.Arbitrary<ServiceCaller> = fc
  .record({ name: roleNameArb, account: accountArb })
  .map(({ name, account }) => ({
    kind: 'service',
    roleArn: `arn:aws:iam::${account}:role/${name}`,
    account,
    principalArn: `arn:aws:sts::${account}:assumed-role/${name}/s`,
    userId: 'AROAEXAMPLE:s',
    accessKeyId: 'ASIAEXAMPLE',
  }));
const personArb: fc.Arbitrary<PersonCaller> = fc
  .record({
    issuer: fc.oneof(fc.webUrl(), fc.string({ unit: 'binary', maxLength: 300 })),
    subject: fc.oneof(fc.uuid(), fc.string({ unit: 'binary', minLength: 1, maxLength: 300 })),
    email: fc.option(fc.oneof(fc.emailAddress(), fc.string({ unit: 'binary', maxLength: 100 })), {
      nil: undefined,
    }),
  })
  .map(({ issuer, subject, email }) => {
    const p: PersonCaller = { kind: 'person', issuer, subject, groups: [] };
    if (email !== undefined) p.email = email;
    return p;
  });
const callerArb: fc.Arbitrary<Caller> = fc.oneof(serviceArb, personArb);

describe('sessionName', () => {
  it('reads as vend-<who>-<audit id>', () => {
    expect(sessionName({ caller: alice(), auditId: AUDIT_ID })).toBe(`vend-alice-${AUDIT_ID}`);
    expect(sessionName({ caller: ciService(), auditId: AUDIT_ID })).toBe(`vend-CICDDeployRole-${AUDIT_ID}`);
  });

  it('uses the subject when a person has no email', () => {
    const p = alice();
    delete p.email;
    p.subject = 'user|1234';

    expect(sessionName({ caller: p, auditId: 'a1' })).toBe('vend-user-1234-a1');
  });

  it('is always a valid RoleSessionName, ending with the whole audit id', () => {
    fc.assert(
      fc.property(callerArb, auditIdArb, (caller, auditId) => {
        const name = sessionName({ caller, auditId });
        expect(name).toMatch(STS_NAME);
        expect(name.endsWith(auditId)).toBe(true);
      }),
    );
  });

  it('differs for two vends by the same caller (unique per audit id)', () => {
    fc.assert(
      fc.property(callerArb, auditIdArb, auditIdArb, (caller, a, b) => {
        fc.pre(a !== b);
        expect(sessionName({ caller, auditId: a })).not.toBe(sessionName({ caller, auditId: b }));
      }),
    );
  });

  it.each(['', 'x'.repeat(41), 'has space', 'colon:'])('refuses the audit id %j (a vend bug)', (auditId) => {
    expect(() => sessionName({ caller: alice(), auditId })).toThrow(InvalidAuditIdError);
  });
});

describe('sourceIdentity', () => {
  it('is role@account for services and the email for people', () => {
    expect(sourceIdentity(ciService())).toBe('CICDDeployRole@111122223333');
    expect(sourceIdentity(alice())).toBe('alice@example.com');
  });

  it('falls back to the subject when the email is absent or not STS-safe', () => {
    const p = alice();
    p.email = "o'brien@example.com";

    expect(sourceIdentity(p)).toBe('alice');
  });

  it('sanitises and hash-suffixes a subject outside the charset, keeping distinct subjects distinct', () => {
    const a: PersonCaller = { kind: 'person', issuer: ISSUER, subject: 'auth0|abc', groups: [] };
    const b: PersonCaller = { ...a, subject: 'auth0/abc' };

    expect(sourceIdentity(a)).toMatch(/^auth0-abc-[0-9a-f]{8}$/);
    expect(sourceIdentity(a)).not.toBe(sourceIdentity(b));
  });

  it('pads a one-character subject past the 2-character minimum', () => {
    const p: PersonCaller = { kind: 'person', issuer: ISSUER, subject: 'a', groups: [] };

    expect(sourceIdentity(p)).toMatch(STS_NAME);
  });

  it('is always 2–64 characters of [\\w+=,.@-], so never carries the aws: prefix', () => {
    fc.assert(
      fc.property(callerArb, (caller) => {
        const id = sourceIdentity(caller);
        expect(id).toMatch(STS_NAME);
        expect(id.toLowerCase().startsWith('aws:')).toBe(false);
      }),
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(callerArb, (caller) => {
        expect(sourceIdentity(caller)).toBe(sourceIdentity(structuredClone(caller)));
      }),
    );
  });
});

describe('sessionTags', () => {
  it('sets the vend:* tags from server-side facts', () => {
    const tags = sessionTags({
      caller: ciService(),
      entitlement: { id: 'prod-readonly' },
      auditId: AUDIT_ID,
    });

    expect(tags).toEqual([
      { Key: 'vend:entitlement', Value: 'prod-readonly' },
      { Key: 'vend:caller', Value: 'arn:aws:iam::111122223333:role/CICDDeployRole' },
      { Key: 'vend:caller-kind', Value: 'service' },
      { Key: 'vend:audit-id', Value: AUDIT_ID },
    ]);
  });

  it('sanitises a person caller id (# is outside the tag charset)', () => {
    const tags = sessionTags({ caller: alice(), entitlement: { id: 'prod-readonly' }, auditId: AUDIT_ID });
    const caller = tags.find((t) => t.Key === 'vend:caller');

    expect(caller?.Value).toMatch(TAG_VALUE);
    expect(caller?.Value).toContain('alice');
  });

  it('always yields valid keys and values within STS limits', () => {
    fc.assert(
      fc.property(callerArb, auditIdArb, (caller, auditId) => {
        const tags = sessionTags({ caller, entitlement: { id: 'prod-readonly' }, auditId });
        expect(tags.length).toBeLessThanOrEqual(50);
        for (const t of tags) {
          expect(t.Key).toMatch(TAG_KEY);
          expect(t.Value).toMatch(TAG_VALUE);
          expect(Array.from(t.Value).length).toBeLessThanOrEqual(256);
          expect(t.Key.startsWith('aws:')).toBe(false);
        }
      }),
    );
  });

  it('marks every vend:* tag transitive', () => {
    const tags = sessionTags({ caller: alice(), entitlement: { id: 'prod-readonly' }, auditId: AUDIT_ID });

    expect(transitiveTagKeys(tags)).toEqual([
      'vend:entitlement',
      'vend:caller',
      'vend:caller-kind',
      'vend:audit-id',
    ]);
    expect(transitiveTagKeys([...tags, { Key: 'team', Value: 'x' }])).not.toContain('team');
  });
});
