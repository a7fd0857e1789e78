// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
/**
 * Class 4 of issue 12: where IAM rejects a policy, so does vend, with IAM's error class
 * (`MalformedPolicyDocument`) and message. Sources of each message: docs/iam-evaluator.md,
 * "Validation errors" (the IAM pages for the rule; the message text as IAM returns it).
 */
import { describe, expect, it } from 'vitest';
import { PolicyValidationError, parsePolicy, validatePolicy } from '../../../lib/iam';
import { REFUSED_TRUST } from './fixtures/trust-specs';

const allow = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const trust = { Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole' };

function iamAnswer(
  input: unknown,
  kind: Parameters<typeof parsePolicy>[1],
): { code: string; message: string } {
  try {
    parsePolicy(input, kind);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyValidationError);
    const err = e as PolicyValidationError;
    return { code: err.code, message: err.iamMessage };
  }
  throw new Error('accepted');
}

describe('IAM refuses, and so does vend, with the same error class and message', () => {
  it.each([
    [
      'duplicate Sids',
      doc({ ...allow, Sid: 'A' }, { ...allow, Sid: 'A' }),
      'identity',
      'Statement IDs (SID) in a single policy must be unique.',
    ],
    [
      'a Sid that is not alphanumeric',
      doc({ ...allow, Sid: 'read-all' }),
      'identity',
      'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
    ],
    [
      'a Principal in an identity policy',
      doc({ ...allow, Principal: { AWS: '111122223333' } }),
      'identity',
      'Policy document should not specify a principal.',
    ],
    [
      'a Principal in a session policy',
      doc({ ...allow, Principal: '*' }),
      'session',
      'Policy document should not specify a principal.',
    ],
    [
      'NotPrincipal in a role trust policy',
      doc({ ...trust, Principal: undefined, NotPrincipal: { AWS: '111122223333' } }),
      'trust',
      'Has prohibited field NotPrincipal',
    ],
    [
      'Resource in a role trust policy',
      doc({ ...trust, Resource: '*' }),
      'trust',
      'Has prohibited field Resource',
    ],
    [
      'NotResource in a role trust policy',
      doc({ ...trust, NotResource: '*' }),
      'trust',
      'Has prohibited field NotResource',
    ],
    [
      'a trust statement without Principal',
      doc({ Effect: 'Allow', Action: 'sts:AssumeRole' }),
      'trust',
      'Missing required field Principal',
    ],
    [
      'a statement without Effect',
      doc({ Action: 's3:GetObject', Resource: '*' }),
      'identity',
      'Missing required field Effect',
    ],
    [
      'a statement without Action',
      doc({ Effect: 'Allow', Resource: '*' }),
      'identity',
      'Policy statement must contain actions.',
    ],
    [
      'a statement without Resource',
      doc({ Effect: 'Allow', Action: 's3:GetObject' }),
      'identity',
      'Policy statement must contain resources.',
    ],
    [
      'an action without a vendor',
      doc({ ...allow, Action: 'GetObject' }),
      'identity',
      'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
    ],
    [
      'an action with two colons',
      doc({ ...allow, Action: 's3:Get:Object' }),
      'identity',
      'Actions/Condition can contain only one colon.',
    ],
    [
      'a wildcard vendor',
      doc({ ...allow, Action: '*:Untag*' }),
      'identity',
      'Action vendors (e.g., aws, ec2, etc.) must not contain wildcards',
    ],
    [
      'a resource that is no ARN',
      doc({ ...allow, Resource: 'my-bucket' }),
      'identity',
      'Resource my-bucket must be in ARN format or "*".',
    ],
    [
      'an unknown Version',
      { Version: '2012-10-18', Statement: allow },
      'identity',
      'The policy failed legacy parsing',
    ],
    ['no Statement', { Version: '2012-10-17' }, 'identity', 'Missing required field Statement'],
    [
      'Null with IfExists',
      doc({ ...allow, Condition: { NullIfExists: { k: 'true' } } }),
      'identity',
      'The Null condition operator cannot be used with the IfExists suffix. Update the operator or the suffix.',
    ],
    [
      'a variable in Action',
      doc({ ...allow, Action: 's3:${aws:username}' }),
      'identity',
      'Policy variables are supported in the Resource and Condition elements.',
    ],
    [
      'a variable missing its brace',
      doc({ ...allow, Resource: 'arn:aws:s3:::b/${aws:username' }),
      'identity',
      'The policy variable is missing a closing curly brace. Add } after the variable text.',
    ],
    [
      'an empty variable',
      doc({ ...allow, Condition: { StringEquals: { k: 'a${}' } } }),
      'identity',
      'Empty policy variable. Remove the ${ } variable structure or provide a variable within the structure.',
    ],
    [
      'a space in a variable name',
      doc({ ...allow, Condition: { StringEquals: { k: '${aws:user name}' } } }),
      'identity',
      'A space is not supported within the policy variable text. Remove the space.',
    ],
    [
      'a default without quotes',
      doc({ ...allow, Condition: { StringEquals: { k: '${aws:username, nobody}' } } }),
      'identity',
      'The policy variable default value must begin and end with a single quote. Add the missing quote.',
    ],
    [
      'an unknown statement element',
      doc({ ...allow, Conditions: {} }),
      'identity',
      'Syntax errors in policy. Unknown field Conditions',
    ],
    [
      'an unknown condition operator',
      doc({ ...allow, Condition: { StringEqualz: { k: 'v' } } }),
      'identity',
      'Syntax errors in policy.',
    ],
    ['invalid JSON', '{"Version": "2012-10-17",', 'identity', 'Syntax errors in policy.'],
  ] as const)('%s', (_what, input, kind, message) => {
    expect(iamAnswer(input, kind)).toEqual({ code: 'MalformedPolicyDocument', message });
  });

  it.each(REFUSED_TRUST.map((r) => [r.why, r] as const))('spec trust policy: %s', (_why, refused) => {
    expect(iamAnswer(refused.trustPolicy, 'trust')).toEqual({
      code: 'MalformedPolicyDocument',
      message: refused.iam,
    });
  });

  it('every issue carries its IAM message; the error answers with the first', () => {
    const issues = validatePolicy(
      doc({ ...allow, Sid: 'x-1' }, { ...allow, Sid: 'x-1', Action: 'Get' }),
      'identity',
    );
    expect(issues.map((i) => i.iam)).toEqual([
      'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
      'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
      'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
      'Statement IDs (SID) in a single policy must be unique.',
    ]);
  });

  it('what IAM accepts, vend accepts: Sids with spaces in resource policies, Principal "*" there', () => {
    expect(
      validatePolicy(
        doc({
          Sid: 'Public read',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::b/*',
        }),
        'resource',
      ),
    ).toEqual([]);
  });
});
