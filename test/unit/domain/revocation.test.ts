/**
 * The deny-list rules (lib/domain/revocation.ts) against docs/revocation.md: the exact document,
 * the Sids and buckets, pruning, the size limit, the ARNs; and the document evaluated by vend's own
 * IAM evaluator does what it says: the listed audit id and the revoked caller's earlier sessions are
 * denied everything, anything else is left to the role.
 */
import { describe, expect, it } from 'vitest';
import {
  ceilSecond,
  DenyListFullError,
  denyListArn,
  denyListDocument,
  entryKey,
  entryLive,
  entryPrunableAt,
  POLICY_MAX_CHARS,
  type RevocationEntry,
  revokerRoleArn,
} from '../../../lib/domain/revocation';
import { evaluatePolicySet, parsePolicy } from '../../../lib/iam';

const ROLE = 'arn:aws:iam::444455556666:role/ProdReadOnly';
const NOW = new Date('2026-11-29T10:00:00.000Z');
const session = (auditId: string, expiresAt: string): RevocationEntry => ({
  kind: 'session',
  auditId,
  expiresAt,
});

describe('the deny-list document', () => {
  it('is the boundary first, then one statement per quarter-hour bucket, then one per caller', () => {
    const doc = JSON.parse(
      denyListDocument(
        ROLE,
        [
          session('01KBAAAAAAAAAAAAAAAAAAAAA2', '2026-11-29T10:14:59Z'),
          session('01KBAAAAAAAAAAAAAAAAAAAAA1', '2026-11-29T10:05:00Z'),
          session('01KBAAAAAAAAAAAAAAAAAAAAA3', '2026-11-29T10:15:01Z'),
          { kind: 'caller', sourceIdentity: 'alice@example.com', before: '2026-11-29T09:59:01Z' },
        ],
        NOW,
      ),
    );

    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'VendBoundary', Effect: 'Allow', Action: '*', Resource: '*' },
        {
          Sid: 'VendRevokedSessionsUntil202611291015',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: {
              'aws:PrincipalTag/vend:audit-id': ['01KBAAAAAAAAAAAAAAAAAAAAA1', '01KBAAAAAAAAAAAAAAAAAAAAA2'],
            },
          },
        },
        {
          Sid: 'VendRevokedSessionsUntil202611291030',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalTag/vend:audit-id': ['01KBAAAAAAAAAAAAAAAAAAAAA3'] } },
        },
        {
          Sid: expect.stringMatching(/^VendRevokedCaller[0-9A-F]{16}$/),
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: { 'aws:SourceIdentity': 'alice@example.com' },
            DateLessThan: { 'aws:TokenIssueTime': '2026-11-29T09:59:01Z' },
          },
        },
      ],
    });
  });

  it('with nothing live is the boundary alone (the template’s initial document)', () => {
    const doc = denyListDocument(ROLE, [session('01KB0', '2026-11-29T09:00:00Z')], NOW);
    expect(JSON.parse(doc).Statement).toEqual([
      { Sid: 'VendBoundary', Effect: 'Allow', Action: '*', Resource: '*' },
    ]);
  });

  it('keeps the latest time of a caller revoked twice (it covers the earlier one)', () => {
    const doc = JSON.parse(
      denyListDocument(
        ROLE,
        [
          { kind: 'caller', sourceIdentity: 'alice@example.com', before: '2026-11-29T09:50:00Z' },
          { kind: 'caller', sourceIdentity: 'alice@example.com', before: '2026-11-29T09:55:00Z' },
        ],
        NOW,
      ),
    );
    expect(doc.Statement).toHaveLength(2);
    expect(doc.Statement[1].Condition.DateLessThan['aws:TokenIssueTime']).toBe('2026-11-29T09:55:00Z');
  });

  it('refuses (never truncates) a list over IAM’s 6,144 characters', () => {
    const many = Array.from({ length: 220 }, (_, i) =>
      session(`01KB${String(i).padStart(22, '0')}`, '2026-11-29T10:30:00Z'),
    );
    expect(() => denyListDocument(ROLE, many, NOW)).toThrow(DenyListFullError);
    const fits = many.slice(0, 150);
    expect(denyListDocument(ROLE, fits, NOW).length).toBeLessThanOrEqual(POLICY_MAX_CHARS);
  });
});

