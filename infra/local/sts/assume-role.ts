/**
 * AssumeRole, as STS decides it. Primary course:
 *  1. validate the parameters against the model (ValidationError, all issues at once);
 *  2. tag rules (InvalidParameterValue): duplicates, transitive keys ⊆ tags, `aws:` reserved,
 *     inherited transitive keys not overridden;
 *  3. session policy (MalformedPolicyDocument) and PolicyArns (≤ 10, must exist);
 *  4. role chaining caps DurationSeconds at 3600;
 *  5. authorisation: trust policy of the role (principal = caller) and, cross-account or when the
 *     trust policy only names the account, the caller's own permissions, for sts:AssumeRole plus
 *     sts:TagSession / sts:SetSourceIdentity when used; a missing role is AccessDenied too;
 *  6. DurationSeconds ≤ the role's MaxSessionDuration;
 *  7. packed size of session policy + tags ≤ 100 %;
 *  8. issue the session (ASIA key, SourceIdentity and transitive tags carried over).
 */
import { deflateRawSync } from 'node:zlib';
import { authorize, evaluatePolicySet, parsePolicy } from '../../../lib/iam';
import type { EvaluationResult, Policy, RequestContext } from '../../../lib/iam/types';
import type { IamStore } from '../iam/store';
import type { WorldRole } from '../iam/world';
import type { KeyRecord } from '../types';
import {
  StsAccessDeniedError,
  StsDurationError,
  StsFaultError,
  StsInvalidParameterError,
  StsMalformedPolicyError,
  StsPackedPolicyTooLargeError,
  StsValidationError,
} from './errors';
import { type AssumeRoleParams, MAX_POLICY_ARNS } from './validate';

export const DEFAULT_DURATION_SECONDS = 3600;
export const CHAINING_LIMIT_SECONDS = 3600;
/**
 * Budget of the packed (compressed) session policy + tags, in bytes. Real STS packs both into a
 * binary form of undisclosed size; this budget makes a typical small policy report a single-digit
 * percentage (as AWS does) and 50 long random tags overflow.
 */
export const PACKED_BUDGET_BYTES = 2048;

export interface AssumeRoleOutcome {
  key: KeyRecord;
  role: WorldRole;
  packedPolicySize?: number;
}

/**
 * Packed size as a percentage of the budget: raw-deflate of the compact session policy, the
 * PolicyArns and the tags (`key=value` lines), divided by {@link PACKED_BUDGET_BYTES}, rounded up.
 */
export function packedPolicyPercent(input: {
  policy?: string;
  policyArns?: string[];
  tags?: Record<string, string>;
}): number {
  const parts: string[] = [];
  if (input.policy !== undefined) {
    let compact = input.policy;
    try {
      compact = JSON.stringify(JSON.parse(input.policy));
    } catch {
      // Already rejected as MalformedPolicyDocument before we get here; keep the raw text.
    }
    parts.push(compact);
  }
  if (input.policyArns?.length) parts.push(input.policyArns.join('\n'));
  const tags = Object.entries(input.tags ?? {});
  if (tags.length > 0) parts.push(tags.map(([k, v]) => `${k}=${v}`).join('\n'));
  if (parts.length === 0) return 0;
  const packed = deflateRawSync(Buffer.from(parts.join('\n'), 'utf8'), { level: 9 }).length;
  return Math.ceil((packed * 100) / PACKED_BUDGET_BYTES);
}

function lowerKeys(keys: Iterable<string>): Set<string> {
  return new Set([...keys].map((k) => k.toLowerCase()));
}

