/** Principal / NotPrincipal matching (fact sheet §4). */
import { parseArn } from './arn';
import type { PrincipalBlock, PrincipalInfo } from './types';

/**
 * How a principal block matched, strongest first. The same-account rule of `authorize` needs it: a
 * resource policy naming the exact caller (or everyone) allows on its own, naming the role (or, for a
 * federated user session, the IAM user who federated) is still limited by boundary and session
 * policy, naming the account only delegates to identity policies
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
 * "Resource-based policies and implicit denies in other policy types (same account)").
 */
export type PrincipalMatchKind = 'exact' | 'everyone' | 'service' | 'federated' | 'role' | 'account';

const STRENGTH: Record<PrincipalMatchKind, number> = {
  exact: 6,
  everyone: 5,
  service: 4,
  federated: 3,
  role: 2,
  account: 1,
};

const ACCOUNT_ID = /^\d{12}$/;

/** The account a principal value delegates to (`123456789012` or `arn:…:iam::123456789012:root`). */
export function accountOf(value: string): string | undefined {
  if (ACCOUNT_ID.test(value)) return value;
  const arn = parseArn(value);
  if (arn && arn.service === 'iam' && arn.resource === 'root' && ACCOUNT_ID.test(arn.account))
    return arn.account;
  return undefined;
}

function awsMatch(value: string, p: PrincipalInfo): PrincipalMatchKind | undefined {
  if (value === '*') return 'everyone';
  if (value === p.arn) return 'exact';
  const account = accountOf(value);
  if (account !== undefined) {
    return p.type !== 'service' && p.type !== 'anonymous' && p.account === account ? 'account' : undefined;
  }
  if (p.type === 'role-session' && p.roleArn !== undefined && value === p.roleArn) return 'role';
  if (p.type === 'federated-user' && p.userArn !== undefined && value === p.userArn) return 'role';
  return undefined;
}

/** The strongest way `block` names `principal`, or undefined when it does not. */
export function principalMatchKind(
  block: PrincipalBlock,
  principal: PrincipalInfo,
): PrincipalMatchKind | undefined {
  let best: PrincipalMatchKind | undefined;
  const consider = (k: PrincipalMatchKind | undefined) => {
    if (k && (!best || STRENGTH[k] > STRENGTH[best])) best = k;
  };
  for (const v of block.AWS ?? []) consider(awsMatch(v, principal));
  for (const v of block.Service ?? []) {
    if (principal.type === 'service' && principal.service?.toLowerCase() === v.toLowerCase())
      consider('service');
  }
  for (const v of block.Federated ?? []) {
    if (principal.federated !== undefined && principal.federated === v) consider('federated');
  }
  for (const v of block.CanonicalUser ?? []) {
    if (principal.canonicalUser !== undefined && principal.canonicalUser === v) consider('exact');
  }
  return best;
}

/**
 * True when the principal block names the caller: `*` is everyone; an account ID or
 * `arn:aws:iam::A:root` is every principal of account A; a role ARN matches that role's sessions;
 * a user ARN matches that user and its federated user sessions; user, session (assumed-role and
 * federated-user) and root ARNs match exactly; Service, Federated and CanonicalUser compare to the
 * matching field of `PrincipalInfo`.
 *
 * @example principalMatches({ AWS: ['222233334444'] }, { type: 'role-session', arn: 'arn:aws:sts::222233334444:assumed-role/vend-broker/s', account: '222233334444' }) // true
 */
export function principalMatches(block: PrincipalBlock, principal: PrincipalInfo): boolean {
  return principalMatchKind(block, principal) !== undefined;
}
