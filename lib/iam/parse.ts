/**
 * Validation and normalisation of policy documents. Validation is strict on purpose: anything this
 * evaluator would not understand is refused rather than ignored, since an ignored element could
 * silently widen a permission (see docs/iam-evaluator.md, "What is refused").
 */
import { parseArn } from './arn';
import { checkConditionValue, parseOperator } from './conditions';
import { PolicyValidationError } from './errors';
import { accountOf } from './principal';
import type { ConditionBlock, Policy, PolicyIssue, PolicyKind, PrincipalBlock, Statement } from './types';

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
const IAM_PRINCIPAL_RESOURCE = /^(root|user\/.+|role\/.+|federated-user\/.+)$/;
const STS_PRINCIPAL_RESOURCE = /^assumed-role\/[^/]+\/[^/]+$/;

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Collector {
  readonly issues: PolicyIssue[] = [];
  add(path: string, message: string): void {
    this.issues.push({ path, message });
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

function checkAction(value: string, path: string, out: Collector): void {
  if (value === '*') return;
  if (!ACTION.test(value)) {
    out.add(path, `"${value}" is not an action of the form service:Action`);
    return;
  }
  const service = value.slice(0, value.indexOf(':'));
  if (WILDCARD.test(service)) out.add(path, `"${value}": the service prefix cannot contain wildcards`);
}

function checkResource(value: string, path: string, out: Collector): void {
  if (value === '*') return;
  const arn = parseArn(value);
  if (!arn) {
    out.add(path, `"${value}" is not an ARN (arn:partition:service:region:account:resource) or *`);
    return;
  }
  if (WILDCARD.test(arn.service)) out.add(path, `"${value}": the service segment cannot contain wildcards`);
}

function checkAwsPrincipal(value: string, path: string, out: Collector): void {
  if (value === '*') return;
  if (WILDCARD.test(value)) {
    out.add(path, `"${value}": partial wildcards are not allowed in principals`);
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
  if (!ok) out.add(path, `"${value}" is not an account ID, an IAM user/role/root ARN, a session ARN or *`);
}

function parsePrincipal(value: Json, path: string, out: Collector): PrincipalBlock | undefined {
  if (value === '*') return { AWS: ['*'] };
  if (!isObject(value)) {
    out.add(path, 'must be "*" or an object with AWS, Service, Federated or CanonicalUser');
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) out.add(path, 'must name at least one principal');
  const block: PrincipalBlock = {};
  for (const key of keys) {
    if (!(PRINCIPAL_KEYS as readonly string[]).includes(key)) {
      out.add(`${path}.${key}`, `unknown principal type "${key}"`);
      continue;
    }
    const list = stringList(value[key], `${path}.${key}`, out);
    if (!list) continue;
    list.values.forEach((v, i) => {
      const p = list.paths[i]!;
      if (key === 'AWS') checkAwsPrincipal(v, p, out);
      else if (v === '' || WILDCARD.test(v) || /\s/.test(v))
        out.add(p, `"${v}" is not a valid ${key} principal`);
    });
    block[key as (typeof PRINCIPAL_KEYS)[number]] = list.values;
  }
  return block;
}

function parseCondition(value: Json, path: string, out: Collector): ConditionBlock | undefined {
  if (!isObject(value)) {
    out.add(path, 'must be an object of operators');
    return undefined;
  }
  const block: ConditionBlock = {};
  for (const [opName, entries] of Object.entries(value)) {
    const opPath = `${path}.${opName}`;
    const op = parseOperator(opName);
    if (!op) {
      out.add(opPath, `unknown condition operator "${opName}"`);
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
          const problem = checkConditionValue(op, s);
          if (problem) out.add(vPath, problem);
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
  out: Collector,
): Statement | undefined {
  if (!isObject(raw)) {
    out.add(path, 'must be an object');
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) out.add(`${path}.${key}`, `unknown statement element "${key}"`);
  }
  const stmt: Statement = { index, effect: 'Allow' };

  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== 'string') out.add(`${path}.Sid`, 'must be a string');
    else {
      // IAM (identity, session, trust, SCP) accepts only alphanumeric Sids; resource policies of
      // other services are laxer.
      if (kind !== 'resource' && !SID_IAM.test(raw.Sid))
        out.add(`${path}.Sid`, 'must contain only A-Z, a-z and 0-9');
      stmt.sid = raw.Sid;
    }
  }

  if (raw.Effect === 'Allow' || raw.Effect === 'Deny') stmt.effect = raw.Effect;
  else if (raw.Effect === undefined) out.add(`${path}.Effect`, 'is required (Allow or Deny)');
  else out.add(`${path}.Effect`, 'must be "Allow" or "Deny"');

  const hasAction = raw.Action !== undefined;
  const hasNotAction = raw.NotAction !== undefined;
  if (hasAction === hasNotAction) out.add(path, 'needs exactly one of Action or NotAction');
  for (const key of ['Action', 'NotAction'] as const) {
    if (raw[key] === undefined) continue;
    const list = stringList(raw[key], `${path}.${key}`, out);
    if (!list) continue;
    list.values.forEach((v, i) => {
      checkAction(v, list.paths[i]!, out);
    });
    if (key === 'Action') stmt.action = list.values;
    else stmt.notAction = list.values;
  }

  const hasResource = raw.Resource !== undefined;
  const hasNotResource = raw.NotResource !== undefined;
  if (kind === 'trust') {
    if (hasResource || hasNotResource) out.add(path, 'a trust policy cannot have Resource or NotResource');
  } else if (hasResource === hasNotResource) {
    out.add(path, 'needs exactly one of Resource or NotResource');
  }
  for (const key of ['Resource', 'NotResource'] as const) {
    if (raw[key] === undefined || kind === 'trust') continue;
    const list = stringList(raw[key], `${path}.${key}`, out);
    if (!list) continue;
    list.values.forEach((v, i) => {
      checkResource(v, list.paths[i]!, out);
    });
    if (key === 'Resource') stmt.resource = list.values;
    else stmt.notResource = list.values;
  }

  const hasPrincipal = raw.Principal !== undefined;
  const hasNotPrincipal = raw.NotPrincipal !== undefined;
  if (kind === 'resource' || kind === 'trust') {
    if (hasPrincipal === hasNotPrincipal) out.add(path, 'needs exactly one of Principal or NotPrincipal');
    if (hasPrincipal) stmt.principal = parsePrincipal(raw.Principal, `${path}.Principal`, out);
    if (hasNotPrincipal) stmt.notPrincipal = parsePrincipal(raw.NotPrincipal, `${path}.NotPrincipal`, out);
  } else if (hasPrincipal || hasNotPrincipal) {
    out.add(path, `a ${kind} policy cannot have Principal or NotPrincipal`);
  }

  if (raw.Condition !== undefined) stmt.condition = parseCondition(raw.Condition, `${path}.Condition`, out);
  return stmt;
}

function analyse(input: unknown, kind: PolicyKind): { policy?: Omit<Policy, 'name'>; issues: PolicyIssue[] } {
  const out = new Collector();
  let doc: Json = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (err) {
      out.add('', `not valid JSON (${(err as Error).message})`);
      return { issues: out.issues };
    }
  }
  if (!isObject(doc)) {
    out.add('', 'a policy must be a JSON object');
    return { issues: out.issues };
  }
  for (const key of Object.keys(doc)) {
    if (!TOP_KEYS.has(key)) out.add(key, `unknown policy element "${key}"`);
  }
  let version: Policy['version'] = '2008-10-17';
  if (doc.Version !== undefined) {
    if ((VERSIONS as readonly Json[]).includes(doc.Version)) version = doc.Version as Policy['version'];
    else out.add('Version', `must be "2012-10-17" or "2008-10-17"`);
  }
  let id: string | undefined;
  if (doc.Id !== undefined) {
    if (typeof doc.Id === 'string') id = doc.Id;
    else out.add('Id', 'must be a string');
  }
  const statements: Statement[] = [];
  if (doc.Statement === undefined) out.add('Statement', 'is required');
  else if (Array.isArray(doc.Statement)) {
    if (doc.Statement.length === 0) out.add('Statement', 'must contain at least one statement');
    doc.Statement.forEach((s, i) => {
      const stmt = parseStatement(s, i, `Statement[${i}]`, kind, out);
      if (stmt) statements.push(stmt);
    });
  } else if (isObject(doc.Statement)) {
    const stmt = parseStatement(doc.Statement, 0, 'Statement', kind, out);
    if (stmt) statements.push(stmt);
  } else {
    out.add('Statement', 'must be an object or an array of objects');
  }
  const seen = new Map<string, number>();
  for (const s of statements) {
    if (s.sid === undefined || s.sid === '') continue;
    const first = seen.get(s.sid);
    if (first !== undefined)
      out.add(`Statement[${s.index}].Sid`, `duplicate Sid "${s.sid}" (also Statement[${first}])`);
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
