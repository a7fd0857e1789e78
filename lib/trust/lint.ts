/**
 * `vend lint-trust`: every path into a target account that does not go through the broker.
 *
 * Vend's promise is "no standing trust": a person or workload reaches a target account only by
 * asking vend, which assumes a vend-managed role with an ExternalId and the caller as
 * SourceIdentity. Any other trust relationship is a side door. This module reads roles
 * ({@link RoleDocument}) and reports each side door as a {@link TrustFinding}.
 *
 * Which roles are checked:
 * - **vend-managed roles** (tag `vend:managed=true`), strictly: only the broker may assume them,
 *   with an ExternalId and a SourceIdentity; their session tags are limited to `vend:*`; their
 *   sessions cannot assume further roles; MaxSessionDuration ≤ 3600;
 * - **every other role in a target account** (an account holding a vend-managed role, or one
 *   given in `targetAccounts`), for standing paths in: principals of another account, `*`
 *   without conditions, identity providers (SAML/OIDC). Service principals (a Lambda's own role)
 *   are a workload's identity, not a way in, and are not reported.
 *
 * The analysis is structural (it reads statements, it does not guess request values), with the
 * policy evaluator (lib/iam, the same `authorize` that the local STS emulator's AssumeRole and the
 * effective-permission check use) answering two questions: do a role's own permissions allow
 * `sts:AssumeRole`? and does a `"*"` statement's Condition keep a stranger out? A stranger is a
 * role session of another account that sends only what every AssumeRole carries (session name,
 * source IP, time) and no ExternalId, SourceIdentity or tags: if the evaluator admits it, the
 * conditions are vacuous (a negated operator on an absent key, `…IfExists`, `ForAllValues`) and the
 * statement is a side door. Trust policies IAM itself would reject (NotPrincipal, `"Principal": "*"`,
 * a Resource) are `invalid-policy`, with IAM's message.
 * SCPs are not visible here; infra/scp/ closes the same doors at the Organization level.
 */
import {
  authorize,
  evaluatePolicySet,
  matchWildcard,
  type Policy,
  PolicyValidationError,
  parsePolicy,
  type Statement,
} from '../iam';
import type { RoleDocument } from './roles';

/** What kind of side door a finding is. Stable identifiers (JSON output, docs/trust.md). */
export type TrustRule =
  | 'invalid-policy'
  | 'foreign-principal'
  | 'wildcard-principal'
  | 'federated-principal'
  | 'missing-external-id'
  | 'missing-source-identity'
  | 'unrestricted-tag-session'
  | 'chain-from-vended-role'
  | 'can-chain'
  | 'max-session-duration'
  | 'no-broker-path'
  | 'unresolved-policy';

/** One side door (error) or a doubt (warning). */
export interface TrustFinding {
  rule: TrustRule;
  severity: 'error' | 'warning';
  role: string;
  /** `file:line`, or the endpoint URL and role. */
  source: string;
  /** `Sid "X"` or `Statement[i]` of the trust (or identity) policy. */
  statement?: string;
  principal?: string;
  message: string;
}

/** Options of {@link lintTrust}. */
export interface LintOptions {
  /**
   * The broker role ARN(s). Default: the roles tagged `vend:component=broker` in the input (the
   * demo world marks its broker so).
   */
  brokerArns?: readonly string[];
  /** Extra accounts to treat as target accounts (besides those holding vend-managed roles). */
  targetAccounts?: readonly string[];
  /** Principals accepted on purpose (an SSO provider, a known auditor role); exact strings. */
  allowPrincipals?: readonly string[];
  /** The time of the stranger probe (`aws:CurrentTime`); default: now. */
  now?: Date;
}

/** The result: what was checked and what was found. */
export interface LintReport {
  ok: boolean;
  brokerArns: string[];
  targetAccounts: string[];
  roles: { arn: string; managed: boolean; source: string }[];
  findings: TrustFinding[];
}

/** No broker ARN given and none marked in the input. */
export class BrokerUnknownError extends Error {
  constructor() {
    super('which role is the broker? pass --broker <role ARN> (or tag it vend:component=broker)');
    this.name = 'BrokerUnknownError';
  }
}

const ASSUME_ACTIONS = ['sts:AssumeRole', 'sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity'];
const MANAGED_TAG = 'vend:managed';
const CHAINING_MAX = 3600;

function grants(st: Statement, action: string): boolean {
  const m = (p: string) => matchWildcard(p, action, { ignoreCase: true });
  if (st.action) return st.action.some(m);
  if (st.notAction) return !st.notAction.some(m);
  return false;
}

function label(st: Statement): string {
  return st.sid ? `Sid "${st.sid}"` : `Statement[${st.index}]`;
}

