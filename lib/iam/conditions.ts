/**
 * Condition operators. Each entry `{ operator: { key: values } }` is compiled once per policy and
 * evaluated against a case-insensitive view of the request context. The behaviour of every operator
 * for an absent key, a policy variable without a value, several values and the `IfExists` /
 * `ForAllValues:` / `ForAnyValue:` forms is tabled, with the AWS page for each row, in
 * docs/iam-evaluator.md ("Condition operators").
 *
 * Rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
 * operators and keys are ANDed; the values of one key are ORed, except for negated operators, whose
 * values are ANDed ("matches none of them"). An absent key makes a condition false, except negated
 * operators (true) and `…IfExists` (true); `Null` tests presence itself. `ForAllValues:` is true
 * when the key is absent or empty; `ForAnyValue:` is false then
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html).
 *
 * A policy variable without a value is "effectively null": no value equals or is like it, so a
 * positive operator does not match it and a negated operator does
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value).
 * Variables are substituted only for the string, ARN and Bool families; the parser refuses them
 * elsewhere, as AWS does not substitute them there.
 *
 * Choice (documented in docs/iam-evaluator.md): a single-valued operator applied to a multi-valued
 * key is true when ANY context value matches (negated: when no context value matches any policy
 * value), and an empty array counts as an absent key.
 */
import { type ArnMatcher, compileArnPattern } from './arn';
import { parseDate } from './dates';
import { type Cidr, cidrContains, parseCidr } from './ip';
import { type ContextLookup, expandVariables, hasVariables } from './variables';
import { compileGlob, type Glob, type PatternPart, parseGlob, partsToString } from './wildcard';

type Kind =
  | 'string'
  | 'stringIgnoreCase'
  | 'stringLike'
  | 'numeric'
  | 'date'
  | 'bool'
  | 'binary'
  | 'ip'
  | 'arn'
  | 'null';
type Cmp = 'eq' | 'lt' | 'lte' | 'gt' | 'gte';

interface OperatorSpec {
  kind: Kind;
  negated: boolean;
  cmp: Cmp;
}

const spec = (kind: Kind, negated = false, cmp: Cmp = 'eq'): OperatorSpec => ({ kind, negated, cmp });

/** The base operators (without `ForAllValues:` / `ForAnyValue:` and `IfExists`). */
export const BASE_OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: spec('string'),
  StringNotEquals: spec('string', true),
  StringEqualsIgnoreCase: spec('stringIgnoreCase'),
  StringNotEqualsIgnoreCase: spec('stringIgnoreCase', true),
  StringLike: spec('stringLike'),
  StringNotLike: spec('stringLike', true),
  NumericEquals: spec('numeric'),
  NumericNotEquals: spec('numeric', true),
  NumericLessThan: spec('numeric', false, 'lt'),
  NumericLessThanEquals: spec('numeric', false, 'lte'),
  NumericGreaterThan: spec('numeric', false, 'gt'),
  NumericGreaterThanEquals: spec('numeric', false, 'gte'),
  DateEquals: spec('date'),
  DateNotEquals: spec('date', true),
  DateLessThan: spec('date', false, 'lt'),
  DateLessThanEquals: spec('date', false, 'lte'),
  DateGreaterThan: spec('date', false, 'gt'),
  DateGreaterThanEquals: spec('date', false, 'gte'),
  Bool: spec('bool'),
  BinaryEquals: spec('binary'),
  IpAddress: spec('ip'),
  NotIpAddress: spec('ip', true),
  ArnEquals: spec('arn'),
  ArnLike: spec('arn'),
  ArnNotEquals: spec('arn', true),
  ArnNotLike: spec('arn', true),
  Null: spec('null'),
};

/** An operator name split into its parts. */
export interface ParsedOperator {
  name: string;
  base: string;
  spec: OperatorSpec;
  set?: 'all' | 'any';
  ifExists: boolean;
}