/** Tag rules of step 2; returns the new session's tags and transitive keys. */
function sessionTagsFor(
  caller: KeyRecord,
  params: AssumeRoleParams,
): { tags: Record<string, string>; transitive: string[]; requestTags: Record<string, string> } {
  const requestTags: Record<string, string> = {};
  const seen = new Set<string>();
  for (const t of params.tags ?? []) {
    const lower = t.key.toLowerCase();
    if (seen.has(lower)) {
      throw new StsInvalidParameterError(
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    }
    seen.add(lower);
    if (lower.startsWith('aws:')) {
      throw new StsInvalidParameterError("Tag keys starting with 'aws:' are reserved for AWS use.");
    }
    requestTags[t.key] = t.value;
  }
  for (const k of params.transitiveTagKeys ?? []) {
    if (!seen.has(k.toLowerCase())) {
      throw new StsInvalidParameterError(
        'The specified transitive tag key must be included in the requested tags.',
      );
    }
  }
  const inheritedKeys = caller.principal.transitiveTagKeys ?? [];
  const inheritedLower = lowerKeys(inheritedKeys);
  for (const k of Object.keys(requestTags)) {
    if (inheritedLower.has(k.toLowerCase())) {
      throw new StsInvalidParameterError(
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
      );
    }
  }
  // Only transitive tags survive chaining; they stay transitive.
  const tags: Record<string, string> = {};
  for (const k of inheritedKeys) {
    const v = caller.principal.sessionTags?.[k];
    if (v !== undefined) tags[k] = v;
  }
  Object.assign(tags, requestTags);
  const requestTransitive = (params.transitiveTagKeys ?? []).map(
    (k) => Object.keys(requestTags).find((t) => t.toLowerCase() === k.toLowerCase()) ?? k,
  );
  return { tags, transitive: [...inheritedKeys, ...requestTransitive], requestTags };
}

function sessionPoliciesFor(store: IamStore, params: AssumeRoleParams): Policy[] {
  const policies: Policy[] = [];
  if (params.policy !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(params.policy);
    } catch (err) {
      throw new StsMalformedPolicyError('The policy is not in the valid JSON format.', { cause: err });
    }
    try {
      policies.push(parsePolicy(doc, 'session', 'session-policy'));
    } catch (err) {
      const issues = (err as { issues?: Array<{ path: string; message: string }> }).issues;
      const first = issues?.[0];
      throw new StsMalformedPolicyError(
        first ? `Syntax errors in policy. ${first.path}: ${first.message}` : 'Syntax errors in policy.',
        { cause: err },
      );
    }
  }
  if (params.policyArns !== undefined) {
    if (params.policyArns.length > MAX_POLICY_ARNS) {
      throw new StsValidationError([
        `Value '[${params.policyArns.length} policy ARNs]' at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to ${MAX_POLICY_ARNS}`,
      ]);
    }
    for (const arn of params.policyArns) {
      const mp = store.getManagedPolicy(arn);
      if (!mp) throw new StsInvalidParameterError(`Policy ${arn} does not exist or is not attachable.`);
      policies.push(mp.policy);
    }
  }
  return policies;
}

/** The request context of the AssumeRole call (fact sheet §4). */
function assumeRoleContext(
  store: IamStore,
  caller: KeyRecord,
  role: WorldRole | undefined,
  params: AssumeRoleParams,
  sourceIdentity: string | undefined,
  requestTags: Record<string, string>,
  sourceIp: string,
  now: Date,
): RequestContext {
  const ctx: RequestContext = { ...store.principalContext(caller, now) };
  ctx['sts:RoleSessionName'] = params.roleSessionName;
  if (params.externalId !== undefined) ctx['sts:ExternalId'] = params.externalId;
  if (sourceIdentity !== undefined) ctx['sts:SourceIdentity'] = sourceIdentity;
  if (params.transitiveTagKeys?.length) ctx['sts:TransitiveTagKeys'] = params.transitiveTagKeys;
  const tagKeys = Object.keys(requestTags);
  if (tagKeys.length > 0) ctx['aws:TagKeys'] = tagKeys;
  for (const [k, v] of Object.entries(requestTags)) ctx[`aws:RequestTag/${k}`] = v;
  // Resource tags are the role's, with the caller's transitive tags over them when chaining.
  const resourceTags: Record<string, string> = { ...(role?.tags ?? {}) };
  for (const k of caller.principal.transitiveTagKeys ?? []) {
    const v = caller.principal.sessionTags?.[k];
    if (v !== undefined) resourceTags[k] = v;
  }
  for (const [k, v] of Object.entries(resourceTags)) ctx[`aws:ResourceTag/${k}`] = v;
  ctx['aws:SourceIp'] = sourceIp;
  return ctx;
}

/** True when an Allow statement that matched in the trust policy names the caller's role or session. */
function trustNamesCaller(role: WorldRole, result: EvaluationResult, caller: KeyRecord): boolean {
  const names = new Set([caller.principal.arn, caller.principal.roleArn].filter((x): x is string => !!x));
  return result.matched.some((m) => {
    if (m.effect !== 'Allow') return false;
    const st = role.trustPolicy.statements.find((s) => s.index === m.index);
    return (st?.principal?.AWS ?? []).some((v) => names.has(v));
  });
}

