// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
/**
 * Class 6 of issue 12: the documented identities of IAM evaluation, as properties over generated
 * policies (conditions, variables, set operators and IfExists included) and generated requests.
 *
 * - An explicit Deny in any policy wins (reference_policies_evaluation-logic.html, "explicit deny").
 * - A session's effective permissions are identity ∩ session policy
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
 * - Adding a Deny never widens (follows from the first).
 * - A negated operator on an absent key is true; …IfExists on an absent key is true
 *   (reference_policies_elements_condition_operators.html, "Important", #Conditions_IfExists).
 * - ForAllValues over an empty or absent set is true, ForAnyValue false
 *   (reference_policies_multi-value-conditions.html).
 * - Containment is sound: a requested policy reported contained in a ceiling never allows what the
 *   ceiling does not, with the ceiling's Denies sent along as vend sends them (docs/iam-evaluator.md).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Policy, RequestContext } from '../../../lib/iam';
import { authorize, checkContainment, evaluatePolicySet } from '../../../lib/iam';
import { BASE_OPERATORS } from '../../../lib/iam/conditions';
import { policy, prodSession, request } from './helpers';

const actionPattern = fc.constantFrom('s3:GetObject', 's3:Get*', 's3:*', '*', 's3:PutObject', 'ec2:*');
const resourcePattern = fc.constantFrom(
  '*',
  'arn:aws:s3:::b/*',
  'arn:aws:s3:::b/a/*',
  'arn:aws:s3:::c/*',
  'arn:aws:s3:::${aws:username}/*',
);
const KEYS = ['aws:username', 'aws:PrincipalTag/team', 'aws:TagKeys', 's3:prefix'];
const VALUES = [
  'dave',
  'sre',
  'a',
  'b',
  '${aws:username}',
  '${aws:PrincipalTag/team}',
  "${aws:PrincipalTag/team, 'none'}",
  'a*',
];
const OPERATOR = fc.constantFrom(
  'StringEquals',
  'StringNotEquals',
  'StringLike',
  'StringNotLike',
  'StringEqualsIfExists',
  'StringNotEqualsIfExists',
  'ForAnyValue:StringEquals',
  'ForAllValues:StringEquals',
  'ForAnyValue:StringNotLike',
  'ForAllValues:StringNotEquals',
);
const condition = fc.option(
  fc.dictionary(
    OPERATOR,
    fc.dictionary(
      fc.constantFrom(...KEYS),
      fc.array(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 2 }),
      { minKeys: 1, maxKeys: 2 },
    ),
    {
      minKeys: 1,
      maxKeys: 2,
    },
  ),
  { nil: undefined },
);
const statement = (effect: fc.Arbitrary<'Allow' | 'Deny'>) =>
  fc
    .record({
      Effect: effect,
      Action: fc.array(actionPattern, { minLength: 1, maxLength: 2 }),
      Resource: fc.array(resourcePattern, { minLength: 1, maxLength: 2 }),
      Condition: condition,
    })
    .map(({ Condition, ...s }) => (Condition ? { ...s, Condition } : s));
const anyEffect = fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny');
const statements = fc.array(statement(anyEffect), { minLength: 1, maxLength: 3 });
const context: fc.Arbitrary<RequestContext> = fc.record(
  {
    'aws:username': fc.constantFrom('dave', 'a'),
    'aws:PrincipalTag/team': fc.constantFrom('sre', 'a', 'none'),
    'aws:TagKeys': fc.array(fc.constantFrom('a', 'b', 'dave'), { maxLength: 3 }),
    's3:prefix': fc.constantFrom('a', 'ab', 'dave'),
  },
  { requiredKeys: [] },
);
const concrete = fc.record({
  action: fc.constantFrom('s3:GetObject', 's3:PutObject', 'ec2:RunInstances'),
  resource: fc.constantFrom(
    'arn:aws:s3:::b/a/x',
    'arn:aws:s3:::b/z',
    'arn:aws:s3:::c/k',
    'arn:aws:s3:::dave/k',
  ),
  context,
});

const RUNS = { numRuns: 1500 };
const asPolicy = (kind: 'identity' | 'session', sts: unknown[], name: string = kind) =>
  policy(kind, sts, name);
const ask = (c: { action: string; resource: string; context: RequestContext }) =>
  request(c.action, c.resource, { principal: prodSession, context: c.context });
const decide = (ps: Policy[], c: { action: string; resource: string; context: RequestContext }) =>
  evaluatePolicySet(ps, ask(c)).decision;

describe('properties of the evaluation order', () => {
  it('an explicit Deny that applies in any layer decides ExplicitDeny', () => {
    fc.assert(
      fc.property(statements, statements, concrete, (identity, session, c) => {
        const I = asPolicy('identity', identity);
        const S = asPolicy('session', session);
        const anyDeny = decide([I], c) === 'ExplicitDeny' || decide([S], c) === 'ExplicitDeny';
        const result = authorize({ identityPolicies: [I], sessionPolicies: [S] }, ask(c)).decision;
        expect(result === 'ExplicitDeny').toBe(anyDeny);
      }),
      RUNS,
    );
  });

  it('the effective session is identity ∩ session policy', () => {
    fc.assert(
      fc.property(statements, statements, concrete, (identity, session, c) => {
        const I = asPolicy('identity', identity);
        const S = asPolicy('session', session);
        const both = decide([I], c) === 'Allow' && decide([S], c) === 'Allow';
        expect(authorize({ identityPolicies: [I], sessionPolicies: [S] }, ask(c)).decision === 'Allow').toBe(
          both,
        );
      }),
      RUNS,
    );
  });

  it('adding a Deny never widens', () => {
    fc.assert(
      fc.property(
        statements,
        statements,
        statement(fc.constant('Deny' as const)),
        concrete,
        (identity, session, deny, c) => {
          const before = authorize(
            {
              identityPolicies: [asPolicy('identity', identity)],
              sessionPolicies: [asPolicy('session', session)],
            },
            ask(c),
          ).decision;
          const after = authorize(
            {
              identityPolicies: [asPolicy('identity', [...identity, deny])],
              sessionPolicies: [asPolicy('session', session)],
            },
            ask(c),
          ).decision;
          if (after === 'Allow') expect(before).toBe('Allow');
        },
      ),
      RUNS,
    );
  });
});

describe('properties of the operators on absent keys and empty sets', () => {
  const names = Object.keys(BASE_OPERATORS).filter((n) => n !== 'Null');
  const sample: Record<string, string> = {
    numeric: '1',
    date: '2026',
    ip: '10.0.0.0/8',
    bool: 'true',
    binary: 'QmluYXJ5',
    arn: 'arn:aws:s3:::b',
  };
  const valueFor = (op: string) => sample[BASE_OPERATORS[op]!.kind] ?? 'a';
  const holds = (op: string, ctx: RequestContext) =>
    decide(
      [
        asPolicy('identity', [
          {
            Effect: 'Allow',
            Action: '*',
            Resource: '*',
            Condition: { [op]: { k: valueFor(op.replace(/^For\w+:|IfExists$/g, '')) } },
          },
        ]),
      ],
      {
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        context: ctx,
      },
    ) === 'Allow';
  const absentOrEmpty = fc.constantFrom<RequestContext>({}, { k: [] }, { other: 'x' });

  it('a negated operator on an absent key is true; a positive one false; with IfExists, true', () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), absentOrEmpty, (op, ctx) => {
        expect(holds(op, ctx)).toBe(BASE_OPERATORS[op]!.negated);
        expect(holds(`${op}IfExists`, ctx)).toBe(true);
      }),
    );
  });

  it('ForAllValues over an empty or absent set is true, ForAnyValue false', () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), absentOrEmpty, (op, ctx) => {
        expect(holds(`ForAllValues:${op}`, ctx)).toBe(true);
        expect(holds(`ForAnyValue:${op}`, ctx)).toBe(false);
      }),
    );
  });
});

describe('property of containment', () => {
  const allows = fc.array(statement(fc.constant('Allow' as const)), { minLength: 1, maxLength: 3 });

  it('a policy reported contained never allows what the ceiling does not (ceiling Denies sent along)', () => {
    let contained = 0;
    fc.assert(
      fc.property(allows, statements, concrete, (req, ceil, c) => {
        const requested = asPolicy('session', req, 'requested');
        const ceiling = asPolicy('session', ceil, 'ceiling');
        if (!checkContainment(requested, ceiling).ok) return;
        contained++;
        const denies = ceiling.statements.filter((s) => s.effect === 'Deny');
        const sent: Policy = {
          ...requested,
          statements: [...requested.statements, ...denies.map((d, i) => ({ ...d, index: 100 + i }))],
        };
        if (decide([sent], c) === 'Allow') expect(decide([ceiling], c)).toBe('Allow');
      }),
      { numRuns: 4000 },
    );
    expect(contained).toBeGreaterThan(50);
  });
});