/** Parses `ForAnyValue:StringLikeIfExists` and the like; undefined for unknown operators. */
export function parseOperator(name: string): ParsedOperator | undefined {
  let rest = name;
  let set: 'all' | 'any' | undefined;
  if (rest.startsWith('ForAllValues:')) {
    set = 'all';
    rest = rest.slice('ForAllValues:'.length);
  } else if (rest.startsWith('ForAnyValue:')) {
    set = 'any';
    rest = rest.slice('ForAnyValue:'.length);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const s = Object.hasOwn(BASE_OPERATORS, rest) ? BASE_OPERATORS[rest] : undefined;
  if (!s) return undefined;
  // Null tests presence itself: IfExists or a set prefix would make it meaningless.
  if (s.kind === 'null' && (ifExists || set)) return undefined;
  return { name, base: rest, spec: s, set, ifExists };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(text: string): number | undefined {
  return NUMBER.test(text.trim()) ? Number(text) : undefined;
}

export { parseDate };

/**
 * True when AWS substitutes policy variables in this operator's values: the String, ARN and Boolean
 * operators. "You can not use a policy variable with the Numeric / Date / Binary / IpAddress / Null
 * condition operator" (reference_policies_elements_condition_operators.html, each section).
 */
export function acceptsVariables(op: ParsedOperator): boolean {
  const k = op.spec.kind;
  return k === 'string' || k === 'stringIgnoreCase' || k === 'stringLike' || k === 'arn' || k === 'bool';
}

/**
 * A problem with one literal condition value (values holding policy variables are checked by the
 * parser, see `acceptsVariables`) for its operator, or undefined when the value is fine. */
export function checkConditionValue(op: ParsedOperator, value: string): string | undefined {
  switch (op.spec.kind) {
    case 'numeric':
      return parseNumber(value) === undefined ? `"${value}" is not a number` : undefined;
    case 'date':
      return parseDate(value) === undefined
        ? `"${value}" is not a W3C ISO 8601 date (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.s]]TZD) or epoch seconds`
        : undefined;
    case 'ip':
      return parseCidr(value) === undefined ? `"${value}" is not an IPv4 or IPv6 address or CIDR` : undefined;
    case 'bool':
    case 'null': {
      const v = value.toLowerCase();
      return v === 'true' || v === 'false' ? undefined : `"${value}" is not true or false`;
    }
    default:
      return undefined;
  }
}

/** A policy value prepared for its operator. */
type Prepared =
  | { kind: 'text'; text: string }
  | { kind: 'glob'; glob: Glob }
  | { kind: 'arn'; matcher: ArnMatcher }
  | { kind: 'number'; n: number }
  | { kind: 'cidr'; cidr: Cidr }
  | { kind: 'invalid' };

function prepare(op: ParsedOperator, parts: PatternPart[]): Prepared {
  const kind = op.spec.kind;
  if (kind === 'stringLike') return { kind: 'glob', glob: compileGlob(parts) };
  if (kind === 'arn') return { kind: 'arn', matcher: compileArnPattern(parts) };
  const text = partsToString(parts);
  switch (kind) {
    case 'numeric': {
      const n = parseNumber(text);
      return n === undefined ? { kind: 'invalid' } : { kind: 'number', n };
    }
    case 'date': {
      const n = parseDate(text);
      return n === undefined ? { kind: 'invalid' } : { kind: 'number', n };
    }
    case 'ip': {
      const cidr = parseCidr(text);
      return cidr ? { kind: 'cidr', cidr } : { kind: 'invalid' };
    }
    case 'stringIgnoreCase':
    case 'bool':
      return { kind: 'text', text: text.toLowerCase() };
    default:
      return { kind: 'text', text };
  }
}

function compare(a: number, b: number, cmp: Cmp): boolean {
  switch (cmp) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
  }
}

/** The positive test: does context value `v` match policy value `p` (before negation)? */
function positive(op: ParsedOperator, p: Prepared, v: string): boolean {
  switch (p.kind) {
    case 'glob':
      return p.glob.test(v);
    case 'arn':
      return p.matcher.test(v);
    case 'number': {
      const n = op.spec.kind === 'date' ? parseDate(v) : parseNumber(v);
      return n !== undefined && compare(n, p.n, op.spec.cmp);
    }
    case 'cidr': {
      const ip = parseCidr(v);
      return ip !== undefined && cidrContains(p.cidr, ip);
    }
    case 'text':
      return op.spec.kind === 'stringIgnoreCase' || op.spec.kind === 'bool'
        ? v.toLowerCase() === p.text
        : v === p.text;
    case 'invalid':
      return false;
  }
}

/** One compiled `operator → key → values` entry. */
export interface CompiledCondition {
  op: ParsedOperator;
  /** Lower-cased context key. */
  key: string;
  raw: string[];
  /** Values prepared at compile time; undefined when some value holds a policy variable. */
  prepared?: Prepared[];
}

/** Compiles a normalised condition block (operators already validated by the parser). */
export function compileConditions(
  block: Record<string, Record<string, string[]>> | undefined,
  substitute: boolean,
): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  for (const [name, entries] of Object.entries(block ?? {})) {
    const op = parseOperator(name);
    for (const [key, raw] of Object.entries(entries)) {
      // An unknown operator (only possible with hand-built Policy objects) never matches.
      if (!op) {
        out.push({
          op: { name, base: name, spec: spec('string'), ifExists: false },
          key,
          raw: [],
          prepared: [],
        });
        continue;
      }
      const dynamic = substitute && acceptsVariables(op) && raw.some(hasVariables);
      out.push({
        op,
        key: key.toLowerCase(),
        raw,
        prepared: dynamic ? undefined : raw.map((r) => prepare(op, literalParts(op, r))),
      });
    }
  }
  return out;
}

