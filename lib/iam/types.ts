/**
 * Public types of vend's IAM policy evaluator (`lib/iam`). The evaluator is vend's own code: the only
 * maintained evaluator on npm is AGPL and must never ship with vend. See docs/iam-evaluator.md for the
 * supported subset.
 */

/** Which policy type a document is validated as: the elements allowed differ per type. */
export type PolicyKind = 'identity' | 'resource' | 'trust' | 'session' | 'scp';

/** One validation problem, with a JSON-pointer-like path such as `Statement[1].Action[0]`. */
export interface PolicyIssue {
  path: string;
  /** vend's description, naming the element and the value. */
  message: string;
  /**
   * The message IAM answers with for this problem in its `MalformedPolicyDocument` error, e.g.
   * `Statement IDs (SID) in a single policy must be unique.` (docs/iam-evaluator.md, "Validation
   * errors"). `Syntax errors in policy.` where IAM documents no more specific text.
   */
  iam: string;
}

/** A principal block after normalisation: every value is an array. */
export interface PrincipalBlock {
  /** `"*"` (everyone) is represented as `{ AWS: ['*'] }`. */
  AWS?: string[];
  Service?: string[];
  Federated?: string[];
  CanonicalUser?: string[];
}

/** `{ operator: { key: values } }`, e.g. `{ StringEquals: { 'sts:ExternalId': ['x'] } }`. */
export type ConditionBlock = Record<string, Record<string, string[]>>;

/** A normalised statement: single values become arrays, `index` is its position in the document. */
export interface Statement {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  principal?: PrincipalBlock;
  notPrincipal?: PrincipalBlock;
  condition?: ConditionBlock;
}

/** A parsed, validated policy document. `name` labels it in evaluation results. */
export interface Policy {
  name: string;
  version: '2012-10-17' | '2008-10-17';
  id?: string;
  statements: Statement[];
  /**
   * The kind it was validated as (set by `parsePolicy`). `authorize` needs it for one rule: a role's
   * trust policy must always allow, even in the same account, unlike other resource policies.
   */
  kind?: PolicyKind;
}

/** Request-context values. Keys are matched case-insensitively. Multi-valued keys are arrays. */
export type RequestContext = Record<string, string | string[] | undefined>;

/** Who is asking, for Principal / NotPrincipal matching. */
export interface PrincipalInfo {
  /**
   * `user` (IAM user), `role-session` (assumed-role session), `federated-user` (a GetFederationToken
   * session), `root`, `service`, `anonymous`.
   */
  type: 'user' | 'role-session' | 'federated-user' | 'root' | 'service' | 'anonymous';
  /**
   * The caller ARN: `arn:aws:iam::A:user/x`, `arn:aws:sts::A:assumed-role/R/S`,
   * `arn:aws:sts::A:federated-user/N`, `arn:aws:iam::A:root`.
   */
  arn: string;
  /** The 12-digit account of the principal. */
  account: string;
  /** For role sessions: the role ARN, with its path (`arn:aws:iam::A:role/path/R`). */
  roleArn?: string;
  /** For federated user sessions: the ARN of the IAM user who called GetFederationToken. */
  userArn?: string;
  /** For `service`: e.g. `lambda.amazonaws.com`. */
  service?: string;
  /** For web-identity / SAML callers: the provider a `Federated` principal names (ARN or OIDC host). */
  federated?: string;
  /** For S3 canonical-user grants: the canonical user ID a `CanonicalUser` principal names. */
  canonicalUser?: string;
}

export interface AuthzRequest {
  /** `service:Action`, e.g. `s3:GetObject`. */
  action: string;
  /** The resource ARN, or `*` for actions without a resource. */
  resource: string;
  /** Required when resource (trust) policies with Principal are evaluated. */
  principal?: PrincipalInfo;
  context: RequestContext;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** Which statement decided, for explanations and error messages. */
export interface MatchedStatement {
  policy: string;
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
}

export interface EvaluationResult {
  decision: Decision;
  /** The statements that matched (denies first). Empty for an implicit deny. */
  matched: MatchedStatement[];
  /** Which layer decided: 'identity' | 'resource' | 'session' | 'boundary' | 'scp' | 'policy'. */
  decidedBy?: string;
}

/** The policies that apply to one request, for the full AWS evaluation order (fact sheet §5). */
export interface AuthorizationInput {
  identityPolicies: Policy[];
  /** Undefined means "no session policy" (allowed); an empty array means "session policy allows nothing". */
  sessionPolicies?: Policy[];
  permissionsBoundary?: Policy[];
  scps?: Policy[];
  resourcePolicy?: Policy;
  /** True when the principal and the resource are in the same account (resource policy may allow alone). */
  sameAccount?: boolean;
}

/** Result of checking that a requested (scope-down) policy fits inside a ceiling policy. */
export type ContainmentResult =
  | { ok: true }
  | {
      ok: false;
      /** Index of the first requested statement that falls outside. */
      statement: number;
      sid?: string;
      /** The first action (as written) that the ceiling does not cover, if that is the cause. */
      action?: string;
      /** The first resource (as written) that the ceiling does not cover, if that is the cause. */
      resource?: string;
      /** A one-line human reason, naming the statement and the action or resource. */
      message: string;
    };
