/**
 * Entitlements: which target role, for whom, for how long, within which ceiling. Validated once at
 * load ({@link parseEntitlement}); matched per request, deny by default ({@link mayUse},
 * {@link resolveEntitlement}).
 */
import { PolicyValidationError, parsePolicy } from '../iam';
import { roleNameOf } from './caller';
import { ApprovalRequiredError, EntitlementConfigError, NotEntitledError } from './errors';
import {
  ENTITLEMENT_ID,
  MIN_DURATION_SECONDS,
  ROLE_CHAINING_MAX_SECONDS,
  SESSION_POLICY_MAX_CHARS,
} from './limits';
import { parseRateLimit, RateLimitFieldError } from './rate-limit';
import { hasPolicyVariable, stsPolicyTextProblem } from './session-policy';
import type { ApprovalGate, BreakGlassGate, Caller, Entitlement, EntitlementPrincipals } from './types';

export { ENTITLEMENT_ID, MIN_DURATION_SECONDS, ROLE_CHAINING_MAX_SECONDS } from './limits';

// An IAM role ARN, path allowed. Session ARNs (arn:aws:sts::…:assumed-role/…) are not role ARNs.
const ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}):role\/((?:[\u0021-\u007E]+\/)*)([\w+=,.@-]{1,64})$/;
// AssumeRole's ExternalId constraint (fact sheet §1).
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/** Every field of an entitlement definition, in the order docs and diffs show them. */
export const ENTITLEMENT_KEYS = [
  'id',
  'description',
  'roleArn',
  'externalId',
  'maxDurationSeconds',
  'defaultDurationSeconds',
  'ceiling',
  'principals',
  'requesterGroups',
  'approval',
  'breakGlass',
  'rateLimit',
] as const;

/**
 * Validate one entitlement definition (from config) and return it with defaults filled in:
 * `maxDurationSeconds` defaults to 3600, `defaultDurationSeconds` to the max, `principals` to none.
 * `rateLimit` is kept only when given: absent fields take the deployment's defaults at vend time.
 *
 * @throws EntitlementConfigError naming the entitlement and the field; never quoting the ExternalId
 * @example
 * ```ts
 * parseEntitlement({ id: 'prod-readonly', roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
 *   externalId: 'prod-readonly-ext-7f3a', principals: { roles: [], groups: ['sre'] } });
 * // { id: 'prod-readonly', maxDurationSeconds: 3600, defaultDurationSeconds: 3600, … }
 * ```
 */
