/**
 * Validation and normalisation of policy documents. Validation is strict on purpose: anything this
 * evaluator would not understand is refused rather than ignored, since an ignored element could
 * silently widen a permission (see docs/iam-evaluator.md, "What is refused").
 *
 * Where IAM rejects a document, so does vend, and each issue carries the message IAM answers with
 * its `MalformedPolicyDocument` error (`PolicyIssue.iam`). The sources of each message are listed in
 * docs/iam-evaluator.md ("Validation errors"): the IAM JSON policy grammar
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html), the Principal
 * and NotPrincipal pages, and IAM Access Analyzer's policy checks
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html).
 */
import { parseArn } from './arn';
import { acceptsVariables, checkConditionValue, parseOperator } from './conditions';
import { PolicyValidationError } from './errors';
import { accountOf } from './principal';
import type { ConditionBlock, Policy, PolicyIssue, PolicyKind, PrincipalBlock, Statement } from './types';
import { hasVariables, variableProblem } from './variables';

const VERSIONS = ['2012-10-17', '2008-10-17'] as const;
const TOP_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Principal',
  'NotPrincipal',
  'Condition',
]);
const PRINCIPAL_KEYS = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
const ACTION = /^[A-Za-z0-9-]+:[^\s:]+$/;
const SID_IAM = /^[A-Za-z0-9]*$/;
const WILDCARD = /[*?]/;
/** IAM principals: the account root, a user or a role (with an optional path). */
const IAM_PRINCIPAL_RESOURCE = /^(root|user\/(?:[^/\s]+\/)*[^/\s]+|role\/(?:[^/\s]+\/)*[^/\s]+)$/;
/**
 * STS session principals: an assumed-role session `assumed-role/R/S` and a federated user session
 * `federated-user/NAME` (GetFederationToken), both under `arn:aws:sts::A:`
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#sts-session-principals).
 */
const STS_PRINCIPAL_RESOURCE = /^(assumed-role\/[^/\s]+\/[^/\s]+|federated-user\/[^/\s]+)$/;
/** `service-name.amazonaws.com`, regional forms and the China partition's `.amazonaws.com.cn`. */
const SERVICE_PRINCIPAL = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/i;
/** A web identity provider's host (`accounts.google.com`, `cognito-identity.amazonaws.com`). */
const PROVIDER_HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
const PROVIDER_ARN = /^(saml-provider\/[\w+=,.@-]+|oidc-provider\/[a-z0-9.-]+(\/[\w.~-]+)*)$/i;
const CANONICAL_USER = /^[0-9a-f]{64}$/;

/** IAM's generic answer for a document it cannot read. */
const SYNTAX = 'Syntax errors in policy.';

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Collector {
  readonly issues: PolicyIssue[] = [];
  /** `iam`: the message IAM's MalformedPolicyDocument carries for this problem. */
  add(path: string, message: string, iam: string = SYNTAX): void {
    this.issues.push({ path, message, iam });
  }
}

/** A string or a non-empty array of strings; reports at `path` and returns the values found. */
function stringList(
  value: Json,
  path: string,
  out: Collector,
): { values: string[]; paths: string[] } | undefined {
  if (typeof value === 'string') return { values: [value], paths: [path] };
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.add(path, 'must not be an empty array');
      return undefined;
    }
    const values: string[] = [];
    const paths: string[] = [];
    value.forEach((v, i) => {
      if (typeof v === 'string') {
        values.push(v);
        paths.push(`${path}[${i}]`);
      } else out.add(`${path}[${i}]`, 'must be a string');
    });
    return { values, paths };
  }
  out.add(path, 'must be a string or an array of strings');
  return undefined;
}

