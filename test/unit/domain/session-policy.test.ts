import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  InvalidRequestError,
  PolicyExceedsCeilingError,
  PolicyTooLargeError,
  type VendError,
} from '../../../lib/domain/errors';
import { buildSessionPolicy, SESSION_POLICY_MAX_CHARS } from '../../../lib/domain/session-policy';
import { s3ReadCeiling } from './world';

const BUCKET = 'arn:aws:s3:::my-prod-data-bucket';
const allow = (Action: unknown, Resource: unknown, extra: Record<string, unknown> = {}) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource, ...extra }],
});

function refusal(input: Parameters<typeof buildSessionPolicy>[0]): VendError {
  try {
    buildSessionPolicy(input);
  } catch (e) {
    return e as VendError;
  }
  throw new Error('expected buildSessionPolicy to refuse');
}

describe('buildSessionPolicy without a requested policy', () => {
  it('sends the ceiling itself, minified, with its SHA-256', () => {
    const ceiling = s3ReadCeiling();

    const { policy, hash } = buildSessionPolicy({ ceiling });

    expect(policy).toBe(JSON.stringify(ceiling));
    expect(policy).not.toMatch(/\n| {2}/);
    expect(hash).toBe(
      createHash('sha256')
        .update(policy ?? '')
        .digest('hex'),
    );
  });

  it('sends nothing when there is no ceiling either', () => {
    expect(buildSessionPolicy({})).toEqual({});
  });
});