export function parseEntitlement(raw: unknown): Entitlement {
  if (!isRecord(raw)) throw new EntitlementConfigError('(unnamed)', 'definition', 'must be an object');
  const id = typeof raw.id === 'string' && ENTITLEMENT_ID.test(raw.id) ? raw.id : undefined;
  if (id === undefined) {
    throw new EntitlementConfigError(
      typeof raw.id === 'string' ? raw.id.slice(0, 64) : '(unnamed)',
      'id',
      'must match [a-z0-9][a-z0-9-]{1,62}',
    );
  }
  const fail = (field: string, problem: string): never => {
    throw new EntitlementConfigError(id, field, problem);
  };
  refuseUnknownKeys(raw, ENTITLEMENT_KEYS, '', fail);

  const ent: Entitlement = {
    id,
    roleArn: '',
    maxDurationSeconds: ROLE_CHAINING_MAX_SECONDS,
    defaultDurationSeconds: ROLE_CHAINING_MAX_SECONDS,
    principals: { roles: [], groups: [] },
  };

  if (raw.description !== undefined) {
    if (typeof raw.description !== 'string' || raw.description.length > 1024) {
      fail('description', 'must be a string of at most 1024 characters');
    }
    ent.description = raw.description as string;
  }

  if (typeof raw.roleArn !== 'string' || !ROLE_ARN.test(raw.roleArn)) {
    fail('roleArn', 'must be an IAM role ARN such as arn:aws:iam::444455556666:role/ProdReadOnly');
  }
  ent.roleArn = raw.roleArn as string;

  if (raw.externalId !== undefined) {
    // Never quote the value: it is a secret.
    if (typeof raw.externalId !== 'string' || !EXTERNAL_ID.test(raw.externalId)) {
      fail('externalId', 'must be 2–1224 characters of [A-Za-z0-9_+=,.@:/-] (value not shown)');
    }
    ent.externalId = raw.externalId as string;
  }

  if (raw.maxDurationSeconds !== undefined) {
    ent.maxDurationSeconds = durationField(raw.maxDurationSeconds, 'maxDurationSeconds', fail);
  }
  ent.defaultDurationSeconds =
    raw.defaultDurationSeconds === undefined
      ? ent.maxDurationSeconds
      : durationField(raw.defaultDurationSeconds, 'defaultDurationSeconds', fail);
  if (ent.defaultDurationSeconds > ent.maxDurationSeconds) {
    fail(
      'defaultDurationSeconds',
      `(${ent.defaultDurationSeconds}) must not exceed maxDurationSeconds (${ent.maxDurationSeconds})`,
    );
  }

  if (raw.ceiling !== undefined) {
    if (!isRecord(raw.ceiling)) fail('ceiling', 'must be an IAM policy document (a JSON object)');
    try {
      parsePolicy(raw.ceiling, 'session', `${id}.ceiling`);
    } catch (e) {
      if (!(e instanceof PolicyValidationError)) throw e;
      const first = e.issues[0];
      throw new EntitlementConfigError(
        id,
        `ceiling${first ? `.${first.path}` : ''}`,
        first ? first.message : 'is not a valid session policy',
        { cause: e },
      );
    }
    const ceilingDoc = raw.ceiling as Record<string, unknown>;
    if (ceilingDoc.Version !== '2012-10-17' && hasPolicyVariable(ceilingDoc)) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: names IAM policy-variable syntax, not a template
      fail('ceiling', 'uses ${…} policy variables, which need "Version": "2012-10-17"');
    }
    // Without a requested policy the ceiling is sent as the session policy, so it must fit STS too.
    const problem = stsPolicyTextProblem(JSON.stringify(raw.ceiling));
    if (problem === 'size')
      fail('ceiling', `must be at most ${SESSION_POLICY_MAX_CHARS} characters minified`);
    if (problem === 'charset') fail('ceiling', 'contains characters STS does not accept in a session policy');
    ent.ceiling = raw.ceiling as Record<string, unknown>;
  }

  ent.principals = principalsField(raw.principals, fail);

  if (raw.requesterGroups !== undefined)
    ent.requesterGroups = groupList(raw.requesterGroups, 'requesterGroups', fail);

  if (raw.approval !== undefined) ent.approval = approvalField(raw.approval, fail);
  if (ent.requesterGroups && ent.requesterGroups.length > 0 && !ent.approval) {
    fail('requesterGroups', 'needs an approval gate: without approvers a request could never be granted');
  }

  if (raw.breakGlass !== undefined) ent.breakGlass = breakGlassField(raw.breakGlass, fail);

  if (raw.rateLimit !== undefined) {
    try {
      ent.rateLimit = parseRateLimit(raw.rateLimit);
    } catch (e) {
      if (!(e instanceof RateLimitFieldError)) throw e;
      fail(e.field, e.message);
    }
  }

  return ent;
}

type Fail = (field: string, problem: string) => never;

function durationField(value: unknown, field: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(field, 'must be a whole number of seconds');
  const n = value as number;
  if (n > ROLE_CHAINING_MAX_SECONDS) {
    fail(
      field,
      `(${n}) must be at most ${ROLE_CHAINING_MAX_SECONDS}: vend's broker runs as a Lambda role, so every ` +
        `AssumeRole it makes is role chaining, and STS caps chained sessions at one hour`,
    );
  }
  if (n < MIN_DURATION_SECONDS) fail(field, `(${n}) must be at least ${MIN_DURATION_SECONDS}, STS's minimum`);
  return n;
}

function principalsField(value: unknown, fail: Fail): EntitlementPrincipals {
  if (value === undefined) return { roles: [], groups: [] };
  if (!isRecord(value)) fail('principals', 'must be an object { roles, groups }');
  const p = value as Record<string, unknown>;
  refuseUnknownKeys(p, ['roles', 'groups'], 'principals.', fail);
  const roles = p.roles === undefined ? [] : stringList(p.roles, 'principals.roles', fail);
  roles.forEach((r, i) => {
    if (!ROLE_ARN.test(r)) {
      fail(
        `principals.roles[${i}]`,
        r.includes(':assumed-role/')
          ? 'is a session ARN; name the role: arn:aws:iam::<account>:role/<name>'
          : 'must be an IAM role ARN',
      );
    }
  });
  const groups = p.groups === undefined ? [] : groupList(p.groups, 'principals.groups', fail);
  return { roles, groups };
}