function checkAction(value: string, path: string, out: Collector, substitute: boolean): void {
  if (value === '*') return;
  if (substitute && hasVariables(value)) {
    out.add(
      path,
      `"${value}": policy variables are supported only in the Resource and Condition elements`,
      'Policy variables are supported in the Resource and Condition elements.',
    );
    return;
  }
  const colon = value.indexOf(':');
  if (colon > 0 && WILDCARD.test(value.slice(0, colon))) {
    out.add(
      path,
      `"${value}": the service prefix cannot contain wildcards`,
      'Action vendors (e.g., aws, ec2, etc.) must not contain wildcards',
    );
    return;
  }
  if (!ACTION.test(value)) {
    const colons = value.split(':').length - 1;
    out.add(
      path,
      `"${value}" is not an action of the form service:Action`,
      colons > 1
        ? 'Actions/Condition can contain only one colon.'
        : 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
    );
  }
}

function checkResource(value: string, path: string, out: Collector, substitute: boolean): void {
  if (value === '*') return;
  const notArn = `Resource ${value} must be in ARN format or "*".`;
  const arn = parseArn(value);
  if (!arn) {
    out.add(path, `"${value}" is not an ARN (arn:partition:service:region:account:resource) or *`, notArn);
    return;
  }
  if (WILDCARD.test(arn.service))
    out.add(path, `"${value}": the service segment cannot contain wildcards`, notArn);
  if (substitute) {
    const problem = variableProblem(value);
    if (problem) out.add(path, `"${value}": ${problem}`, problem);
  }
}

const invalidPrincipal = (key: string, value: string) => `Invalid principal in policy: "${key}":"${value}"`;

function checkAwsPrincipal(value: string, path: string, out: Collector): void {
  if (value === '*') return;
  if (WILDCARD.test(value)) {
    out.add(
      path,
      `"${value}": partial wildcards are not allowed in principals`,
      invalidPrincipal('AWS', value),
    );
    return;
  }
  if (accountOf(value) !== undefined) return;
  const arn = parseArn(value);
  const ok =
    arn !== undefined &&
    /^\d{12}$/.test(arn.account) &&
    arn.region === '' &&
    ((arn.service === 'iam' && IAM_PRINCIPAL_RESOURCE.test(arn.resource)) ||
      (arn.service === 'sts' && STS_PRINCIPAL_RESOURCE.test(arn.resource)));
  if (!ok)
    out.add(
      path,
      `"${value}" is not an account ID, an IAM user/role/root ARN, an assumed-role or federated-user session ARN, or *`,
      invalidPrincipal('AWS', value),
    );
}

/** Service, Federated and CanonicalUser values: the documented shapes only, no wildcards. */
function checkOtherPrincipal(
  key: string,
  value: string,
  path: string,
  kind: PolicyKind,
  out: Collector,
): void {
  const bad = (why: string) =>
    out.add(path, `"${value}" is not a valid ${key} principal: ${why}`, invalidPrincipal(key, value));
  if (WILDCARD.test(value)) {
    bad('wildcards are not allowed');
    return;
  }
  if (key === 'Service') {
    if (!SERVICE_PRINCIPAL.test(value)) bad('expected service-name.amazonaws.com');
  } else if (key === 'Federated') {
    if (kind !== 'trust') {
      out.add(
        path,
        `a ${kind} policy cannot name a Federated principal (only role trust policies can)`,
        'The policy type does not support a federated identity provider in the principal element. Use a supported principal.',
      );
      return;
    }
    const arn = parseArn(value);
    const asArn =
      arn !== undefined &&
      arn.service === 'iam' &&
      arn.region === '' &&
      /^\d{12}$/.test(arn.account) &&
      PROVIDER_ARN.test(arn.resource);
    if (!asArn && !PROVIDER_HOST.test(value))
      bad('expected a SAML or OIDC provider ARN or a web identity provider host');
  } else if (key === 'CanonicalUser') {
    if (kind === 'trust') {
      out.add(
        path,
        'a role trust policy cannot name a CanonicalUser (an Amazon S3 principal)',
        invalidPrincipal(key, value),
      );
      return;
    }
    if (!CANONICAL_USER.test(value)) bad('expected 64 hexadecimal characters');
  }
}

