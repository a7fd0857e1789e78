/**
 * Outside review of `NotPrincipal` with `Deny` (issue 12 §3), against AWS's page
 * (docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
 * "the actions specified in the policy statement are explicitly denied to all principals *except*
 * for the ones specified"; an assumed-role user may be validated as the account, then the role,
 * then the session, so the page lists all three to except one session, and "When you specify an
 * assumed-role session in a NotPrincipal element, you cannot use a wildcard (*) to mean 'all
 * sessions'. Principals must always name a specific session."
 *
 * So naming a role (or only the account) in `NotPrincipal` does not except that role's sessions or
 * the account's users from a Deny, unlike `Principal`, where a role ARN matches its sessions. vend
 * used the `Principal` reading there, and the Deny failed open for every session of a named role.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePolicySet } from '../../../lib/iam';
import { PROD, policy, prodSession, prodUser, request } from './helpers';

const denyAllBut = (...notPrincipal: string[]) =>
  policy('resource', [
    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
    { Effect: 'Deny', NotPrincipal: { AWS: notPrincipal }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
  ]);
const req = request('s3:GetObject', 'arn:aws:s3:::b/k');
const decide = (p: ReturnType<typeof denyAllBut>, principal: typeof prodSession) =>
  evaluatePolicySet([p], { ...req, principal }).decision;

describe('a Deny with NotPrincipal excepts only the principals it names', () => {
  it('a role ARN alone does not except the sessions of the role (the fail-open case)', () => {
    expect(decide(denyAllBut(prodSession.roleArn!), prodSession)).toBe('ExplicitDeny');
  });

  it('the account alone does not except its users or sessions', () => {
    expect(decide(denyAllBut(PROD), prodSession)).toBe('ExplicitDeny');
    expect(decide(denyAllBut(`arn:aws:iam::${PROD}:root`), prodUser)).toBe('ExplicitDeny');
  });

  it("the page's own example (session, role and account) excepts the session", () => {
    expect(
      decide(denyAllBut(prodSession.arn, prodSession.roleArn!, `arn:aws:iam::${PROD}:root`), prodSession),
    ).toBe('Allow');
  });

  it('the exact session or user ARN excepts it; "*" excepts everyone', () => {
    expect(decide(denyAllBut(prodSession.arn), prodSession)).toBe('Allow');
    expect(decide(denyAllBut(prodUser.arn), prodUser)).toBe('Allow');
    expect(decide(denyAllBut('*'), prodSession)).toBe('Allow');
  });

  it('the account root is excepted by its account, in either form', () => {
    const root = { type: 'root' as const, arn: `arn:aws:iam::${PROD}:root`, account: PROD };
    expect(decide(denyAllBut(PROD), root)).toBe('Allow');
    expect(decide(denyAllBut(`arn:aws:iam::${PROD}:root`), root)).toBe('Allow');
  });
});