function approvalField(value: unknown, fail: Fail): ApprovalGate {
  if (!isRecord(value)) fail('approval', 'must be an object { approvals, approverGroups }');
  const a = value as Record<string, unknown>;
  refuseUnknownKeys(a, ['approvals', 'approverGroups', 'requestTtlSeconds'], 'approval.', fail);
  if (typeof a.approvals !== 'number' || !Number.isInteger(a.approvals) || a.approvals < 1) {
    fail('approval.approvals', 'must be a whole number ≥ 1');
  }
  const approverGroups = groupList(a.approverGroups, 'approval.approverGroups', fail);
  if (approverGroups.length === 0) fail('approval.approverGroups', 'must name at least one group');
  const gate: ApprovalGate = { approvals: a.approvals as number, approverGroups };
  if (a.requestTtlSeconds !== undefined) {
    if (
      typeof a.requestTtlSeconds !== 'number' ||
      !Number.isInteger(a.requestTtlSeconds) ||
      a.requestTtlSeconds < 60
    ) {
      fail('approval.requestTtlSeconds', 'must be a whole number of seconds ≥ 60');
    }
    gate.requestTtlSeconds = a.requestTtlSeconds as number;
  }
  return gate;
}

function breakGlassField(value: unknown, fail: Fail): BreakGlassGate {
  if (!isRecord(value)) fail('breakGlass', 'must be an object { groups, maxDurationSeconds }');
  const b = value as Record<string, unknown>;
  refuseUnknownKeys(b, ['groups', 'maxDurationSeconds'], 'breakGlass.', fail);
  const groups = groupList(b.groups, 'breakGlass.groups', fail);
  if (groups.length === 0) fail('breakGlass.groups', 'must name at least one group');
  const maxDurationSeconds =
    b.maxDurationSeconds === undefined
      ? ROLE_CHAINING_MAX_SECONDS
      : durationField(b.maxDurationSeconds, 'breakGlass.maxDurationSeconds', fail);
  return { groups, maxDurationSeconds };
}

function groupList(value: unknown, field: string, fail: Fail): string[] {
  const list = stringList(value, field, fail);
  list.forEach((g, i) => {
    if (g.trim() === '' || g !== g.trim())
      fail(`${field}[${i}]`, 'must be a non-empty group name without surrounding spaces');
  });
  return list;
}

function stringList(value: unknown, field: string, fail: Fail): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    fail(field, 'must be an array of strings');
  return [...new Set(value as string[])];
}

function refuseUnknownKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
  fail: Fail,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      fail(`${prefix}${key.slice(0, 64)}`, `is not a known field (allowed: ${allowed.join(', ')})`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// Assumed-role ARNs carry no role path, so callers arrive as arn:…:role/Name. Role names are unique
// per account whatever their path, so partition + account + name identifies the role.
function roleKey(roleArn: string): string | undefined {
  const m = ROLE_ARN.exec(roleArn);
  if (!m) return undefined;
  return `${m[1]}:${m[2]}:${roleNameOf(roleArn)}`;
}

function inAnyGroup(caller: Caller, groups: readonly string[] | undefined): boolean {
  return caller.kind === 'person' && groups !== undefined && caller.groups.some((g) => groups.includes(g));
}

/**
 * May this caller use the entitlement directly, without approval? Deny by default: a service matches
 * only by its role (exact partition, account and role name); a person only by an OIDC group. Email is
 * never consulted.
 *
 * @example
 * ```ts
 * mayUse(ciService, prodReadonly); // true: arn:aws:iam::111122223333:role/CICDDeployRole is listed
 * mayUse(mallory, prodReadonly);   // false: no groups
 * ```
 */
export function mayUse(caller: Caller, ent: Entitlement): boolean {
  if (caller.kind === 'service') {
    const key = roleKey(caller.roleArn);
    return key !== undefined && ent.principals.roles.some((r) => roleKey(r) === key);
  }
  return inAnyGroup(caller, ent.principals.groups);
}

/**
 * May this person ask for the entitlement through the approval flow? Services never request.
 * @example `mayRequest(alice, prodAdmin) // true: alice is in sre, a requester group`
 */
export function mayRequest(caller: Caller, ent: Entitlement): boolean {
  return ent.approval !== undefined && inAnyGroup(caller, ent.requesterGroups);
}

/**
 * May this person use break-glass for the entitlement?
 * @example `mayBreakGlass(dave, prodAdmin) // true: dave is in oncall`
 */
export function mayBreakGlass(caller: Caller, ent: Entitlement): boolean {
  return ent.breakGlass !== undefined && inAnyGroup(caller, ent.breakGlass.groups);
}

/**
 * Resolve the entitlement a caller asked to vend for. `found` is what the store returned for `id`
 * (undefined when there is none).
 *
 * An unknown id and an entitlement that is not the caller's give the **same** NotEntitledError, so a
 * caller cannot learn which entitlements exist by probing. ApprovalRequiredError is only given to
 * callers who may request or break-glass, who can see the entitlement in their listing anyway.
 *
 * @throws NotEntitledError unknown, or neither usable nor requestable by this caller
 * @throws ApprovalRequiredError the caller may only reach it through an approved request or break-glass
 * @example
 * ```ts
 * resolveEntitlement(ciService, 'prod-readonly', await store.get('prod-readonly')); // the entitlement
 * resolveEntitlement(alice, 'prod-admin', prodAdmin); // throws ApprovalRequiredError
 * ```
 */
export function resolveEntitlement(caller: Caller, id: string, found: Entitlement | undefined): Entitlement {
  if (found === undefined || found.id !== id) throw new NotEntitledError(id);
  if (mayUse(caller, found)) return found;
  if (mayRequest(caller, found) || mayBreakGlass(caller, found)) throw new ApprovalRequiredError(id);
  throw new NotEntitledError(id);
}

/**
 * An entitlement as callers may see it. Built from an allow-list of fields, so a field added to
 * {@link Entitlement} later (or the secret `externalId`) never leaks by accident. Who else is entitled
 * is not shown either.
 */
export interface PublicEntitlement {
  id: string;
  description?: string;
  roleArn: string;
  maxDurationSeconds: number;
  defaultDurationSeconds: number;
  /** The scope-down ceiling, so callers can write a policy that fits. */
  ceiling?: Record<string, unknown>;
  approval?: { approvals: number; approverGroups: string[] };
  breakGlass?: { maxDurationSeconds: number };
}

/**
 * The caller-safe view of an entitlement (no ExternalId, no principal lists).
 * @example `publicEntitlement(prodReadonly) // { id: 'prod-readonly', roleArn: '…', maxDurationSeconds: 3600, … }`
 */
export function publicEntitlement(ent: Entitlement): PublicEntitlement {
  const view: PublicEntitlement = {
    id: ent.id,
    roleArn: ent.roleArn,
    maxDurationSeconds: ent.maxDurationSeconds,
    defaultDurationSeconds: ent.defaultDurationSeconds,
  };
  if (ent.description !== undefined) view.description = ent.description;
  if (ent.ceiling !== undefined) view.ceiling = structuredClone(ent.ceiling);
  if (ent.approval)
    view.approval = { approvals: ent.approval.approvals, approverGroups: [...ent.approval.approverGroups] };
  if (ent.breakGlass) view.breakGlass = { maxDurationSeconds: ent.breakGlass.maxDurationSeconds };
  return view;
}

/** One row of the entitlement listing: the public view plus what this caller may do with it. */
export interface VisibleEntitlement extends PublicEntitlement {
  access: { use: boolean; request: boolean; breakGlass: boolean };
}

/**
 * The entitlements a caller may see in a listing: those they may use, request or break-glass,
 * in the order given.
 * @example `visibleEntitlements(mallory, all) // []`
 */
export function visibleEntitlements(caller: Caller, all: readonly Entitlement[]): VisibleEntitlement[] {
  const out: VisibleEntitlement[] = [];
  for (const ent of all) {
    const access = {
      use: mayUse(caller, ent),
      request: mayRequest(caller, ent),
      breakGlass: mayBreakGlass(caller, ent),
    };
    if (access.use || access.request || access.breakGlass) out.push({ ...publicEntitlement(ent), access });
  }
  return out;
}
