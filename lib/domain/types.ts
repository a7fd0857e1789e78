/**
 * The domain's shared shapes. Pure data: no I/O, no clock. Rules live beside them in lib/domain/*.ts
 * (entitlement.ts, duration.ts, session-policy.ts, …); adapters translate to and from these.
 */

/** Who is calling, established by API Gateway's authorizer and read by `lib/domain/caller.ts`. */
export type Caller = ServiceCaller | PersonCaller;

/** A workload signing with SigV4: identified by its role ARN (session ARNs are normalised). */
export interface ServiceCaller {
  kind: 'service';
  /** `arn:aws:iam::111122223333:role/CICDDeployRole` (path kept if API Gateway gave one). */
  roleArn: string;
  account: string;
  /** The ARN API Gateway saw, e.g. `arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci`. */
  principalArn: string;
  /** API Gateway's `userId`, e.g. `AROA…:ci`. */
  userId: string;
  accessKeyId: string;
}

/** A person with an OIDC token: identified by issuer + subject, never by email alone. */
export interface PersonCaller {
  kind: 'person';
  issuer: string;
  subject: string;
  email?: string;
  groups: string[];
}

/** Who may use an entitlement directly (no approval). */
export interface EntitlementPrincipals {
  /** Service role ARNs (IAM role ARNs, not session ARNs). */
  roles: string[];
  /** OIDC groups whose members may use it. */
  groups: string[];
}

/** N-of-M approval gate. */
export interface ApprovalGate {
  /** How many distinct approvers are needed (≥ 1). */
  approvals: number;
  /** Groups whose members may approve. The requester never approves their own request. */
  approverGroups: string[];
  /** How long an unanswered request stays pending (seconds). */
  requestTtlSeconds?: number;
}

export interface BreakGlassGate {
  /** Groups allowed to use break-glass for this entitlement. */
  groups: string[];
  /** Cap on the break-glass grant (≤ 3600). */
  maxDurationSeconds: number;
}

/**
 * One entitlement: which target role, for whom, for how long, within which ceiling.
 * `externalId` is a secret: it goes to STS and nowhere else (never logged, returned or audited).
 */
export interface Entitlement {
  id: string;
  description?: string;
  roleArn: string;
  externalId?: string;
  /** ≤ 3600: vend's broker is itself a role session, so every AssumeRole it makes is chained. */
  maxDurationSeconds: number;
  defaultDurationSeconds: number;
  /** Session-policy ceiling as an IAM policy document (JSON object). Absent: the role's own permissions. */
  ceiling?: Record<string, unknown>;
  /** Direct use without approval. */
  principals: EntitlementPrincipals;
  /** Requesters who may ask for access through approval (groups). */
  requesterGroups?: string[];
  approval?: ApprovalGate;
  breakGlass?: BreakGlassGate;
  /** Overrides of the deployment's rate-limit defaults for this entitlement (lib/domain/rate-limit.ts). */
  rateLimit?: { perCaller?: number; perEntitlement?: number };
}
