/**
 * Condition operators. Each entry `{ operator: { key: values } }` is compiled once per policy and
 * evaluated against a case-insensitive view of the request context.
 *
 * Rules (fact sheet §5): operators and keys are ANDed; the values of one key are ORed, except for
 * negated operators, whose values are ANDed ("matches none of them"). A missing key makes a condition
 * false, except negated operators (true) and `…IfExists` (true). `ForAllValues:` is true when the key
 * is missing or empty; `ForAnyValue:` is false then.
 *
 * Choice (documented in docs/iam-evaluator.md): a single-valued operator applied to a multi-valued
 * key is true when ANY context value matches (negated: when no context value matches any policy
 * value), and an empty array counts as a missing key.
 */
import { type ArnMatcher, compileArnPattern } from './arn';
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
const EPOCH = /^-?\d+(\.\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?$/;

function parseNumber(text: string): number | undefined {
  return NUMBER.test(text.trim()) ? Number(text) : undefined;
}

/** ISO 8601 date/time or epoch seconds → milliseconds since the epoch. */
export function parseDate(text: string): number | undefined {
  const t = text.trim();
  if (EPOCH.test(t)) return Number(t) * 1000;
  if (!ISO_DATE.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A problem with one condition value for its operator, or undefined when the value is fine. */
export function checkConditionValue(op: ParsedOperator, value: string): string | undefined {
  if (hasVariables(value)) return undefined; // only known at request time
  switch (op.spec.kind) {
    case 'numeric':
      return parseNumber(value) === undefined ? `"${value}" is not a number` : undefined;
    case 'date':
      return parseDate(value) === undefined
        ? `"${value}" is not an ISO 8601 date or epoch seconds`
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
      const dynamic = substitute && raw.some(hasVariables);
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
      // A variable without a value: the value matches nothing. For a negated operator that would
      // turn "must differ from X" into "anything goes", so the whole condition fails instead.
      if (!parts) {
        if (op.spec.negated) return false;
        continue;
      }
      prepared.push(prepare(op, parts));
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
