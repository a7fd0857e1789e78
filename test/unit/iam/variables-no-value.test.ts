// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
/**
 * Class 1 of issue 12: policy variables with no value, and absent keys, under every operator family.
 *
 * AWS (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value):
 * "When policy variables reference a condition context key that has no value or is not present in an
 * authorization context for a request, the value is effectively null. There is no equal or like
 * value. […] operators like StringEquals or StringLike do not match, and the policy statement does
 * not take effect. Inverted condition operators like StringNotEquals or StringNotLike do match
 * against a null value". Variables are substituted for the String, ARN and Boolean operators only
 * (reference_policies_elements_condition_operators.html, "You can (not) use a policy variable with
 * the … condition operator" in each section), so the other families refuse them at parse time.
 *
 * Absent keys (reference_policies_elements_condition_operators.html, "Important", #Conditions_IfExists,
 * #Conditions_Null; reference_policies_multi-value-conditions.html): false, except negated operators
 * (true) and …IfExists (true); Null true ⇔ absent; ForAllValues true and ForAnyValue false on an
 * absent or empty key.
 */
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../lib/iam';
import { authorize, evaluatePolicySet, validatePolicy } from '../../../lib/iam';
import { policy, prodSession, request } from './helpers';

/** Does an Allow with this Condition apply? */
function holds(condition: Record<string, unknown>, context: RequestContext): boolean {
  const p = policy('identity', [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: condition },
  ]);
  return (
    evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::b/k', { context })).decision === 'Allow'
  );
}

describe('regression: a Deny conditioned on a variable without a value does not fail open', () => {
  // The case: a role session has no aws:username, so "owner tag ≠ ${aws:username}" must
  // hold and the Deny must apply, whether or not the tag is present.
  const identity = policy('identity', [
    { Effect: 'Allow', Action: 's3:*', Resource: '*' },
    {
      Effect: 'Deny',
      Action: 's3:DeleteObject',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:PrincipalTag/owner': '${aws:username}' } },
    },
  ]);
  const decide = (context: RequestContext) =>
    authorize(
      { identityPolicies: [identity] },
      request('s3:DeleteObject', 'arn:aws:s3:::b/k', { principal: prodSession, context }),
    ).decision;

  it('denies a role session that carries the owner tag (no aws:username to equal it)', () => {
    expect(decide({ 'aws:PrincipalTag/owner': 'build-42' })).toBe('ExplicitDeny');
  });

  it('denies a role session without the tag (absent key under a negated operator)', () => {
    expect(decide({})).toBe('ExplicitDeny');
  });

  it('spares the IAM user whose tag equals its name, and only that one', () => {
    expect(decide({ 'aws:username': 'dave', 'aws:PrincipalTag/owner': 'dave' })).toBe('Allow');
    expect(decide({ 'aws:username': 'dave', 'aws:PrincipalTag/owner': 'erin' })).toBe('ExplicitDeny');
  });
});