/** Role ARN of a principal value (`arn:…:role/R` or a session `arn:…:sts::A:assumed-role/R/S`). */
function roleArnOf(value: string): string | undefined {
  if (/^arn:[\w-]+:iam::\d{12}:role\//.test(value)) return value;
  const m = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(value);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

function accountOfPrincipal(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  return /^arn:[\w-]+:(?:iam|sts)::(\d{12}):/.exec(value)?.[1];
}

/** Role ARNs compare by account and name: IAM role names are unique per account whatever the path. */
function roleKey(arn: string): string {
  const m = /^arn:[\w-]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? `${m[1]}/${m[2]}` : arn;
}

type ConditionEntry = { op: string; key: string; values: string[] };

function conditionEntries(st: Statement): ConditionEntry[] {
  const out: ConditionEntry[] = [];
  for (const [op, keys] of Object.entries(st.condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) out.push({ op, key: key.toLowerCase(), values });
  }
  return out;
}

/** A condition that can only be met when the key is present with a chosen value. */
function requiresValue(entries: ConditionEntry[], key: string): boolean {
  return entries.some(
    (c) =>
      c.key === key &&
      /^(StringEquals|StringEqualsIgnoreCase|StringLike)$/.test(c.op) &&
      c.values.length > 0 &&
      c.values.every((v) => v.replace(/[*?]/g, '') !== ''),
  );
}

/** The key must be present (`Null: false`, or a positive operator without IfExists). */
function requiresPresence(entries: ConditionEntry[], key: string): boolean {
  return entries.some(
    (c) =>
      c.key === key &&
      ((c.op === 'Null' && c.values.every((v) => v === 'false')) ||
        /^(StringEquals|StringEqualsIgnoreCase|StringLike)$/.test(c.op)),
  );
}

/** A `*` principal whose conditions pin aws:PrincipalArn to the brokers goes through the broker. */
function pinnedToBrokers(entries: ConditionEntry[], brokers: Set<string>): boolean {
  return entries.some(
    (c) =>
      c.key === 'aws:principalarn' &&
      /^(StringEquals|ArnEquals)$/.test(c.op) &&
      c.values.length > 0 &&
      c.values.every((v) => brokers.has(roleKey(v))),
  );
}

/** An account that holds nothing in any input: the stranger's. */
const STRANGER_ACCOUNT = '000000000000';

/**
 * Would lib/iam's `authorize` let a stranger assume `role` by `action` through this trust policy? The
 * stranger's own account allows it everything (it controls that account); it sends no ExternalId,
 * SourceIdentity or tags. This is the emulator's decision for the same caller.
 */
function strangerAdmitted(trust: Policy, role: RoleDocument, action: string, now: Date): boolean {
  const account = role.account === STRANGER_ACCOUNT ? '000000000001' : STRANGER_ACCOUNT;
  const roleArn = `arn:aws:iam::${account}:role/stranger`;
  const everything = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    'identity',
    'stranger',
  );
  const context: Record<string, string> = {
    'aws:PrincipalArn': roleArn,
    'aws:PrincipalAccount': account,
    'aws:PrincipalType': 'AssumedRole',
    'aws:userid': 'AROASTRANGERSTRANGER:probe',
    'aws:SecureTransport': 'true',
    'aws:SourceIp': '203.0.113.10',
    'aws:CurrentTime': now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    'sts:RoleSessionName': 'probe',
  };
  for (const [k, v] of Object.entries(role.tags)) context[`aws:ResourceTag/${k}`] = v;
  const result = authorize(
    { identityPolicies: [everything], resourcePolicy: trust, sameAccount: false },
    {
      action,
      resource: role.arn,
      principal: {
        type: 'role-session',
        arn: `arn:aws:sts::${account}:assumed-role/stranger/probe`,
        account,
        roleArn,
      },
      context,
    },
  );
  return result.decision === 'Allow';
}

function parseOrFinding(
  doc: unknown,
  kind: 'trust' | 'identity',
  name: string,
  role: RoleDocument,
  findings: TrustFinding[],
): Policy | undefined {
  try {
    return parsePolicy(doc, kind, name);
  } catch (e) {
    if (!(e instanceof PolicyValidationError)) throw e;
    const issue = e.issues[0];
    findings.push({
      rule: 'invalid-policy',
      severity: 'error',
      role: role.arn,
      source: role.source,
      message: `the ${kind === 'trust' ? 'trust' : `permission policy ${name}`} cannot be read${
        issue ? ` (${issue.path}: ${issue.message})` : ''
      }, so what it allows is unknown; IAM refuses it too (MalformedPolicyDocument: ${e.iamMessage})`,
    });
    return undefined;
  }
}

/**
 * Lints the trust of `roles`.
 *
 * @throws BrokerUnknownError no broker ARN given and none tagged in the input
 * @example
 * const report = lintTrust(await loadWorldRoles('infra/local/world'));
 * report.ok; // true for the demo world
 */
export function lintTrust(roles: readonly RoleDocument[], opts: LintOptions = {}): LintReport {
  const brokerArns = opts.brokerArns?.length
    ? [...opts.brokerArns]
    : roles.filter((r) => r.tags['vend:component'] === 'broker').map((r) => r.arn);
  if (brokerArns.length === 0) throw new BrokerUnknownError();
  const brokers = new Set(brokerArns.map(roleKey));
  const allowed = new Set(opts.allowPrincipals ?? []);
  const now = opts.now ?? new Date();
  const managedKeys = new Set(roles.filter((r) => r.tags[MANAGED_TAG] === 'true').map((r) => roleKey(r.arn)));
  const targetAccounts = [
    ...new Set([
      ...roles.filter((r) => r.tags[MANAGED_TAG] === 'true').map((r) => r.account),
      ...(opts.targetAccounts ?? []),
    ]),
  ].sort();
  const findings: TrustFinding[] = [];
  const checked: LintReport['roles'] = [];

  for (const role of roles) {
    const managed = role.tags[MANAGED_TAG] === 'true';
    if (!managed && !targetAccounts.includes(role.account)) continue;
    if (brokers.has(roleKey(role.arn))) continue;
    checked.push({ arn: role.arn, managed, source: role.source });
    const add = (f: Omit<TrustFinding, 'role' | 'source'>) =>
      findings.push({ ...f, role: role.arn, source: role.source });

    const trust = parseOrFinding(role.trustPolicy, 'trust', `${role.name}-trust`, role, findings);
    let brokerPath = false;
    for (const st of trust?.statements ?? []) {
      if (st.effect !== 'Allow') continue;
      const entries = conditionEntries(st);
      const fromBroker = principalsOf(st).some((p) => brokers.has(roleKey(roleArnOf(p) ?? p)));
      if (managed && fromBroker && grants(st, 'sts:TagSession')) {
        const limited = entries.some(
          (c) =>
            c.key === 'aws:tagkeys' &&
            c.op.startsWith('ForAllValues:String') &&
            c.values.length > 0 &&
            c.values.every((v) => /^vend:/i.test(v)),
        );
        if (!limited) {
          add({
            rule: 'unrestricted-tag-session',
            severity: 'warning',
            statement: label(st),
            message:
              'sts:TagSession is allowed for any tag key; limit it with ForAllValues:StringLike aws:TagKeys ["vend:*"] so a session cannot carry tags that other policies trust',
          });
        }
      }
      const assumeAction = ASSUME_ACTIONS.find((a) => grants(st, a));
      if (!assumeAction) continue;

      // NotPrincipal cannot reach here: IAM refuses it in a role trust policy (invalid-policy).
      const block = st.principal ?? {};
      for (const value of block.AWS ?? []) {
        if (allowed.has(value)) continue;
        if (value === '*') {
          // Whether its conditions (and the policy's Denies) keep a stranger out is decided by the
          // evaluator, the same one AssumeRole uses.
          // The statement alone with every Deny of the policy: another statement must not decide.
          const own: Policy | undefined = trust && {
            ...trust,
            statements: [st, ...trust.statements.filter((d) => d.effect === 'Deny')],
          };
          const open = own !== undefined && strangerAdmitted(own, role, assumeAction, now);
          if (managed ? pinnedToBrokers(entries, brokers) && !open : !open) {
            if (managed) brokerPath = checkBrokerConditions(st, entries, add) || brokerPath;
            continue;
          }
          add({
            rule: 'wildcard-principal',
            severity: 'error',
            statement: label(st),
            principal: '*',
            message: managed
              ? `${label(st)} lets any principal assume this vend-managed role; name the broker instead`
              : entries.length === 0 && !trust?.statements.some((d) => d.effect === 'Deny')
                ? `${label(st)} lets any principal assume this role, with no condition at all`
                : `${label(st)} lets any principal assume this role: its conditions do not keep out a caller from another account that sends no ExternalId, SourceIdentity or tags (lib/iam authorize admits it)`,
          });
          continue;
        }
        const asRole = roleArnOf(value);
        if (asRole && brokers.has(roleKey(asRole))) {
          if (managed) brokerPath = checkBrokerConditions(st, entries, add) || brokerPath;
          continue;
        }
        if (asRole && managedKeys.has(roleKey(asRole))) {
          add({
            rule: 'chain-from-vended-role',
            severity: 'error',
            statement: label(st),
            principal: value,
            message: `${label(st)} trusts ${value}, whose sessions vend hands out: a vended session could chain into this role without asking vend`,
          });
          continue;
        }
        const account = accountOfPrincipal(value);
        if (managed || account !== role.account) {
          add({
            rule: 'foreign-principal',
            severity: 'error',
            statement: label(st),
            principal: value,
            message: managed
              ? `${label(st)} lets ${value} assume this vend-managed role without going through vend`
              : `${label(st)} lets ${value} (account ${account ?? 'unknown'}) into account ${role.account} without going through vend`,
          });
        }
      }
      for (const value of block.Federated ?? []) {
        if (allowed.has(value)) continue;
        add({
          rule: 'federated-principal',
          severity: 'error',
          statement: label(st),
          principal: value,
          message: `${label(st)} lets identities of ${value} in directly (${assumeAction}), a standing path that bypasses vend`,
        });
      }
      if (managed) {
        for (const value of [...(block.Service ?? []), ...(block.CanonicalUser ?? [])]) {
          if (allowed.has(value)) continue;
          add({
            rule: 'foreign-principal',
            severity: 'error',
            statement: label(st),
            principal: value,
            message: `${label(st)} lets ${value} assume this vend-managed role; only the broker should`,
          });
        }
      }
    }

    if (!managed) continue;
    if (trust && !brokerPath) {
      add({
        rule: 'no-broker-path',
        severity: 'warning',
        message: 'no trust statement lets the broker assume this vend-managed role, so vend cannot use it',
      });
    }
    if (role.maxSessionDuration !== undefined && role.maxSessionDuration > CHAINING_MAX) {
      add({
        rule: 'max-session-duration',
        severity: 'error',
        message: `MaxSessionDuration is ${role.maxSessionDuration}; vend-managed roles keep it at ${CHAINING_MAX} so no other path can mint longer sessions`,
      });
    }
    const identity = role.policies
      .map((p) => parseOrFinding(p.document, 'identity', p.name, role, findings))
      .filter((p): p is Policy => p !== undefined);
    // The question is about a session vend handed out: it carries vend's transitive session tags
    // and a SourceIdentity, so a Deny keyed on them (as the template's) applies.
    const probe = evaluatePolicySet(identity, {
      action: 'sts:AssumeRole',
      resource: 'arn:aws:iam::000000000000:role/any-role',
      context: {
        'aws:PrincipalTag/vend:audit-id': '01KB0000000000000000000000',
        'aws:PrincipalTag/vend:entitlement': 'probe',
        'aws:SourceIdentity': 'probe',
        'aws:PrincipalArn': role.arn,
        'aws:PrincipalAccount': role.account,
      },
    });
    if (probe.decision === 'Allow') {
      const by = probe.matched.find((m) => m.effect === 'Allow');
      add({
        rule: 'can-chain',
        severity: 'error',
        statement: by ? `${by.policy} ${by.sid ? `Sid "${by.sid}"` : `Statement[${by.index}]`}` : undefined,
        message:
          'its sessions may call sts:AssumeRole: a vended session could chain into other roles; deny sts:AssumeRole in the role (the template does) and by SCP',
      });
    }
    for (const arn of role.unresolvedPolicyArns) {
      add({
        rule: 'unresolved-policy',
        severity: 'warning',
        statement: arn,
        message: `attached policy ${arn} is not in the input, so whether its sessions can chain is unknown (include it, e.g. with get-account-authorization-details)`,
      });
    }
  }

  return {
    ok: !findings.some((f) => f.severity === 'error'),
    brokerArns,
    targetAccounts,
    roles: checked,
    findings,
  };
}

function principalsOf(st: Statement): string[] {
  return st.principal?.AWS ?? [];
}

/**
 * The broker's own statement must require the ExternalId and a SourceIdentity. Returns true when
 * it is a usable broker path (it allows sts:AssumeRole at all).
 */
function checkBrokerConditions(
  st: Statement,
  entries: ConditionEntry[],
  add: (f: Omit<TrustFinding, 'role' | 'source'>) => void,
): boolean {
  if (!grants(st, 'sts:AssumeRole')) return false;
  if (!requiresValue(entries, 'sts:externalid')) {
    add({
      rule: 'missing-external-id',
      severity: 'error',
      statement: label(st),
      message: `${label(st)} lets the broker in without an ExternalId (StringEquals sts:ExternalId): anyone who can steer the broker's role could assume it`,
    });
  }
  if (!requiresPresence(entries, 'sts:sourceidentity')) {
    add({
      rule: 'missing-source-identity',
      severity: 'error',
      statement: label(st),
      message: `${label(st)} does not require a SourceIdentity ("Null": {"sts:SourceIdentity": "false"}), so sessions need not name who asked`,
    });
  }
  return true;
}
