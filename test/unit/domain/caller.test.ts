import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from 'aws-lambda';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AuthorizerEvent,
  callerFromEvent,
  callerId,
  callerLabel,
  parseGroups,
  roleNameOf,
} from '../../../lib/domain/caller';
import { UnauthenticatedError } from '../../../lib/domain/errors';
import { ciService, eventFixture, ISSUER, person } from './world';

type Iam = Record<string, unknown>;
const iamOf = (event: ReturnType<typeof eventFixture>) =>
  (event.requestContext.authorizer as { iam: Iam }).iam;
const claimsOf = (event: ReturnType<typeof eventFixture>) =>
  (event.requestContext.authorizer as { jwt: { claims: Record<string, unknown> } }).jwt.claims;

describe('callerFromEvent: services (IAM authorizer)', () => {
  it('normalises an assumed-role session ARN to its role ARN, account included', () => {
    const event = eventFixture('iam-session.json');

    const caller = callerFromEvent(event);

    expect(caller).toEqual({
      kind: 'service',
      roleArn: 'arn:aws:iam::111122223333:role/CICDDeployRole',
      account: '111122223333',
      principalArn: 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci',
      userId: 'AROAEXAMPLECICDROLE1:ci',
      accessKeyId: 'ASIAEXAMPLECICD00001',
    });
  });

  it('ignores the session name: two sessions of one role are the same caller', () => {
    const a = eventFixture('iam-session.json');
    const b = eventFixture('iam-session.json');
    iamOf(b).userArn = 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/other-session@x';

    expect(callerId(callerFromEvent(a))).toBe(callerId(callerFromEvent(b)));
  });

  it('keeps the partition', () => {
    const event = eventFixture('iam-session.json');
    iamOf(event).userArn = 'arn:aws-cn:sts::111122223333:assumed-role/CICDDeployRole/ci';

    const caller = callerFromEvent(event);

    expect(caller.kind === 'service' && caller.roleArn).toBe(
      'arn:aws-cn:iam::111122223333:role/CICDDeployRole',
    );
  });

  it.each([
    ['the root user', 'arn:aws:iam::111122223333:root', /root/],
    ['an IAM user', 'arn:aws:iam::111122223333:user/deployer', /IAM users/],
    ['a federated user', 'arn:aws:sts::111122223333:federated-user/bob', /role sessions/],
    ['a role ARN that is not a session', 'arn:aws:iam::111122223333:role/CICDDeployRole', /role sessions/],
    ['garbage', 'not-an-arn', /role sessions/],
  ])('refuses %s', (_what, userArn, detail) => {
    const event = eventFixture('iam-session.json');
    iamOf(event).userArn = userArn;

    const act = () => callerFromEvent(event);

    expect(act).toThrow(UnauthenticatedError);
    expect(act).toThrow(detail);
  });

  it('refuses an IAM context whose account does not match the ARN', () => {
    const event = eventFixture('iam-session.json');
    iamOf(event).accountId = '999999999999';

    expect(() => callerFromEvent(event)).toThrow(UnauthenticatedError);
  });
});

describe('callerFromEvent: people (JWT authorizer)', () => {
  it('reads issuer, subject, email and groups given as a JSON array', () => {
    const event = eventFixture('jwt-groups-array.json');

    expect(callerFromEvent(event)).toEqual({
      kind: 'person',
      issuer: ISSUER,
      subject: 'alice',
      email: 'alice@example.com',
      groups: ['sre', 'oncall'],
    });
  });

  it('reads groups rendered by HTTP API as "[sre oncall]"', () => {
    const event = eventFixture('jwt-groups-string.json');

    const caller = callerFromEvent(event);

    expect(caller.kind === 'person' && caller.groups).toEqual(['sre', 'oncall']);
  });

  it('treats a missing groups claim as no groups', () => {
    const event = eventFixture('jwt-groups-array.json');
    delete claimsOf(event).groups;

    const caller = callerFromEvent(event);

    expect(caller.kind === 'person' && caller.groups).toEqual([]);
  });

  it('makes email optional', () => {
    const event = eventFixture('jwt-groups-array.json');
    delete claimsOf(event).email;

    const caller = callerFromEvent(event);

    expect(caller.kind === 'person' && caller.email).toBeUndefined();
  });

  it.each(['iss', 'sub'])('refuses a token without %s, even with an email', (claim) => {
    const event = eventFixture('jwt-groups-array.json');
    delete claimsOf(event)[claim];

    expect(() => callerFromEvent(event)).toThrow(UnauthenticatedError);
  });
});

describe('callerFromEvent: anything else', () => {
  it('refuses an event without an authorizer', () => {
    const event = eventFixture('iam-session.json');
    delete event.requestContext.authorizer;

    expect(() => callerFromEvent(event)).toThrow(UnauthenticatedError);
  });

  it('refuses an event carrying both identities', () => {
    const event = eventFixture('iam-session.json');
    const jwt = eventFixture('jwt-groups-array.json');
    (event.requestContext.authorizer as Record<string, unknown>).jwt = (
      jwt.requestContext.authorizer as Record<string, unknown>
    ).jwt;

    expect(() => callerFromEvent(event)).toThrow(UnauthenticatedError);
  });

  it('has status 401 and code unauthenticated', () => {
    const event = eventFixture('iam-session.json');
    event.requestContext.authorizer = {};

    try {
      callerFromEvent(event);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ status: 401, code: 'unauthenticated' });
    }
  });
});

describe('parseGroups', () => {
  it.each([
    [
      ['sre', 'oncall'],
      ['sre', 'oncall'],
    ],
    ['[sre oncall]', ['sre', 'oncall']],
    ['["sre","oncall"]', ['sre', 'oncall']],
    ['sre,oncall', ['sre', 'oncall']],
    ['sre, oncall', ['sre', 'oncall']],
    ['sre oncall', ['sre', 'oncall']],
    ['sre', ['sre']],
    ['[]', []],
    ['', []],
    [[' sre ', 'sre', '', 3], ['sre']],
    [undefined, []],
    [42, []],
  ])('%j → %j', (claim, groups) => {
    expect(parseGroups(claim)).toEqual(groups);
  });
});

describe('callerId and callerLabel', () => {
  it('identifies services by role ARN', () => {
    expect(callerId(ciService())).toBe('arn:aws:iam::111122223333:role/CICDDeployRole');
  });

  it('identifies people by issuer and subject, not by email', () => {
    const a = person('alice', []);
    const impostor = { ...person('mallory', []), email: 'alice@example.com' };

    expect(callerId(a)).toBe(`${ISSUER}#alice`);
    expect(callerId(impostor)).not.toBe(callerId(a));
  });

  it('labels services by role name and account, people by email or subject', () => {
    const noEmail = person('erin', []);
    delete noEmail.email;

    expect(callerLabel(ciService())).toBe('CICDDeployRole (111122223333)');
    expect(callerLabel(person('alice', []))).toBe('alice@example.com');
    expect(callerLabel(noEmail)).toBe('erin');
  });

  it('roleNameOf drops the path', () => {
    expect(roleNameOf('arn:aws:iam::111122223333:role/ops/team/Deploy')).toBe('Deploy');
  });
});

describe('AuthorizerEvent', () => {
  it('accepts the @types/aws-lambda HTTP API events (checked by tsc)', () => {
    expectTypeOf<APIGatewayProxyEventV2WithIAMAuthorizer>().toExtend<AuthorizerEvent>();
    expectTypeOf<APIGatewayProxyEventV2WithJWTAuthorizer>().toExtend<AuthorizerEvent>();
  });
});
