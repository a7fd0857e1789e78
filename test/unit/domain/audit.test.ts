import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import { assertNoSecrets, deniedRecord, intentRecord, issuedRecord } from '../../../lib/domain/audit';
import { AuditSecretLeakError } from '../../../lib/domain/errors';
import { alice, ciService, ISSUER } from './world';

const TIME = new Date('2026-11-29T10:00:00.000Z');
const request = { sourceIp: '10.0.0.7', userAgent: 'aws-cli/1.36.0', requestId: 'JKyDvj0goAMEMLQ=' };
const facts = () => ({
  caller: ciService(),
  entitlement: 'prod-s3-read',
  roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
  durationSeconds: 900,
  sessionName: 'vend-CICDDeployRole-a1',
  sourceIdentity: 'CICDDeployRole@111122223333',
  sessionPolicyHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
});

describe('intentRecord', () => {
  it('holds caller, entitlement, role, duration, session name, SourceIdentity, policy hash and request facts', () => {
    const record = intentRecord({ id: 'r1', time: TIME, auditId: 'a1', request, ...facts() });

    expect(record).toEqual({
      id: 'r1',
      time: '2026-11-29T10:00:00.000Z',
      decision: 'intent',
      auditId: 'a1',
      caller: {
        id: 'arn:aws:iam::111122223333:role/CICDDeployRole',
        kind: 'service',
        label: 'CICDDeployRole (111122223333)',
      },
      entitlement: 'prod-s3-read',
      roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
      durationSeconds: 900,
      sessionName: 'vend-CICDDeployRole-a1',
      sourceIdentity: 'CICDDeployRole@111122223333',
      sessionPolicyHash: facts().sessionPolicyHash,
      sourceIp: '10.0.0.7',
      userAgent: 'aws-cli/1.36.0',
      requestId: 'JKyDvj0goAMEMLQ=',
    });
  });

  it('omits what is unknown instead of storing undefined', () => {
    const { sessionPolicyHash: _, ...noPolicy } = facts();

    const record = intentRecord({ id: 'r1', time: TIME, auditId: 'a1', ...noPolicy });

    expect(Object.keys(record)).not.toContain('sessionPolicyHash');
    expect(Object.keys(record)).not.toContain('sourceIp');
  });
});

describe('issuedRecord', () => {
  it('adds AccessKeyId and expiry, linked to the intent by auditId', () => {
    const intent = intentRecord({ id: 'r1', time: TIME, auditId: 'a1', request, ...facts() });

    const issued = issuedRecord({
      id: 'r2',
      time: new Date('2026-11-29T10:00:01.000Z'),
      auditId: 'a1',
      request,
      ...facts(),
      accessKeyId: 'ASIAEXAMPLEVENDED001',
      expiration: '2026-11-29T10:15:01Z',
    });

    expect(issued.decision).toBe('issued');
    expect(issued.auditId).toBe(intent.auditId);
    expect(issued.accessKeyId).toBe('ASIAEXAMPLEVENDED001');
    expect(issued.expiration).toBe('2026-11-29T10:15:01Z');
    expect(issued.caller).toEqual(intent.caller);
  });
});

describe('deniedRecord', () => {
  it('records the reason code and whatever was known', () => {
    const record = deniedRecord({
      id: 'r3',
      time: TIME,
      auditId: 'a2',
      request,
      caller: alice(),
      entitlement: 'prod-admin',
      reasonCode: 'approval_required',
      reasonDetail: '"prod-admin" needs an approved request',
    });

    expect(record).toMatchObject({
      decision: 'denied',
      reasonCode: 'approval_required',
      entitlement: 'prod-admin',
      caller: { id: `${ISSUER}#alice`, kind: 'person', label: 'alice@example.com' },
    });
    expect(Object.keys(record)).not.toContain('roleArn');
  });
});

describe('assertNoSecrets', () => {
  const good = (): AuditRecord => intentRecord({ id: 'r1', time: TIME, auditId: 'a1', request, ...facts() });

  it('passes a normal record (ARNs, hashes, AccessKeyIds, request ids)', () => {
    expect(() => assertNoSecrets(good(), { externalIds: ['prod-s3-ext-19c2'] })).not.toThrow();
  });

  it('refuses a value that looks like a SecretAccessKey, naming the field only', () => {
    const record = { ...good(), userAgent: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

    const act = () => assertNoSecrets(record);

    expect(act).toThrow(AuditSecretLeakError);
    expect(act).toThrow(/userAgent/);
    expect(act).not.toThrow(/wJalrXUtnFEMI/);
  });

  it('refuses a value that looks like a SessionToken', () => {
    const token = `IQoJb3JpZ2luX2VjE${'A1b2C3d4'.repeat(40)}==`;

    expect(() => assertNoSecrets({ ...good(), reason: token })).toThrow(/reason looks like a SessionToken/);
  });

  it('refuses a value equal to or containing an ExternalId', () => {
    expect(() =>
      assertNoSecrets({ ...good(), reason: 'prod-s3-ext-19c2' }, { externalIds: ['prod-s3-ext-19c2'] }),
    ).toThrow(AuditSecretLeakError);
    expect(() =>
      assertNoSecrets(
        { ...good(), reason: 'my id is prod-s3-ext-19c2' },
        { externalIds: ['prod-s3-ext-19c2'] },
      ),
    ).toThrow(/contains an ExternalId/);
  });

  it('refuses a secret-named field anywhere, even nested', () => {
    const record = {
      ...good(),
      caller: { id: 'x', kind: 'service', label: 'y', SessionToken: 'z' },
    } as unknown as AuditRecord;

    expect(() => assertNoSecrets(record)).toThrow(/caller.SessionToken/);
  });

  it('does not mistake a 40-character hex digest for a secret key', () => {
    expect(() =>
      assertNoSecrets({ ...good(), reason: 'a'.repeat(20) + '0123456789'.repeat(2) }),
    ).not.toThrow();
  });
});
