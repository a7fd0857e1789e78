/**
 * Who is calling, read from the API Gateway HTTP API (payload 2.0) event that the authorizer filled
 * in. API Gateway has already verified the SigV4 signature or the JWT; this module only decides
 * whether the identity it established is one vend accepts, and normalises it.
 *
 * Decisions:
 * - Services are **role sessions only** (`arn:aws:sts::A:assumed-role/R/S`), identified by the role
 *   ARN `arn:aws:iam::A:role/R`: the session name is chosen by whoever assumed the role, so it
 *   identifies nothing. IAM users (long-lived keys), root, and federated users are refused: vend
 *   exists to replace standing keys, and an entitlement names roles, so a user could never match one
 *   anyway; refusing early gives a clearer answer.
 * - People are identified by OIDC issuer + subject. Email is kept for display and SourceIdentity,
 *   never for matching: many issuers let users edit it.
 */

import { UnauthenticatedError } from './errors';
import type { Caller, PersonCaller, ServiceCaller } from './types';

/** API Gateway's IAM authorizer context (`requestContext.authorizer.iam`). */
export interface IamAuthorizerContext {
  accessKey?: string | null;
  accountId?: string | null;
  userArn?: string | null;
  userId?: string | null;
  [k: string]: unknown;
}

/** API Gateway's JWT authorizer context (`requestContext.authorizer.jwt`). */
export interface JwtAuthorizerContext {
  claims?: Record<string, unknown> | null;
  scopes?: string[] | null;
}

/**
 * The slice of an HTTP API 2.0 event this module reads. Both `APIGatewayProxyEventV2WithIAMAuthorizer`
 * and `APIGatewayProxyEventV2WithJWTAuthorizer` from @types/aws-lambda are assignable to it.
 */
export interface AuthorizerEvent {
  requestContext?: {
    authorizer?: {
      iam?: IamAuthorizerContext | null;
      jwt?: JwtAuthorizerContext | null;
    } | null;
  } | null;
}

// arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>
const ASSUMED_ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;

/**
 * Build the {@link Caller} from an API Gateway HTTP API event.
 *
 * @throws UnauthenticatedError when neither authorizer context is present, when both are, when the IAM
 *   identity is not a role session (IAM user, root, federated user), or when the JWT lacks `iss`/`sub`.
 * @example
 * ```ts
 * callerFromEvent({ requestContext: { authorizer: { iam: {
 *   userArn: 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci', accountId: '111122223333',
 *   userId: 'AROAEXAMPLE:ci', accessKey: 'ASIAEXAMPLE' } } } });
 * // { kind: 'service', roleArn: 'arn:aws:iam::111122223333:role/CICDDeployRole', account: '111122223333', … }
 * ```
 */
export function callerFromEvent(event: AuthorizerEvent): Caller {
  const authorizer = event?.requestContext?.authorizer;
  const iam = authorizer?.iam;
  const jwt = authorizer?.jwt;
  if (iam && jwt) {
    // Never happens with one authorizer per route; refusing keeps the identity unambiguous.
    throw new UnauthenticatedError('the request carries both IAM and JWT identities');
  }
  if (iam) return serviceFromIam(iam);
  if (jwt) return personFromClaims(jwt.claims ?? {});
  throw new UnauthenticatedError('no authenticated identity on the request');
}

function serviceFromIam(iam: IamAuthorizerContext): ServiceCaller {
  const userArn = typeof iam.userArn === 'string' ? iam.userArn : '';
  const m = ASSUMED_ROLE_ARN.exec(userArn);
  if (!m) {
    throw new UnauthenticatedError(
      /:root$/.test(userArn)
        ? 'the account root user cannot call vend; sign with a role session'
        : /:user\//.test(userArn)
          ? 'IAM users cannot call vend; sign with a role session (assumed-role credentials)'
          : 'only IAM role sessions can call the service routes',
    );
  }
  const [, partition, account, roleName] = m as unknown as [string, string, string, string];
  if (typeof iam.accountId === 'string' && iam.accountId !== '' && iam.accountId !== account) {
    throw new UnauthenticatedError('the IAM identity is inconsistent (account mismatch)');
  }
  return {
    kind: 'service',
    roleArn: `arn:${partition}:iam::${account}:role/${roleName}`,
    account,
    principalArn: userArn,
    userId: typeof iam.userId === 'string' ? iam.userId : '',
    accessKeyId: typeof iam.accessKey === 'string' ? iam.accessKey : '',
  };
}

