// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
/**
 * Class 5 of issue 12: the operator table of docs/iam-evaluator.md ("Condition operators") is read
 * here and every cell is checked against the evaluator, so the documentation cannot drift from the
 * code. Each row cites its AWS page in the table itself.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../lib/iam';
import { evaluatePolicySet, validatePolicy } from '../../../lib/iam';
import { BASE_OPERATORS } from '../../../lib/iam/conditions';
import { policy, request } from './helpers';

const DOC = fileURLToPath(new URL('../../../docs/iam-evaluator.md', import.meta.url));
const rows = readFileSync(DOC, 'utf8')
  .split('\n')
  .filter((l) => /^\| `[A-Za-z]+` \|/.test(l))
  .map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
  )
  .filter((cells) => cells.length === 8)
  .map(([op, absent, variable, several, ifExists, anyValue, allValues, page]) => ({
    op: op!.replace(/`/g, ''),
    absent: absent!,
    variable: variable!,
    several: several!,
    ifExists: ifExists!,
    anyValue: anyValue!,
    allValues: allValues!,
    page: page!,
  }));

/** A value of the operator's family that matches `match` and one that does not. */
const SAMPLES: Record<string, { match: string; other: string; policy: string }> = {
  string: { match: 'a', other: 'b', policy: 'a' },
  stringIgnoreCase: { match: 'A', other: 'b', policy: 'a' },
  stringLike: { match: 'ab', other: 'b', policy: 'a*' },
  numeric: { match: '5', other: '50', policy: '5' },
  date: { match: '2026-01-01T00:00:00Z', other: '2027-06-01T00:00:00Z', policy: '2026' },
  bool: { match: 'true', other: 'false', policy: 'true' },
  binary: { match: 'QmluYXJ5', other: 'eA==', policy: 'QmluYXJ5' },
  ip: { match: '10.1.2.3', other: '192.0.2.1', policy: '10.0.0.0/8' },
  arn: { match: 'arn:aws:s3:::b', other: 'arn:aws:s3:::c', policy: 'arn:aws:s3:::b' },
};
const sampleFor = (op: string) => {
  const { kind, cmp } = BASE_OPERATORS[op]!;
  const s = SAMPLES[kind]!;
  // For the "greater" comparisons the non-matching value must lie below the policy value.
  if (kind === 'numeric' && (cmp === 'gt' || cmp === 'gte')) return { ...s, other: '1' };
  if (kind === 'date' && (cmp === 'gt' || cmp === 'gte')) return { ...s, other: '2024-01-01T00:00:00Z' };
  return s;
};
/** A positive operator's matching value must also match for the comparison forms: use `eq`-safe values. */
const policyValueFor = (op: string) => {
  const s = sampleFor(op);
  const cmp = BASE_OPERATORS[op]!.cmp;
  if (BASE_OPERATORS[op]!.kind === 'numeric') return cmp === 'lt' ? '6' : cmp === 'gt' ? '4' : '5';
  if (BASE_OPERATORS[op]!.kind === 'date')
    return cmp === 'lt'
      ? '2026-06'
      : cmp === 'gt'
        ? '2025'
        : cmp === 'lte' || cmp === 'gte'
          ? '2026'
          : '2026';
  return s.policy;
};

function holds(condition: Record<string, unknown>, context: RequestContext): boolean {
  const p = policy('identity', [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: condition },
  ]);
  return (
    evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::b/k', { context })).decision === 'Allow'
  );
}
const cell = (b: boolean) => String(b);
const refused = (condition: Record<string, unknown>) =>
  validatePolicy(
    {
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: condition },
    },
    'identity',
  ).length > 0;

describe('docs/iam-evaluator.md operator table', () => {
  it('has one row per operator, each citing the AWS condition operators page', () => {
    expect(rows.map((r) => r.op).sort()).toEqual(Object.keys(BASE_OPERATORS).sort());
    for (const r of rows)
      expect(r.page).toMatch(/reference_policies_elements_condition_operators\.html#Conditions_/);
  });

  it.each(rows.filter((r) => r.op !== 'Null').map((r) => [r.op, r] as const))(
    '%s: every cell is what the evaluator does',
    (op, r) => {
      const v = policyValueFor(op);
      expect(cell(holds({ [op]: { k: v } }, {})), 'absent key').toBe(r.absent);
      if (r.variable === 'refused')
        expect(refused({ [op]: { k: '${aws:username}' } }), 'variable').toBe(true);
      else
        expect(cell(holds({ [op]: { k: '${aws:username}' } }, { k: sampleFor(op).match })), 'variable').toBe(
          r.variable,
        );
      expect(cell(holds({ [`${op}IfExists`]: { k: v } }, {})), 'IfExists').toBe(r.ifExists);
      expect(cell(holds({ [`ForAnyValue:${op}`]: { k: v } }, { k: [] })), 'ForAnyValue').toBe(r.anyValue);
      expect(cell(holds({ [`ForAllValues:${op}`]: { k: v } }, {})), 'ForAllValues').toBe(r.allValues);
      // Several context values: one matching, one not.
      const { match, other } = sampleFor(op);
      const mixed = holds({ [op]: { k: v } }, { k: [match, other] });
      const none = holds({ [op]: { k: v } }, { k: [other, other] });
      if (r.several === 'true when any value matches') expect([mixed, none]).toEqual([true, false]);
      else if (r.several === 'true when no value matches any policy value')
        expect([mixed, none]).toEqual([false, true]);
      else throw new Error(`unknown cell ${r.several}`);
    },
  );

  it('Null: its row', () => {
    const r = rows.find((x) => x.op === 'Null')!;
    expect(r.absent).toBe('`true` holds, `false` does not');
    expect([holds({ Null: { k: 'true' } }, {}), holds({ Null: { k: 'false' } }, {})]).toEqual([true, false]);
    expect([r.variable, r.ifExists, r.anyValue, r.allValues]).toEqual([
      'refused',
      'refused',
      'refused',
      'refused',
    ]);
    expect(refused({ Null: { k: '${aws:username}' } })).toBe(true);
    expect(refused({ NullIfExists: { k: 'true' } })).toBe(true);
    expect(refused({ 'ForAnyValue:Null': { k: 'true' } })).toBe(true);
    expect(refused({ 'ForAllValues:Null': { k: 'true' } })).toBe(true);
  });
});