/** Parts of a value written without variables: wildcards only count for Like and Arn operators. */
function literalParts(op: ParsedOperator, raw: string): PatternPart[] {
  return op.spec.kind === 'stringLike' || op.spec.kind === 'arn' ? parseGlob(raw) : [raw];
}

/** Evaluates one compiled entry against the context. */
export function evaluateCondition(c: CompiledCondition, lookup: ContextLookup): boolean {
  const { op } = c;
  const values = lookup(c.key);
  const present = values !== undefined && values.length > 0;
  if (op.spec.kind === 'null') {
    // `Null: true` asks "is the key absent?"; several values are ORed like any other operator.
    return c.raw.some((r) => (r.toLowerCase() === 'true') === !present);
  }
  let prepared = c.prepared;
  if (!prepared) {
    prepared = [];
    for (const r of c.raw) {
      const parts = expandVariables(r, lookup, op.spec.kind === 'stringLike' || op.spec.kind === 'arn');
      // A variable without a value makes this policy value "effectively null": nothing equals or is
      // like it. Dropping it does exactly that for both polarities: a positive operator cannot match
      // it, and a negated operator ("differs from every value") is not held back by it, so a Deny
      // with StringNotEquals "${aws:username}" applies to a role session (reference_policies_variables
      // .html#policy-vars-no-value). Regression: issue 12, the fail-open Deny.
      if (parts) prepared.push(prepare(op, parts));
    }
  }
  const p = prepared;
  const single = (v: string) => {
    const hit = p.some((pv) => positive(op, pv, v));
    return op.spec.negated ? !hit : hit;
  };
  if (!present) {
    if (op.ifExists) return true;
    if (op.set === 'all') return true;
    if (op.set === 'any') return false;
    return op.spec.negated;
  }
  if (op.set === 'all') return values.every(single);
  if (op.set === 'any') return values.some(single);
  // Negated: no context value may match any policy value; positive: any context value may match.
  return op.spec.negated ? values.every(single) : values.some(single);
}