function personFromClaims(claims: Record<string, unknown>): PersonCaller {
  const iss = claims.iss;
  const sub = claims.sub;
  if (typeof iss !== 'string' || iss === '' || typeof sub !== 'string' || sub === '') {
    throw new UnauthenticatedError('the token has no issuer or subject');
  }
  const person: PersonCaller = {
    kind: 'person',
    issuer: iss,
    subject: sub,
    groups: parseGroups(claims.groups),
  };
  if (typeof claims.email === 'string' && claims.email !== '') person.email = claims.email;
  return person;
}

/**
 * Parse a `groups` claim in any of the shapes API Gateway hands over: a JSON array, the HTTP API
 * rendering of an array claim (`"[sre oncall]"`), a JSON array in a string (`'["sre","oncall"]'`),
 * or a comma / space separated string. Duplicates and empty entries are dropped; order is kept.
 *
 * @example
 * ```ts
 * parseGroups('[sre oncall]'); // ['sre', 'oncall']
 * parseGroups(['sre']);        // ['sre']
 * parseGroups('sre, oncall');  // ['sre', 'oncall']
 * ```
 */
export function parseGroups(claim: unknown): string[] {
  let items: unknown[];
  if (Array.isArray(claim)) {
    items = claim;
  } else if (typeof claim === 'string') {
    const s = claim.trim();
    items = splitGroupString(s);
  } else {
    items = [];
  }
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') continue;
    const g = item.trim();
    if (g !== '' && !out.includes(g)) out.push(g);
  }
  return out;
}

function splitGroupString(s: string): unknown[] {
  if (s.startsWith('[') && s.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(s);
      if (Array.isArray(parsed)) return parsed;
    } catch {
      // Not JSON: the HTTP API rendering `[a b c]`, handled below.
    }
    return s.slice(1, -1).split(/[\s,]+/);
  }
  return s.split(/[\s,]+/);
}

/**
 * A stable identifier for audit records and rate limits: the role ARN for services, `issuer#subject`
 * for people (`#` cannot occur in an issuer URL's scheme/host, so the pair is unambiguous).
 *
 * @example
 * ```ts
 * callerId(service); // 'arn:aws:iam::111122223333:role/CICDDeployRole'
 * callerId(person);  // 'http://127.0.0.1:4566/oidc#alice'
 * ```
 */
export function callerId(caller: Caller): string {
  return caller.kind === 'service' ? caller.roleArn : `${caller.issuer}#${caller.subject}`;
}

/**
 * A short label for humans (Slack messages, CLI output). Not an identifier: use {@link callerId}.
 *
 * @example
 * ```ts
 * callerLabel(service); // 'CICDDeployRole (111122223333)'
 * callerLabel(person);  // 'alice@example.com'
 * ```
 */
export function callerLabel(caller: Caller): string {
  if (caller.kind === 'service') return `${roleNameOf(caller.roleArn)} (${caller.account})`;
  return caller.email ?? caller.subject;
}

/**
 * The role name of an IAM role ARN, without its path.
 * @example `roleNameOf('arn:aws:iam::111122223333:role/ops/Deploy') // 'Deploy'`
 */
export function roleNameOf(roleArn: string): string {
  const resource = roleArn.split(':').slice(5).join(':');
  const slash = resource.lastIndexOf('/');
  return slash >= 0 ? resource.slice(slash + 1) : resource;
}