function parsePrincipal(
  value: Json,
  path: string,
  kind: PolicyKind,
  out: Collector,
): PrincipalBlock | undefined {
  if (value === '*') {
    // IAM refuses the bare form in a role trust policy; {"AWS": "*"} is the accepted spelling.
    if (kind === 'trust')
      out.add(
        path,
        '"Principal": "*" is not supported in a role trust policy; write {"AWS": "*"}',
        'AssumeRolepolicy contained an invalid principal: "STAR":"*"',
      );
    return { AWS: ['*'] };
  }
  if (!isObject(value)) {
    out.add(path, 'must be "*" or an object with AWS, Service, Federated or CanonicalUser');
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length === 0)
    out.add(
      path,
      'must name at least one principal',
      'Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!',
    );
  const block: PrincipalBlock = {};
  for (const key of keys) {
    if (!(PRINCIPAL_KEYS as readonly string[]).includes(key)) {
      out.add(`${path}.${key}`, `unknown principal type "${key}"`, `Invalid principal in policy: "${key}"`);
      continue;
    }
    const list = stringList(value[key], `${path}.${key}`, out);
    if (!list) continue;
    list.values.forEach((v, i) => {
      const p = list.paths[i]!;
      if (key === 'AWS') checkAwsPrincipal(v, p, out);
      else checkOtherPrincipal(key, v, p, kind, out);
    });
    block[key as (typeof PRINCIPAL_KEYS)[number]] = list.values;
  }
  return block;
}

function parseCondition(
  value: Json,
  path: string,
  substitute: boolean,
  out: Collector,
): ConditionBlock | undefined {
  if (!isObject(value)) {
    out.add(path, 'must be an object of operators');
    return undefined;
  }
  const block: ConditionBlock = {};
  for (const [opName, entries] of Object.entries(value)) {
    const opPath = `${path}.${opName}`;
    const op = parseOperator(opName);
    if (!op) {
      const nullWithQualifier = /^(ForAllValues:|ForAnyValue:)?NullIfExists$/.test(opName);
      out.add(
        opPath,
        nullWithQualifier ? 'Null cannot take IfExists' : `unknown condition operator "${opName}"`,
        nullWithQualifier
          ? 'The Null condition operator cannot be used with the IfExists suffix. Update the operator or the suffix.'
          : SYNTAX,
      );
      continue;
    }
    if (!isObject(entries) || Object.keys(entries).length === 0) {
      out.add(opPath, 'must be a non-empty object of condition keys');
      continue;
    }
    const normalised: Record<string, string[]> = {};
    for (const [key, raw] of Object.entries(entries)) {
      const keyPath = `${opPath}.${key}`;
      if (key.trim() === '') {
        out.add(keyPath, 'condition key must not be empty');
        continue;
      }
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) {
        out.add(keyPath, 'must not be an empty array');
        continue;
      }
      const values: string[] = [];
      list.forEach((v, i) => {
        const vPath = Array.isArray(raw) ? `${keyPath}[${i}]` : keyPath;
        if (
          typeof v === 'string' ||
          typeof v === 'boolean' ||
          (typeof v === 'number' && Number.isFinite(v))
        ) {
          const s = String(v);
          if (substitute && hasVariables(s)) {
            // AWS substitutes variables only for the String, ARN and Bool operators.
            const problem = acceptsVariables(op)
              ? variableProblem(s)
              : 'Policy variables can only be used with String, ARN and Bool operators.';
            if (problem) out.add(vPath, `"${s}": ${problem}`, problem);
          } else {
            const problem = checkConditionValue(op, s);
            if (problem) out.add(vPath, problem);
          }
          values.push(s);
        } else {
          out.add(vPath, 'condition values must be strings, numbers or booleans');
        }
      });
      normalised[key] = values;
    }
    block[opName] = normalised;
  }
  return block;
}