describe('entries', () => {
  it('a session entry lives until its bucket ends; a caller entry an hour after its time', () => {
    expect(entryPrunableAt(session('a', '2026-11-29T10:00:01Z')).toISOString()).toBe(
      '2026-11-29T10:15:00.000Z',
    );
    expect(entryPrunableAt(session('a', '2026-11-29T10:15:00Z')).toISOString()).toBe(
      '2026-11-29T10:15:00.000Z',
    );
    const caller: RevocationEntry = { kind: 'caller', sourceIdentity: 'a@x', before: '2026-11-29T09:00:00Z' };
    expect(entryLive(caller, new Date('2026-11-29T09:59:59Z'))).toBe(true);
    expect(entryLive(caller, new Date('2026-11-29T10:00:00Z'))).toBe(false);
  });

  it('keys are unique per revocation and never contain a secret-looking value', () => {
    expect(entryKey(session('01KBX', 'x'))).toBe('S#01KBX');
    const a = entryKey({
      kind: 'caller',
      sourceIdentity: 'alice@example.com',
      before: '2026-11-29T09:00:00Z',
    });
    const b = entryKey({
      kind: 'caller',
      sourceIdentity: 'alice@example.com',
      before: '2026-11-29T09:00:01Z',
    });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^C#[0-9A-F]{16}#2026-11-29T09:00:00Z$/);
  });

  it('the revocation time is rounded up to the whole second', () => {
    expect(ceilSecond(new Date('2026-11-29T10:15:00.120Z'))).toBe('2026-11-29T10:15:01Z');
    expect(ceilSecond(new Date('2026-11-29T10:15:00.000Z'))).toBe('2026-11-29T10:15:00Z');
  });

  it('names the deny list and the revoker of the role’s account', () => {
    expect(denyListArn(ROLE)).toBe('arn:aws:iam::444455556666:policy/vend/vend-revocations-ProdReadOnly');
    expect(denyListArn('arn:aws:iam::555566667777:role/teams/DeployRole')).toBe(
      'arn:aws:iam::555566667777:policy/vend/vend-revocations-DeployRole',
    );
    expect(revokerRoleArn('444455556666')).toBe('arn:aws:iam::444455556666:role/vend/vend-revoker');
  });
});

describe('the document, evaluated by vend’s IAM evaluator', () => {
  const doc = denyListDocument(
    ROLE,
    [
      session('01KBREVOKED000000000000001', '2026-11-29T10:10:00Z'),
      { kind: 'caller', sourceIdentity: 'carol@example.com', before: '2026-11-29T09:30:00Z' },
    ],
    NOW,
  );
  const boundary = parsePolicy(JSON.parse(doc), 'identity', 'vend-revocations-ProdReadOnly');
  const decide = (context: Record<string, string>) =>
    evaluatePolicySet([boundary], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context }).decision;

  it('denies the revoked audit id and the revoked caller’s earlier sessions; allows the rest', () => {
    expect(decide({ 'aws:PrincipalTag/vend:audit-id': '01KBREVOKED000000000000001' })).toBe('ExplicitDeny');
    expect(decide({ 'aws:PrincipalTag/vend:audit-id': '01KBKEPT000000000000000002' })).toBe('Allow');
    expect(
      decide({ 'aws:SourceIdentity': 'carol@example.com', 'aws:TokenIssueTime': '2026-11-29T09:29:59Z' }),
    ).toBe('ExplicitDeny');
    expect(
      decide({ 'aws:SourceIdentity': 'carol@example.com', 'aws:TokenIssueTime': '2026-11-29T09:30:00Z' }),
    ).toBe('Allow');
    expect(
      decide({ 'aws:SourceIdentity': 'Carol@example.com', 'aws:TokenIssueTime': '2026-11-29T09:00:00Z' }),
    ).toBe('Allow');
  });
});
