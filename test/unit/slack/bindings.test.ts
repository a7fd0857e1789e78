import { describe, expect, it } from 'vitest';
import { callerId } from '../../../lib/domain/caller';
import {
  findBinding,
  parseSlackBinding,
  personFromBinding,
  type SlackBinding,
  SlackBindingError,
} from '../../../lib/slack/bindings';

const ISSUER = 'http://127.0.0.1:4566/oidc';

function bindings(): SlackBinding[] {
  return [
    {
      teamId: 'T0VENDLOCAL',
      slackUserId: 'U0BOB',
      issuer: ISSUER,
      subject: 'bob',
      email: 'bob@example.com',
      groups: ['security-approvers'],
    },
    { teamId: 'T0VENDLOCAL', slackUserId: 'U0ALICE', issuer: ISSUER, subject: 'alice', groups: ['sre'] },
  ];
}

describe('Slack bindings', () => {
  it('map a Slack user in a workspace to the bound OIDC identity and its directory groups', () => {
    const binding = findBinding(bindings(), 'T0VENDLOCAL', 'U0BOB');
    if (binding === undefined) throw new Error('expected a binding');

    const person = personFromBinding(binding);

    expect(person).toEqual({
      kind: 'person',
      issuer: ISSUER,
      subject: 'bob',
      email: 'bob@example.com',
      groups: ['security-approvers'],
    });
    expect(callerId(person)).toBe(`${ISSUER}#bob`);
  });

  it('an unbound user, or the same user id in another workspace, maps to nobody', () => {
    expect(findBinding(bindings(), 'T0VENDLOCAL', 'U0MALLORY')).toBeUndefined();
    expect(findBinding(bindings(), 'T0OTHER', 'U0BOB')).toBeUndefined();
    expect(findBinding(bindings(), 'T0VENDLOCAL', 'u0bob')).toBeUndefined();
  });

  it('the person carries a copy of the groups, not the stored list', () => {
    const binding = bindings()[0] as SlackBinding;

    personFromBinding(binding).groups.push('admins');

    expect(binding.groups).toEqual(['security-approvers']);
  });

  it('parses a stored binding, deduplicating groups', () => {
    expect(
      parseSlackBinding({
        teamId: 'T0VENDLOCAL',
        slackUserId: 'U0BOB',
        issuer: ISSUER,
        subject: 'bob',
        groups: ['a', 'a'],
      }),
    ).toEqual({ teamId: 'T0VENDLOCAL', slackUserId: 'U0BOB', issuer: ISSUER, subject: 'bob', groups: ['a'] });
  });

  it.each([
    ['no subject', { teamId: 'T0VENDLOCAL', slackUserId: 'U0BOB', issuer: ISSUER, groups: [] }],
    ['a bad user id', { teamId: 'T0VENDLOCAL', slackUserId: 'bob', issuer: ISSUER, subject: 'bob' }],
    [
      'groups not a list',
      { teamId: 'T0VENDLOCAL', slackUserId: 'U0BOB', issuer: ISSUER, subject: 'bob', groups: 'sre' },
    ],
    ['not an object', 'U0BOB'],
  ])('refuses a stored binding with %s', (_, raw) => {
    expect(() => parseSlackBinding(raw)).toThrow(SlackBindingError);
  });
});