function parseStatement(
  raw: Json,
  index: number,
  path: string,
  kind: PolicyKind,
  substitute: boolean,
  out: Collector,
): Statement | undefined {
  if (!isObject(raw)) {
    out.add(path, 'must be an object');
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key))
      out.add(
        `${path}.${key}`,
        `unknown statement element "${key}"`,
        `Syntax errors in policy. Unknown field ${key}`,
      );
  }
  const stmt: Statement = { index, effect: 'Allow' };

  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== 'string') out.add(`${path}.Sid`, 'must be a string');
    else {
      // IAM (identity, session, trust, SCP) accepts only alphanumeric Sids; resource policies of
      // other services are laxer.
      if (kind !== 'resource' && !SID_IAM.test(raw.Sid))
        out.add(
          `${path}.Sid`,
          'must contain only A-Z, a-z and 0-9',
          'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
        );
      stmt.sid = raw.Sid;
    }
  }

  if (raw.Effect === 'Allow' || raw.Effect === 'Deny') stmt.effect = raw.Effect;
  else if (raw.Effect === undefined)
    out.add(`${path}.Effect`, 'is required (Allow or Deny)', 'Missing required field Effect');
  else out.add(`${path}.Effect`, 'must be "Allow" or "Deny"');

  const hasAction = raw.Action !== undefined;
  const hasNotAction = raw.NotAction !== undefined;
  if (hasAction === hasNotAction)
    out.add(
      path,
      'needs exactly one of Action or NotAction',
      hasAction ? SYNTAX : 'Policy statement must contain actions.',
    );
  for (const key of ['Action', 'NotAction'] as const) {
    if (raw[key] === undefined) continue;
    const list = stringList(raw[key], `${path}.${key}`, out);
    if (!list) continue;
    list.values.forEach((v, i) => {
      checkAction(v, list.paths[i]!, out, substitute);
    });
    if (key === 'Action') stmt.action = list.values;
    else stmt.notAction = list.values;
  }

  const hasResource = raw.Resource !== undefined;
  const hasNotResource = raw.NotResource !== undefined;
  if (kind === 'trust') {
    // "Role trust policies apply to the role that they are attached to. You cannot specify a resource."
    if (hasResource || hasNotResource)
      out.add(
        path,
        'a trust policy cannot have Resource or NotResource',
        `Has prohibited field ${hasResource ? 'Resource' : 'NotResource'}`,
      );
  } else if (hasResource === hasNotResource) {
    out.add(
      path,
      'needs exactly one of Resource or NotResource',
      hasResource ? SYNTAX : 'Policy statement must contain resources.',
    );
  }
  for (const key of ['Resource', 'NotResource'] as const) {
    if (raw[key] === undefined || kind === 'trust') continue;
    const list = stringList(raw[key], `${path}.${key}`, out);
    if (!list) continue;
    list.values.forEach((v, i) => {
      checkResource(v, list.paths[i]!, out, substitute);
    });
    if (key === 'Resource') stmt.resource = list.values;
    else stmt.notResource = list.values;
  }

  const hasPrincipal = raw.Principal !== undefined;
  const hasNotPrincipal = raw.NotPrincipal !== undefined;
  if (kind === 'trust' && hasNotPrincipal) {
    // "You cannot use the NotPrincipal element in an IAM identity-based policy or in an IAM role
    // trust policy" (reference_policies_elements_notprincipal.html).
    out.add(
      `${path}.NotPrincipal`,
      'a role trust policy cannot use NotPrincipal; use Principal',
      'Has prohibited field NotPrincipal',
    );
    if (!hasPrincipal) out.add(path, 'needs a Principal', 'Missing required field Principal');
    else stmt.principal = parsePrincipal(raw.Principal, `${path}.Principal`, kind, out);
  } else if (kind === 'resource' || kind === 'trust') {
    if (hasPrincipal === hasNotPrincipal)
      out.add(
        path,
        'needs exactly one of Principal or NotPrincipal',
        hasPrincipal ? SYNTAX : 'Missing required field Principal',
      );
    if (hasPrincipal) stmt.principal = parsePrincipal(raw.Principal, `${path}.Principal`, kind, out);
    if (hasNotPrincipal)
      stmt.notPrincipal = parsePrincipal(raw.NotPrincipal, `${path}.NotPrincipal`, kind, out);
  } else if (hasPrincipal || hasNotPrincipal) {
    out.add(
      path,
      `a ${kind} policy cannot have Principal or NotPrincipal`,
      'Policy document should not specify a principal.',
    );
  }

  if (raw.Condition !== undefined)
    stmt.condition = parseCondition(raw.Condition, `${path}.Condition`, substitute, out);
  return stmt;
}