/** Runs AssumeRole for `caller`; throws an StsFaultError subclass on every refusal. */
export function assumeRole(
  store: IamStore,
  caller: KeyRecord,
  params: AssumeRoleParams,
  env: { now: Date; sourceIp: string },
): AssumeRoleOutcome {
  // 2. tags
  const { tags, transitive, requestTags } = sessionTagsFor(caller, params);

  // SourceIdentity is immutable once set: the same value may be passed again, a different one not.
  const inheritedSource = caller.principal.sourceIdentity;
  const sourceIdentity = params.sourceIdentity ?? inheritedSource;

  // 3. session policies
  const sessionPolicies = sessionPoliciesFor(store, params);

  // 4. chaining: any call made with temporary credentials
  const chained = caller.sessionToken !== undefined;
  const duration = params.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  if (chained && duration > CHAINING_LIMIT_SECONDS) {
    throw new StsDurationError(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }

  // 5. authorisation
  if (caller.principal.type === 'root') {
    throw new StsFaultError('AccessDenied', 403, 'Roles may not be assumed by root accounts.');
  }
  const role = store.getRole(params.roleArn);
  const callerArn = caller.principal.arn;
  if (!role) throw new StsAccessDeniedError(callerArn, 'sts:AssumeRole', params.roleArn);
  if (
    inheritedSource !== undefined &&
    params.sourceIdentity !== undefined &&
    params.sourceIdentity !== inheritedSource
  ) {
    throw new StsAccessDeniedError(callerArn, 'sts:SetSourceIdentity', role.arn);
  }
  const ctx = assumeRoleContext(
    store,
    caller,
    role,
    params,
    sourceIdentity,
    requestTags,
    env.sourceIp,
    env.now,
  );
  const actions = ['sts:AssumeRole'];
  if (params.tags?.length || params.transitiveTagKeys?.length) actions.push('sts:TagSession');
  if (sourceIdentity !== undefined) actions.push('sts:SetSourceIdentity');
  const principal = store.principalInfo(caller);
  const crossAccount = principal.account !== role.account;
  const callerIdentity = store.identityPoliciesOf(caller);
  const callerSession = store.sessionPoliciesOf(caller);
  // The caller's role's permissions boundary limits (and its Denies revoke) the caller's side.
  const callerBoundary = store.boundaryOf(caller);
  for (const action of actions) {
    const req = { action, resource: role.arn, principal, context: ctx };
    const trust = evaluatePolicySet([role.trustPolicy], req);
    const identity = authorize(
      {
        identityPolicies: callerIdentity,
        ...(callerBoundary !== undefined && { permissionsBoundary: callerBoundary }),
        ...(callerSession !== undefined && { sessionPolicies: callerSession }),
      },
      req,
    );
    const denied =
      trust.decision !== 'Allow' ||
      identity.decision === 'ExplicitDeny' ||
      ((crossAccount || !trustNamesCaller(role, trust, caller)) && identity.decision !== 'Allow');
    if (denied) throw new StsAccessDeniedError(callerArn, action, role.arn);
  }

  // 6. role's own cap
  if (duration > role.maxSessionDuration) {
    throw new StsDurationError(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }

  // 7. packed size
  let packedPolicySize: number | undefined;
  if (params.policy !== undefined || params.policyArns?.length || Object.keys(tags).length > 0) {
    packedPolicySize = packedPolicyPercent({ policy: params.policy, policyArns: params.policyArns, tags });
    if (packedPolicySize > 100) {
      const hasPolicy = params.policy !== undefined || !!params.policyArns?.length;
      const hasTags = Object.keys(tags).length > 0;
      const what =
        hasPolicy && hasTags
          ? 'session policy and session tags'
          : hasTags
            ? 'session tags'
            : 'session policy';
      throw new StsPackedPolicyTooLargeError(what, packedPolicySize);
    }
  }

  // 8. issue
  const key = store.issueSession({
    role,
    sessionName: params.roleSessionName,
    durationSeconds: duration,
    ...(sourceIdentity !== undefined && { sourceIdentity }),
    sessionTags: tags,
    transitiveTagKeys: transitive,
    chained,
    ...(sessionPolicies.length > 0 || params.policyArns !== undefined
      ? {
          sessionPolicy: {
            ...(params.policy !== undefined && { inline: params.policy }),
            ...(params.policyArns && { arns: params.policyArns }),
          },
        }
      : {}),
  });
  return { key, role, ...(packedPolicySize !== undefined && { packedPolicySize }) };
}
