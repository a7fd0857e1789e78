import { describe, expect, it } from 'vitest';
import {
  mayBreakGlass,
  mayRequest,
  mayUse,
  parseEntitlement,
  publicEntitlement,
  resolveEntitlement,
  visibleEntitlements,
} from '../../../lib/domain/entitlement';
import { ApprovalRequiredError, EntitlementConfigError, NotEntitledError } from '../../../lib/domain/errors';
import type { ServiceCaller } from '../../../lib/domain/types';
import { alice, bob, ciService, dave, entitlement, ISSUER, mallory, person, rawEntitlements } from './world';

function configError(raw: unknown): EntitlementConfigError {
  try {
    parseEntitlement(raw);
  } catch (e) {
    if (e instanceof EntitlementConfigError) return e;
    throw e;
  }
  throw new Error('expected parseEntitlement to refuse the definition');
}

const readonlyRaw = () => rawEntitlements()['prod-readonly'] as Record<string, unknown>;

describe('parseEntitlement accepts the demo world', () => {
  it.each(Object.keys(rawEntitlements()))('%s', (id) => {
    const raw = rawEntitlements()[id];

    const ent = parseEntitlement(raw);

    expect(ent.id).toBe(id);
    expect(ent.roleArn).toBe(raw?.roleArn);
    expect(ent.maxDurationSeconds).toBeLessThanOrEqual(3600);
  });

  it('fills defaults: max 3600, default = max, no principals', () => {
    const ent = parseEntitlement({ id: 'bare', roleArn: 'arn:aws:iam::444455556666:role/X' });

    expect(ent).toEqual({
      id: 'bare',
      roleArn: 'arn:aws:iam::444455556666:role/X',
      maxDurationSeconds: 3600,
      defaultDurationSeconds: 3600,
      principals: { roles: [], groups: [] },
    });
  });

  it('accepts a role ARN with a path', () => {
    expect(
      parseEntitlement({ ...readonlyRaw(), roleArn: 'arn:aws:iam::444455556666:role/ops/team/Reader' })
        .roleArn,
    ).toBe('arn:aws:iam::444455556666:role/ops/team/Reader');
  });
});