function analyse(input: unknown, kind: PolicyKind): { policy?: Omit<Policy, 'name'>; issues: PolicyIssue[] } {
  const out = new Collector();
  let doc: Json = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (err) {
      out.add('', `not valid JSON (${(err as Error).message})`, SYNTAX);
      return { issues: out.issues };
    }
  }
  if (!isObject(doc)) {
    out.add('', 'a policy must be a JSON object');
    return { issues: out.issues };
  }
  for (const key of Object.keys(doc)) {
    if (!TOP_KEYS.has(key))
      out.add(key, `unknown policy element "${key}"`, `Syntax errors in policy. Unknown field ${key}`);
  }
  let version: Policy['version'] = '2008-10-17';
  if (doc.Version !== undefined) {
    if ((VERSIONS as readonly Json[]).includes(doc.Version)) version = doc.Version as Policy['version'];
    else out.add('Version', `must be "2012-10-17" or "2008-10-17"`, 'The policy failed legacy parsing');
  }
  let id: string | undefined;
  if (doc.Id !== undefined) {
    if (typeof doc.Id === 'string') id = doc.Id;
    else out.add('Id', 'must be a string');
  }
  const substitute = version === '2012-10-17';
  const statements: Statement[] = [];
  if (doc.Statement === undefined) out.add('Statement', 'is required', 'Missing required field Statement');
  else if (Array.isArray(doc.Statement)) {
    if (doc.Statement.length === 0) out.add('Statement', 'must contain at least one statement');
    doc.Statement.forEach((s, i) => {
      const stmt = parseStatement(s, i, `Statement[${i}]`, kind, substitute, out);
      if (stmt) statements.push(stmt);
    });
  } else if (isObject(doc.Statement)) {
    const stmt = parseStatement(doc.Statement, 0, 'Statement', kind, substitute, out);
    if (stmt) statements.push(stmt);
  } else {
    out.add('Statement', 'must be an object or an array of objects');
  }
  const seen = new Map<string, number>();
  for (const s of statements) {
    if (s.sid === undefined || s.sid === '') continue;
    const first = seen.get(s.sid);
    if (first !== undefined)
      out.add(
        `Statement[${s.index}].Sid`,
        `duplicate Sid "${s.sid}" (also Statement[${first}])`,
        'Statement IDs (SID) in a single policy must be unique.',
      );
    else seen.set(s.sid, s.index);
  }
  const policy: Omit<Policy, 'name'> = { version, statements };
  if (id !== undefined) policy.id = id;
  return { policy, issues: out.issues };
}

/**
 * Validates a policy document (a JSON string or an already parsed object) as the given kind.
 * Returns every problem found; an empty array means the document is valid.
 *
 * @example validatePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3"}}', 'session')
 * // [{ path: 'Statement.Action', message: '"s3" is not an action of the form service:Action' }, …]
 */
export function validatePolicy(input: unknown, kind: PolicyKind): PolicyIssue[] {
  return analyse(input, kind).issues;
}

/**
 * Validates and normalises a policy document. `name` labels the policy in evaluation results
 * (default: the document's Id, else the kind).
 *
 * @throws PolicyValidationError listing every issue.
 * @example const p = parsePolicy(doc, 'session', 'requested');
 */
export function parsePolicy(input: unknown, kind: PolicyKind, name?: string): Policy {
  const { policy, issues } = analyse(input, kind);
  if (!policy || issues.length > 0) throw new PolicyValidationError(issues);
  return { name: name ?? policy.id ?? kind, ...policy, kind };
}
