import type { AuthzRequest, Policy, PolicyKind, PrincipalInfo } from '../../../lib/iam';
import { parsePolicy } from '../../../lib/iam';

/** Builds a 2012-10-17 policy from statements (cloned, so fixtures are never shared). */
export function policy(
  kind: PolicyKind,
  statements: unknown[],
  name: string = kind,
  version = '2012-10-17',
): Policy {
  return parsePolicy(structuredClone({ Version: version, Statement: statements }), kind, name);
}

export function request(action: string, resource: string, extra: Partial<AuthzRequest> = {}): AuthzRequest {
  return { action, resource, context: {}, ...extra };
}

export const PROD = '444455556666';
export const SHARED = '222233334444';

export const brokerSession: PrincipalInfo = {
  type: 'role-session',
  arn: `arn:aws:sts::${SHARED}:assumed-role/vend-broker/alice`,
  account: SHARED,
  roleArn: `arn:aws:iam::${SHARED}:role/vend-broker`,
};

export const prodUser: PrincipalInfo = {
  type: 'user',
  arn: `arn:aws:iam::${PROD}:user/ops/dave`,
  account: PROD,
};

export const prodSession: PrincipalInfo = {
  type: 'role-session',
  arn: `arn:aws:sts::${PROD}:assumed-role/Deployer/build-42`,
  account: PROD,
  roleArn: `arn:aws:iam::${PROD}:role/ci/Deployer`,
};