describe('parseEntitlement refuses at load, naming entitlement and field', () => {
  it('a max above one hour, explaining role chaining', () => {
    const err = configError({ ...readonlyRaw(), maxDurationSeconds: 7200 });

    expect(err.entitlement).toBe('prod-readonly');
    expect(err.field).toBe('maxDurationSeconds');
    expect(err.message).toMatch(/role chaining/);
    expect(err.message).toMatch(/3600/);
  });

  it.each([
    ['unknown top-level key', { trustPolicy: {} }, 'trustPolicy'],
    [
      'a session ARN as roleArn',
      { roleArn: 'arn:aws:sts::444455556666:assumed-role/ProdReadOnly/x' },
      'roleArn',
    ],
    ['a user ARN as roleArn', { roleArn: 'arn:aws:iam::444455556666:user/bob' }, 'roleArn'],
    ['a bad account in roleArn', { roleArn: 'arn:aws:iam::4444:role/ProdReadOnly' }, 'roleArn'],
    [
      'a default above the max',
      { maxDurationSeconds: 1800, defaultDurationSeconds: 3600 },
      'defaultDurationSeconds',
    ],
    ['a default below 900', { defaultDurationSeconds: 899 }, 'defaultDurationSeconds'],
    ['a max below 900', { maxDurationSeconds: 600, defaultDurationSeconds: 600 }, 'maxDurationSeconds'],
    ['a fractional max', { maxDurationSeconds: 1800.5 }, 'maxDurationSeconds'],
    ['a string max', { maxDurationSeconds: '3600' }, 'maxDurationSeconds'],
    [
      'an invalid ceiling',
      { ceiling: { Version: '2012-10-17', Statement: [{ Effect: 'Maybe' }] } },
      'ceiling',
    ],
    [
      'a ceiling with policy variables but no 2012-10-17 Version',
      {
        ceiling: {
          Statement: [
            { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/$' + '{aws:username}' },
          ],
        },
      },
      'ceiling',
    ],
    ['a ceiling that is not an object', { ceiling: '{}' }, 'ceiling'],
    [
      'a session ARN as a principal role',
      { principals: { roles: ['arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci'] } },
      'principals.roles[0]',
    ],
    ['an unknown principals key', { principals: { emails: ['alice@example.com'] } }, 'principals.emails'],
    ['non-string groups', { principals: { groups: [1] } }, 'principals.groups'],
    ['requester groups without an approval gate', { requesterGroups: ['sre'] }, 'requesterGroups'],
    [
      'zero approvals',
      { approval: { approvals: 0, approverGroups: ['security-approvers'] } },
      'approval.approvals',
    ],
    [
      'an approval gate without approvers',
      { approval: { approvals: 1, approverGroups: [] } },
      'approval.approverGroups',
    ],
    [
      'a break-glass max above one hour',
      { breakGlass: { groups: ['oncall'], maxDurationSeconds: 7200 } },
      'breakGlass.maxDurationSeconds',
    ],
    ['a break-glass without groups', { breakGlass: { groups: [] } }, 'breakGlass.groups'],
  ])('%s', (_what, patch, field) => {
    const err = configError({ ...readonlyRaw(), ...patch });

    expect(err.entitlement).toBe('prod-readonly');
    expect(err.field.startsWith(field)).toBe(true);
    expect(err.message).toContain('prod-readonly');
  });

  it.each(['A-upper', '-leading-dash', 'x', 'has space', 'a'.repeat(64)])('an id such as %j', (id) => {
    expect(configError({ ...readonlyRaw(), id }).field).toBe('id');
  });

  it('an invalid ExternalId without quoting it', () => {
    const err = configError({ ...readonlyRaw(), externalId: 'has a space secret-ext' });

    expect(err.field).toBe('externalId');
    expect(err.message).not.toContain('secret-ext');
  });

  it('a ceiling too large to send to STS', () => {
    const big = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: Array.from({ length: 100 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`),
        },
      ],
    };

    const err = configError({ ...readonlyRaw(), ceiling: big });

    expect(err.field).toBe('ceiling');
    expect(err.message).toContain('2048');
  });
});

describe('mayUse: deny by default', () => {
  it('lets a service in by its exact role', () => {
    expect(mayUse(ciService(), entitlement('prod-readonly'))).toBe(true);
  });

  it('matches a listed role with a path (session ARNs carry no path)', () => {
    const ent = entitlement('prod-readonly');
    ent.principals.roles = ['arn:aws:iam::111122223333:role/ci/CICDDeployRole'];

    expect(mayUse(ciService(), ent)).toBe(true);
  });

  it('refuses the same role name in another account', () => {
    const other: ServiceCaller = {
      ...ciService(),
      roleArn: 'arn:aws:iam::999988887777:role/CICDDeployRole',
      account: '999988887777',
    };

    expect(mayUse(other, entitlement('prod-readonly'))).toBe(false);
  });

  it('refuses a role whose name only starts the same', () => {
    const other: ServiceCaller = {
      ...ciService(),
      roleArn: 'arn:aws:iam::111122223333:role/CICDDeployRoleX',
    };

    expect(mayUse(other, entitlement('prod-readonly'))).toBe(false);
  });

  it('lets a person in by group', () => {
    expect(mayUse(alice(), entitlement('prod-readonly'))).toBe(true);
  });

  it('refuses a person without a matching group', () => {
    expect(mayUse(mallory(), entitlement('prod-readonly'))).toBe(false);
    expect(mayUse(bob(), entitlement('prod-readonly'))).toBe(false);
  });

  it('never matches by email', () => {
    const ent = entitlement('prod-readonly');
    ent.principals.groups = ['alice@example.com'];
    const impostor = { ...mallory(), email: 'alice@example.com' };

    expect(mayUse(impostor, ent)).toBe(false);
  });

  it('refuses everyone when no principals are listed', () => {
    const ent = entitlement('prod-admin');

    expect([ciService(), alice(), dave(), bob(), mallory()].map((c) => mayUse(c, ent))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('resolveEntitlement', () => {
  it('returns the entitlement the caller may use', () => {
    const ent = entitlement('prod-s3-read');

    expect(resolveEntitlement(ciService(), 'prod-s3-read', ent)).toBe(ent);
  });

  it('refuses an unknown entitlement with 403 not_entitled', () => {
    const act = () => resolveEntitlement(ciService(), 'prod-nope', undefined);

    expect(act).toThrow(NotEntitledError);
    expect(act).toThrow('you are not entitled to "prod-nope", or it does not exist');
  });

  it("refuses another caller's entitlement with the same error as an unknown one", () => {
    let unknown: unknown;
    let notYours: unknown;
    try {
      resolveEntitlement(mallory(), 'prod-readonly', undefined);
    } catch (e) {
      unknown = e;
    }
    try {
      resolveEntitlement(mallory(), 'prod-readonly', entitlement('prod-readonly'));
    } catch (e) {
      notYours = e;
    }

    expect(notYours).toBeInstanceOf(NotEntitledError);
    expect(notYours).toMatchObject({ status: 403, code: 'not_entitled' });
    expect((notYours as NotEntitledError).detail).toBe((unknown as NotEntitledError).detail);
  });

  it('refuses a lookup result whose id is not the one asked for', () => {
    expect(() => resolveEntitlement(ciService(), 'prod-s3-read', entitlement('prod-readonly'))).toThrow(
      NotEntitledError,
    );
  });

  it('answers approval_required to a requester of a gated entitlement', () => {
    const act = () => resolveEntitlement(alice(), 'prod-admin', entitlement('prod-admin'));

    expect(act).toThrow(ApprovalRequiredError);
    try {
      act();
    } catch (e) {
      expect(e).toMatchObject({ status: 403, code: 'approval_required' });
    }
  });

  it('answers not_entitled to a service or outsider on a gated entitlement', () => {
    expect(() => resolveEntitlement(ciService(), 'prod-admin', entitlement('prod-admin'))).toThrow(
      NotEntitledError,
    );
    expect(() => resolveEntitlement(bob(), 'prod-admin', entitlement('prod-admin'))).toThrow(
      NotEntitledError,
    );
  });
});

describe('mayRequest and mayBreakGlass', () => {
  it('follow requester and break-glass groups; services never request', () => {
    const ent = entitlement('prod-admin');

    expect(mayRequest(alice(), ent)).toBe(true);
    expect(mayRequest(dave(), ent)).toBe(true);
    expect(mayRequest(ciService(), ent)).toBe(false);
    expect(mayBreakGlass(dave(), ent)).toBe(true);
    expect(mayBreakGlass(alice(), ent)).toBe(false);
  });
});

describe('publicEntitlement and visibleEntitlements', () => {
  it('never shows the ExternalId or who else is entitled', () => {
    const view = publicEntitlement(entitlement('prod-admin'));
    const text = JSON.stringify(view);

    expect(text).not.toContain('prod-breakglass-ext-5d8e');
    expect(Object.keys(view)).not.toContain('externalId');
    expect(Object.keys(view)).not.toContain('principals');
    expect(view.approval).toEqual({ approvals: 2, approverGroups: ['security-approvers'] });
  });

  it('lists, for a service, what it may use', () => {
    const all = Object.keys(rawEntitlements()).map((id) => entitlement(id as 'prod-readonly'));

    expect(visibleEntitlements(ciService(), all).map((e) => e.id)).toEqual([
      'prod-readonly',
      'prod-deploy',
      'prod-s3-read',
    ]);
  });

  it('lists, for a person, what they may use or request', () => {
    const all = Object.keys(rawEntitlements()).map((id) => entitlement(id as 'prod-readonly'));

    const seen = visibleEntitlements(alice(), all);

    expect(seen.map((e) => [e.id, e.access])).toEqual([
      ['prod-readonly', { use: true, request: false, breakGlass: false }],
      ['prod-s3-read', { use: true, request: false, breakGlass: false }],
      ['prod-admin', { use: false, request: true, breakGlass: false }],
    ]);
    expect(JSON.stringify(seen)).not.toMatch(/ext-/);
  });

  it('lists nothing for someone without groups', () => {
    const all = Object.keys(rawEntitlements()).map((id) => entitlement(id as 'prod-readonly'));

    expect(visibleEntitlements(mallory(), all)).toEqual([]);
    expect(visibleEntitlements(person('zed', ['unknown']), all)).toEqual([]);
  });

  it('is keyed on issuer+subject callers only through groups', () => {
    const other = { kind: 'person' as const, issuer: `${ISSUER}/other`, subject: 'alice', groups: [] };

    expect(visibleEntitlements(other, [entitlement('prod-readonly')])).toEqual([]);
  });
});
