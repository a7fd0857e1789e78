/**
 * Statement matching, `evaluatePolicySet` (one set of policies) and `authorize` (the AWS evaluation
 * order of fact sheet §5 across SCPs, resource, identity, boundary and session policies).
 */
import { type CompiledCondition, compileConditions, evaluateCondition } from './conditions';
import { type PrincipalMatchKind, principalMatchKind } from './principal';
import type {
  AuthorizationInput,
  AuthzRequest,
  EvaluationResult,
  MatchedStatement,
  Policy,
  PrincipalBlock,
  PrincipalInfo,
  RequestContext,
  Statement,
} from './types';
import { type ContextLookup, expandVariables, hasVariables } from './variables';
import { compileGlob, type Glob, parseGlob } from './wildcard';

/** A Resource pattern: compiled once, or (with a policy variable) expanded per request. */
type ResourcePattern = { glob: Glob } | { raw: string };

interface CompiledStatement {
  stmt: Statement;
  actions?: Glob[];
  notActions?: Glob[];
  resources?: ResourcePattern[];
  notResources?: ResourcePattern[];
  conditions: CompiledCondition[];
}

// Compiled once per Policy object: vend and the emulator evaluate the same parsed policies again and
// again. Policies are treated as immutable once evaluated.
const compiledPolicies = new WeakMap<Policy, CompiledStatement[]>();

function compilePolicy(policy: Policy): CompiledStatement[] {
  let compiled = compiledPolicies.get(policy);
  if (compiled) return compiled;
  const substitute = policy.version === '2012-10-17';
  const actions = (list?: string[]) => list?.map((a) => compileGlob(parseGlob(a), true));
  const resources = (list?: string[]) =>
    list?.map(
      (r): ResourcePattern =>
        substitute && hasVariables(r) ? { raw: r } : { glob: compileGlob(parseGlob(r)) },
    );
  compiled = policy.statements.map((stmt) => ({
    stmt,
    actions: actions(stmt.action),
    notActions: actions(stmt.notAction),
    resources: resources(stmt.resource),
    notResources: resources(stmt.notResource),
    conditions: compileConditions(stmt.condition, substitute),
  }));
  compiledPolicies.set(policy, compiled);
  return compiled;
}

/** A case-insensitive view of the request context; string values become one-element arrays. */
export function contextLookup(context: RequestContext): ContextLookup {
  const map = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(context)) {
    if (v === undefined) continue;
    map.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
  }
  return (key) => map.get(key.toLowerCase());
}

function resourceMatches(p: ResourcePattern, resource: string, lookup: ContextLookup): boolean {
  if ('glob' in p) return p.glob.test(resource);
  // A variable without a value (and no default) makes this Resource entry match nothing.
  const parts = expandVariables(p.raw, lookup, true);
  return parts !== undefined && compileGlob(parts).test(resource);
}

/** How an applicable statement's Principal / NotPrincipal named the caller (none: no principal element). */
type PrincipalVia = PrincipalMatchKind | 'not-principal' | 'none';

/** Returns how the statement applies to the request, or undefined when it does not. */
function statementApplies(
  c: CompiledStatement,
  req: AuthzRequest,
  lookup: ContextLookup,
): PrincipalVia | undefined {
  const { stmt } = c;
  if (c.actions && !c.actions.some((g) => g.test(req.action))) return undefined;
  if (c.notActions?.some((g) => g.test(req.action))) return undefined;
  if (c.resources && !c.resources.some((p) => resourceMatches(p, req.resource, lookup))) return undefined;
  if (c.notResources?.some((p) => resourceMatches(p, req.resource, lookup))) return undefined;
  let via: PrincipalVia = 'none';
  if (stmt.principal) {
    // Without a caller a Principal statement cannot apply.
    const kind = req.principal ? principalMatchKind(stmt.principal, req.principal) : undefined;
    if (!kind) return undefined;
    via = kind;
  }
  if (stmt.notPrincipal) {
    // Without a caller, err on the safe side: a NotPrincipal Deny applies, a NotPrincipal Allow does not.
    if (!req.principal) {
      if (stmt.effect === 'Allow') return undefined;
    } else if (notPrincipalExcepts(stmt.notPrincipal, req.principal, stmt.effect)) return undefined;
    via = 'not-principal';
  }
  for (const cond of c.conditions) if (!evaluateCondition(cond, lookup)) return undefined;
  return via;
}

/**
 * Whether a `NotPrincipal` block leaves the caller out of its statement. For a Deny only a principal
 * named exactly is left out: the caller's own ARN (session, user, root), `*`, its service or its
 * provider. AWS may check the account, then the role, then the session, and "Principals must always
 * name a specific session" (reference_policies_elements_notprincipal.html), so a role ARN or the
 * account alone does not exempt the role's sessions or the account's users from the Deny. For an
 * Allow the `Principal` reading (a role matches its sessions, an account its principals) leaves more
 * callers out, which is the safe side there.
 */
function notPrincipalExcepts(
  block: PrincipalBlock,
  principal: PrincipalInfo,
  effect: 'Allow' | 'Deny',
): boolean {
  const kind = principalMatchKind(block, principal);
  if (effect === 'Allow') return kind !== undefined;
  if (kind === 'account') return principal.type === 'root';
  return kind !== undefined && kind !== 'role';
}

interface LayerMatch {
  policy: string;
  stmt: Statement;
  via: PrincipalVia;
}

function matchPolicies(policies: readonly Policy[], req: AuthzRequest, lookup: ContextLookup): LayerMatch[] {
  const out: LayerMatch[] = [];
  for (const policy of policies) {
    for (const c of compilePolicy(policy)) {
      const via = statementApplies(c, req, lookup);
      if (via !== undefined) out.push({ policy: policy.name, stmt: c.stmt, via });
    }
  }
  return out;
}