describe('buildSessionPolicy with a requested policy inside the ceiling', () => {
  it('accepts a narrower Allow and appends the ceiling Deny statements', () => {
    const requested = allow('s3:GetObject', `${BUCKET}/reports/*`);

    const { policy } = buildSessionPolicy({ requested, ceiling: s3ReadCeiling() });
    const doc = JSON.parse(policy ?? '{}');

    expect(doc.Statement).toHaveLength(2);
    expect(doc.Statement[0]).toEqual(requested.Statement[0]);
    expect(doc.Statement[1]).toMatchObject({ Sid: 'NoSecrets', Effect: 'Deny' });
  });

  it('accepts the policy as a JSON string with whitespace, and minifies it', () => {
    const requested = JSON.stringify(
      allow(['s3:GetObject', 's3:ListBucket'], [BUCKET, `${BUCKET}/*`]),
      null,
      2,
    );

    const { policy } = buildSessionPolicy({ requested, ceiling: s3ReadCeiling() });

    expect(policy).not.toContain('\n');
    expect(JSON.parse(policy ?? '{}').Statement[0].Action).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it("keeps the caller's Deny statements", () => {
    const requested = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/*` },
        { Sid: 'NoTmp', Effect: 'Deny', Action: 's3:GetObject', Resource: `${BUCKET}/tmp/*` },
      ],
    };

    const doc = JSON.parse(buildSessionPolicy({ requested, ceiling: s3ReadCeiling() }).policy ?? '{}');

    expect(doc.Statement.map((s: { Sid?: string; Effect: string }) => s.Sid ?? s.Effect)).toEqual([
      'Allow',
      'NoTmp',
      'NoSecrets',
    ]);
  });

  it("renames a ceiling Deny whose Sid collides with the caller's", () => {
    const requested = allow('s3:GetObject', `${BUCKET}/*`, { Sid: 'NoSecrets' });

    const doc = JSON.parse(buildSessionPolicy({ requested, ceiling: s3ReadCeiling() }).policy ?? '{}');

    expect(doc.Statement.map((s: { Sid?: string }) => s.Sid)).toEqual(['NoSecrets', 'CeilingNoSecrets']);
  });

  it('hashes exactly what is sent, with an injectable digest', () => {
    const seen: string[] = [];

    const out = buildSessionPolicy({
      requested: allow('s3:GetObject', `${BUCKET}/*`),
      ceiling: s3ReadCeiling(),
      hash: (t) => {
        seen.push(t);
        return 'h';
      },
    });

    expect(out.hash).toBe('h');
    expect(seen).toEqual([out.policy]);
  });

  it('accepts a narrower resource under a wildcard ceiling resource (prod-deploy)', () => {
    const ceiling = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:PutObject'],
          Resource: 'arn:aws:s3:::prod-artifacts/*',
        },
      ],
    };
    const requested = allow('s3:PutObject', 'arn:aws:s3:::prod-artifacts/app/v1.2.3/*');

    expect(buildSessionPolicy({ requested, ceiling }).policy).toContain('prod-artifacts/app/v1.2.3/*');
  });

  it('sends Version 2012-10-17 for a requested policy that omitted it', () => {
    const requested = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/*` }] };

    expect(
      JSON.parse(buildSessionPolicy({ requested, ceiling: s3ReadCeiling() }).policy ?? '{}').Version,
    ).toBe('2012-10-17');
  });

  it('without a ceiling, still validates and sends the requested policy', () => {
    const requested = allow('s3:GetObject', `${BUCKET}/*`);

    expect(JSON.parse(buildSessionPolicy({ requested }).policy ?? '{}')).toEqual(requested);
  });
});

describe('buildSessionPolicy refuses', () => {
  it('a policy wider than the ceiling (403 policy_exceeds_ceiling), naming the action', () => {
    const err = refusal({
      requested: allow(['s3:GetObject', 's3:PutObject'], `${BUCKET}/*`),
      ceiling: s3ReadCeiling(),
    });

    expect(err).toBeInstanceOf(PolicyExceedsCeilingError);
    expect(err.status).toBe(403);
    expect(err.code).toBe('policy_exceeds_ceiling');
    expect(err.detail).toContain('Statement[0]');
    expect(err.detail).toContain('s3:PutObject');
    expect((err as PolicyExceedsCeilingError).violation).toMatchObject({
      statement: 0,
      action: 's3:PutObject',
    });
  });

  it('a resource outside the ceiling, naming the resource', () => {
    const err = refusal({
      requested: allow('s3:GetObject', 'arn:aws:s3:::other-bucket/*'),
      ceiling: s3ReadCeiling(),
    });

    expect(err.code).toBe('policy_exceeds_ceiling');
    expect(err.detail).toContain('arn:aws:s3:::other-bucket/*');
  });

  it('names the first statement that falls outside', () => {
    const requested = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/*` },
        { Sid: 'Wider', Effect: 'Allow', Action: 's3:DeleteObject', Resource: `${BUCKET}/*` },
      ],
    };

    const err = refusal({ requested, ceiling: s3ReadCeiling() }) as PolicyExceedsCeilingError;

    expect(err.violation).toMatchObject({ statement: 1, sid: 'Wider' });
    expect(err.detail).toContain('Statement[1] (Sid "Wider")');
  });

  it.each([
    ['an action wildcard wider than the ceiling action', allow('s3:Get*', `${BUCKET}/*`)],
    ['a resource wildcard wider than the ceiling resource', allow('s3:GetObject', 'arn:aws:s3:::my-prod-*')],
    ['"Action": "*"', allow('*', `${BUCKET}/*`)],
    ['"Action": "s3:*"', allow('s3:*', `${BUCKET}/*`)],
    ['"Resource": "*"', allow('s3:GetObject', '*')],
  ])('%s against a ceiling', (_what, requested) => {
    expect(refusal({ requested, ceiling: s3ReadCeiling() }).code).toBe('policy_exceeds_ceiling');
  });

  it.each([
    [
      'NotAction',
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', NotAction: 's3:PutObject', Resource: `${BUCKET}/*` }],
      },
    ],
    [
      'NotResource',
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', NotResource: `${BUCKET}/x` }],
      },
    ],
  ])('an Allow with %s against a ceiling', (element, requested) => {
    const err = refusal({ requested, ceiling: s3ReadCeiling() });

    expect(err.code).toBe('policy_exceeds_ceiling');
    expect(err.detail).toContain(element);
  });

  it('invalid JSON (400 invalid_request)', () => {
    const err = refusal({ requested: '{"Version": "2012-10-17", "Statement": [', ceiling: s3ReadCeiling() });

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err.status).toBe(400);
    expect(err.detail).toBe('policy is not valid JSON');
  });

  it.each([
    ['a JSON array', '[]'],
    ['a JSON string', '"x"'],
    ['JSON null', 'null'],
  ])('%s instead of a document', (_what, requested) => {
    expect(refusal({ requested }).code).toBe('invalid_request');
  });

  it('a document that is not a valid session policy, naming the path', () => {
    const err = refusal({
      requested: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] },
    });

    expect(err.code).toBe('invalid_request');
    expect(err.detail).toMatch(/^policy is not a valid session policy: Statement/);
  });

  it('policy variables in a document without Version 2012-10-17 (their meaning would change)', () => {
    const requested = {
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/\${aws:username}/*` }],
    };

    const err = refusal({ requested, ceiling: s3ReadCeiling() });

    expect(err.code).toBe('invalid_request');
    expect(err.detail).toMatch(/2012-10-17/);
  });

  it('a session policy with a Principal', () => {
    const requested = allow('s3:GetObject', `${BUCKET}/*`, { Principal: { AWS: '*' } });

    expect(refusal({ requested }).code).toBe('invalid_request');
  });

  it('a policy over the size limit (400 policy_too_large)', () => {
    const resources = Array.from({ length: 80 }, (_, i) => `${BUCKET}/prefix-${i}/*`);
    const requested = allow('s3:GetObject', resources);
    expect(JSON.stringify(requested).length).toBeGreaterThan(SESSION_POLICY_MAX_CHARS);

    const err = refusal({ requested, ceiling: s3ReadCeiling() });

    expect(err).toBeInstanceOf(PolicyTooLargeError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('policy_too_large');
    expect(err.detail).toContain('2048');
  });

  it('a policy that fits alone but not with the ceiling Denies appended', () => {
    const ceilingDenyChars = JSON.stringify((s3ReadCeiling().Statement as unknown[])[1]).length + 1;
    const base = JSON.stringify(allow('s3:GetObject', [`${BUCKET}/a`]));
    const pad = 'x'.repeat(SESSION_POLICY_MAX_CHARS - base.length - ceilingDenyChars + 10);
    const requested = allow('s3:GetObject', [`${BUCKET}/a${pad}`]);
    expect(JSON.stringify(requested).length).toBeLessThanOrEqual(SESSION_POLICY_MAX_CHARS);

    expect(refusal({ requested, ceiling: s3ReadCeiling() }).code).toBe('policy_too_large');
  });

  it('a huge policy string before parsing it', () => {
    expect(refusal({ requested: ' '.repeat(40_000) }).code).toBe('policy_too_large');
  });

  it('characters outside the STS Policy charset', () => {
    const requested = allow('s3:GetObject', `${BUCKET}/reports-\u4e2d\u6587/*`);

    const err = refusal({ requested, ceiling: s3ReadCeiling() });

    expect(err.code).toBe('invalid_request');
    expect(err.detail).toMatch(/characters STS does not accept/);
  });

  it('accepts Latin-1 characters, which STS allows', () => {
    const requested = allow('s3:GetObject', `${BUCKET}/caf\u00e9/*`);

    expect(buildSessionPolicy({ requested, ceiling: s3ReadCeiling() }).policy).toContain('caf\u00e9');
  });
});