describe('a variable without a value, per operator family (key present)', () => {
  const ctx = { k: 'x', arn: 'arn:aws:s3:::b', flag: 'true' };
  it.each([
    // [operator, key, positive?]
    ['StringEquals', 'k', false],
    ['StringEqualsIgnoreCase', 'k', false],
    ['StringLike', 'k', false],
    ['StringNotEquals', 'k', true],
    ['StringNotEqualsIgnoreCase', 'k', true],
    ['StringNotLike', 'k', true],
    ['ArnEquals', 'arn', false],
    ['ArnLike', 'arn', false],
    ['ArnNotEquals', 'arn', true],
    ['ArnNotLike', 'arn', true],
    ['Bool', 'flag', false],
  ] as const)(
    '%s is %s (positive operators never match null, negated ones always do)',
    (op, key, expected) => {
      expect(holds({ [op]: { [key]: '${aws:username}' } }, ctx)).toBe(expected);
    },
  );

  it('a null value among others: positive operators try the others, negated ones ignore it', () => {
    expect(holds({ StringEquals: { k: ['${aws:username}', 'x'] } }, { k: 'x' })).toBe(true);
    expect(holds({ StringNotEquals: { k: ['${aws:username}', 'x'] } }, { k: 'x' })).toBe(false);
    expect(holds({ StringNotEquals: { k: ['${aws:username}', 'y'] } }, { k: 'x' })).toBe(true);
  });

  it('a variable inside a longer value makes the whole value null', () => {
    expect(holds({ StringLike: { k: 'home/${aws:username}/*' } }, { k: 'home//x' })).toBe(false);
    expect(holds({ StringNotLike: { k: 'home/${aws:username}/*' } }, { k: 'home//x' })).toBe(true);
  });

  it("the default of ${key, 'default'} is a value, not null", () => {
    expect(holds({ StringNotEquals: { k: "${aws:username, 'x'}" } }, { k: 'x' })).toBe(false);
  });

  it('…IfExists with the key present behaves as the base operator', () => {
    expect(holds({ StringEqualsIfExists: { k: '${aws:username}' } }, { k: 'x' })).toBe(false);
    expect(holds({ StringNotEqualsIfExists: { k: '${aws:username}' } }, { k: 'x' })).toBe(true);
  });

  it('set operators apply the null rule per context value', () => {
    const tags = { 'aws:TagKeys': ['a', 'b'] };
    expect(holds({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': '${aws:username}' } }, tags)).toBe(false);
    expect(holds({ 'ForAllValues:StringEquals': { 'aws:TagKeys': '${aws:username}' } }, tags)).toBe(false);
    expect(holds({ 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': '${aws:username}' } }, tags)).toBe(true);
    expect(holds({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': '${aws:username}' } }, tags)).toBe(true);
  });

  it('a multivalued key cannot be a variable: it counts as no value', () => {
    const ctx2 = { 'aws:TagKeys': ['a', 'b'], k: 'a' };
    expect(holds({ StringEquals: { k: '${aws:TagKeys}' } }, ctx2)).toBe(false);
    expect(holds({ StringNotEquals: { k: '${aws:TagKeys}' } }, ctx2)).toBe(true);
  });
});

describe('families that take no variables refuse them at parse time', () => {
  it.each([
    ['NumericLessThan', 'aws:MultiFactorAuthAge'],
    ['DateGreaterThan', 'aws:CurrentTime'],
    ['BinaryEquals', 'k'],
    ['IpAddress', 'aws:SourceIp'],
    ['NotIpAddress', 'aws:SourceIp'],
    ['Null', 'k'],
  ])('%s', (op, key) => {
    const doc = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: { [op]: { [key]: '${aws:username}' } },
      },
    };
    expect(validatePolicy(doc, 'identity')).toEqual([
      expect.objectContaining({
        path: `Statement.Condition.${op}.${key}`,
        iam: 'Policy variables can only be used with String, ARN and Bool operators.',
      }),
    ]);
  });

  it('in a 2008-10-17 policy ${…} is literal text, so a Date value holding it is not a date', () => {
    const doc = {
      Version: '2008-10-17',
      Statement: {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:CurrentTime': '${x}' } },
      },
    };
    expect(validatePolicy(doc, 'identity').map((i) => i.path)).toEqual([
      'Statement.Condition.DateLessThan.aws:CurrentTime',
    ]);
  });
});

describe('a variable without a value in Resource and NotResource', () => {
  const decide = (element: 'Resource' | 'NotResource', context: RequestContext) =>
    evaluatePolicySet(
      [
        policy('identity', [
          { Effect: 'Allow', Action: 's3:GetObject', [element]: 'arn:aws:s3:::home/${aws:username}/*' },
        ]),
      ],
      request('s3:GetObject', 'arn:aws:s3:::home/dave/f', { context }),
    ).decision;

  it('a Resource entry with no value matches no resource', () => {
    expect(decide('Resource', {})).toBe('ImplicitDeny');
    expect(decide('Resource', { 'aws:username': 'dave' })).toBe('Allow');
  });

  it('a NotResource entry with no value excludes nothing', () => {
    expect(decide('NotResource', {})).toBe('Allow');
    expect(decide('NotResource', { 'aws:username': 'dave' })).toBe('ImplicitDeny');
  });
});

describe('absent keys, per family', () => {
  it.each([
    ['StringEquals', 'a', false],
    ['StringNotEquals', 'a', true],
    ['StringEqualsIgnoreCase', 'a', false],
    ['StringNotEqualsIgnoreCase', 'a', true],
    ['StringLike', 'a*', false],
    ['StringNotLike', 'a*', true],
    ['NumericEquals', '1', false],
    ['NumericNotEquals', '1', true],
    ['NumericLessThan', '1', false],
    ['NumericGreaterThanEquals', '1', false],
    ['DateEquals', '2026', false],
    ['DateNotEquals', '2026', true],
    ['DateLessThan', '2026', false],
    ['DateGreaterThan', '2026', false],
    ['Bool', 'true', false],
    ['BinaryEquals', 'QmluYXJ5', false],
    ['IpAddress', '10.0.0.0/8', false],
    ['NotIpAddress', '10.0.0.0/8', true],
    ['ArnEquals', 'arn:aws:s3:::b', false],
    ['ArnLike', 'arn:aws:s3:::*', false],
    ['ArnNotEquals', 'arn:aws:s3:::b', true],
    ['ArnNotLike', 'arn:aws:s3:::*', true],
  ] as const)(
    '%s on an absent key is %s; with IfExists, true; ForAnyValue false; ForAllValues true',
    (op, value, expected) => {
      expect(holds({ [op]: { k: value } }, {})).toBe(expected);
      expect(holds({ [`${op}IfExists`]: { k: value } }, {})).toBe(true);
      expect(holds({ [`ForAnyValue:${op}`]: { k: value } }, {})).toBe(false);
      expect(holds({ [`ForAllValues:${op}`]: { k: value } }, {})).toBe(true);
      expect(holds({ [`ForAnyValue:${op}`]: { k: value } }, { k: [] })).toBe(false);
      expect(holds({ [`ForAllValues:${op}`]: { k: value } }, { k: [] })).toBe(true);
    },
  );

  it('Null: true holds for an absent (or empty) key, false for a present one', () => {
    expect(holds({ Null: { k: 'true' } }, {})).toBe(true);
    expect(holds({ Null: { k: 'true' } }, { k: [] })).toBe(true);
    expect(holds({ Null: { k: 'false' } }, {})).toBe(false);
  });
});