const toMatched = (m: LayerMatch): MatchedStatement => {
  const out: MatchedStatement = { policy: m.policy, index: m.stmt.index, effect: m.stmt.effect };
  if (m.stmt.sid !== undefined) out.sid = m.stmt.sid;
  return out;
};

const denies = (ms: LayerMatch[]) => ms.filter((m) => m.stmt.effect === 'Deny');
const allows = (ms: LayerMatch[]) => ms.filter((m) => m.stmt.effect === 'Allow');

/**
 * Evaluates one set of policies: an applicable Deny wins (ExplicitDeny), else an applicable Allow
 * (Allow), else ImplicitDeny. `matched` lists the applicable statements, denies first.
 *
 * @example evaluatePolicySet([parsePolicy(doc, 'identity')], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context: {} })
 */
export function evaluatePolicySet(policies: Policy[], req: AuthzRequest): EvaluationResult {
  const ms = matchPolicies(policies, req, contextLookup(req.context));
  const d = denies(ms);
  const a = allows(ms);
  const matched = [...d, ...a].map(toMatched);
  if (d.length > 0) return { decision: 'ExplicitDeny', matched, decidedBy: 'policy' };
  if (a.length > 0) return { decision: 'Allow', matched, decidedBy: 'policy' };
  return { decision: 'ImplicitDeny', matched: [], decidedBy: 'policy' };
}

/**
 * Full evaluation in the AWS order (fact sheet §5):
 * 1. an explicit Deny in any layer (SCPs, resource, identity, boundary, session) → ExplicitDeny;
 * 2. SCPs given (non-empty) but none allows → ImplicitDeny by 'scp';
 * 3. same account, resource policy allows the caller by exact ARN or `*` → Allow by 'resource'; if it
 *    allows a role session through the role ARN, boundary and session policy (when given) must allow
 *    too; if it only names the account, it delegates to the identity policies (step 4);
 *    cross account, a given resource policy must allow (any form) AND step 4 must allow; a trust
 *    policy (`kind: 'trust'`) must allow even in the same account (fact sheet §4);
 * 4. identity policies must allow, then the boundary (when given), then the session policies (when
 *    given; `[]` allows nothing).
 *
 * @example authorize({ identityPolicies: [p] }, { action: 'sts:AssumeRole', resource: roleArn, principal, context })
 */
export function authorize(input: AuthorizationInput, req: AuthzRequest): EvaluationResult {
  const lookup = contextLookup(req.context);
  const layers = [
    { name: 'scp', policies: input.scps && input.scps.length > 0 ? input.scps : undefined },
    { name: 'resource', policies: input.resourcePolicy ? [input.resourcePolicy] : undefined },
    { name: 'identity', policies: input.identityPolicies },
    { name: 'boundary', policies: input.permissionsBoundary },
    { name: 'session', policies: input.sessionPolicies },
  ] as const;
  const results = new Map<string, LayerMatch[] | undefined>();
  for (const layer of layers) {
    results.set(layer.name, layer.policies ? matchPolicies(layer.policies, req, lookup) : undefined);
  }

  // 1. Explicit deny anywhere.
  let deciding: string | undefined;
  const allDenies: LayerMatch[] = [];
  for (const layer of layers) {
    const d = denies(results.get(layer.name) ?? []);
    if (d.length > 0) {
      deciding ??= layer.name;
      allDenies.push(...d);
    }
  }
  if (deciding) return { decision: 'ExplicitDeny', matched: allDenies.map(toMatched), decidedBy: deciding };

  const implicit = (layer: string): EvaluationResult => ({
    decision: 'ImplicitDeny',
    matched: [],
    decidedBy: layer,
  });
  /** Allows of a layer, or undefined when the layer is absent. */
  const layerAllows = (name: string): LayerMatch[] | undefined => {
    const r = results.get(name);
    return r ? allows(r) : undefined;
  };

  // 2. SCPs.
  const scp = layerAllows('scp');
  if (scp && scp.length === 0) return implicit('scp');
  const granted: LayerMatch[] = scp ? [...scp] : [];

  // 3. Resource policy.
  const resource = layerAllows('resource');
  if (resource && input.sameAccount) {
    const direct = resource.filter((m) => m.via !== 'role' && m.via !== 'account');
    if (direct.length > 0)
      return { decision: 'Allow', matched: [...granted, ...direct].map(toMatched), decidedBy: 'resource' };
    const viaRole = resource.filter((m) => m.via === 'role');
    if (viaRole.length > 0) {
      const boundary = layerAllows('boundary');
      if (boundary && boundary.length === 0) return implicit('boundary');
      const session = layerAllows('session');
      if (session && session.length === 0) return implicit('session');
      const matched = [...granted, ...viaRole, ...(boundary ?? []), ...(session ?? [])];
      return { decision: 'Allow', matched: matched.map(toMatched), decidedBy: 'resource' };
    }
    // Only account delegation: the identity policies decide. A trust policy must allow in any case.
    if (resource.length === 0 && input.resourcePolicy?.kind === 'trust') return implicit('resource');
  } else if (resource && !input.sameAccount) {
    if (resource.length === 0) return implicit('resource');
    granted.push(...resource);
  }

  // 4. Identity ∩ boundary ∩ session.
  const identity = layerAllows('identity') ?? [];
  if (identity.length === 0) return implicit('identity');
  const boundary = layerAllows('boundary');
  if (boundary && boundary.length === 0) return implicit('boundary');
  const session = layerAllows('session');
  if (session && session.length === 0) return implicit('session');
  const matched = [...granted, ...identity, ...(boundary ?? []), ...(session ?? [])];
  return { decision: 'Allow', matched: matched.map(toMatched), decidedBy: 'identity' };
}
