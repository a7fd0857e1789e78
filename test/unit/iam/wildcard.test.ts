import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arnLike, matchWildcard, parseArn } from '../../../lib/iam';
import { compileGlob, globIncludes, parseGlob } from '../../../lib/iam/wildcard';

describe('matchWildcard', () => {
  it.each([
    ['s3:GetObject', 's3:GetObject', true],
    ['s3:Get*', 's3:GetObjectAcl', true],
    ['s3:Get*', 's3:PutObject', false],
    ['*', '', true],
    ['*', 'anything/at:all', true],
    ['', '', true],
    ['', 'x', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/x/y:z', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b', false],
    ['*a*b*a*', 'xxaxxbxxa', true],
    ['*a*b*a*', 'xxaxxaxxb', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['?*?', 'ab', true],
    ['?*?', 'a', false],
    ['*.txt', 'notes.txt', true],
    ['*.txt', 'notes.txt.gz', false],
    ['x?', 'x😀', true],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(matchWildcard(pattern, value)).toBe(expected);
  });

  it('treats regex metacharacters literally', () => {
    expect(matchWildcard('a.b+(c)[d]^$|\\', 'a.b+(c)[d]^$|\\')).toBe(true);
    expect(matchWildcard('a.b', 'axb')).toBe(false);
  });

  it('is case-sensitive unless ignoreCase is set', () => {
    expect(matchWildcard('s3:get*', 'S3:GetObject')).toBe(false);
    expect(matchWildcard('s3:get*', 'S3:GetObject', { ignoreCase: true })).toBe(true);
    expect(matchWildcard('S3:GE?OBJECT', 's3:getobject', { ignoreCase: true })).toBe(true);
  });

  it('stays linear on patterns that make backtracking regexes explode', () => {
    const pattern = `${'*a'.repeat(200)}*b`;
    const value = 'a'.repeat(5000);
    expect(matchWildcard(pattern, value)).toBe(false);
    expect(matchWildcard(`${'?'.repeat(50)}*${'a?'.repeat(50)}c`, 'a'.repeat(5000))).toBe(false);
  });

  it('agrees with a reference regex implementation on random inputs', () => {
    const toRegex = (p: string) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[\\s\\S]*')
          .replace(/\?/g, '[\\s\\S]')}$`,
        'u',
      );
    const pat = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?', '/'), maxLength: 8 });
    const val = fc.string({ unit: fc.constantFrom('a', 'b', '/'), maxLength: 10 });
    fc.assert(
      fc.property(pat, val, (p, v) => {
        expect(matchWildcard(p, v)).toBe(toRegex(p).test(v));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('globIncludes', () => {
  const inc = (inner: string, outer: string, ignoreCase = false) =>
    globIncludes(parseGlob(inner), parseGlob(outer), ignoreCase);

  it.each([
    ['s3:Get*', 's3:*', true],
    ['s3:GetObject', 's3:Get*', true],
    ['s3:*', 's3:Get*', false],
    ['*', 's3:*', false],
    ['s3:*', '*', true],
    ['arn:aws:s3:::b/prefix/*', 'arn:aws:s3:::b/*', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/prefix/*', false],
    ['arn:aws:s3:::b', 'arn:aws:s3:::b/*', false],
    ['a?c', 'a*', true],
    ['a*', 'a?*', false],
    ['a?*', 'a*', true],
    ['*?', '?*', true],
    ['?*', '*?', true],
    ['a??', 'a?*', true],
    ['x', 'x', true],
  ])('%s ⊆ %s is %s', (inner, outer, expected) => {
    expect(inc(inner, outer)).toBe(expected);
  });

  it('compares case-insensitively when asked (actions)', () => {
    expect(inc('S3:GETOBJECT', 's3:get*', true)).toBe(true);
    expect(inc('S3:GETOBJECT', 's3:get*')).toBe(false);
  });

  it('is sound: whenever it says inner ⊆ outer, every sampled value matching inner matches outer', () => {
    const unit = fc.constantFrom('a', 'b', '*', '?');
    const pat = fc.string({ unit, maxLength: 6 });
    // Instantiate inner by replacing each wildcard with random concrete text.
    const fill = fc.array(fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 3 }), {
      minLength: 6,
      maxLength: 6,
    });
    fc.assert(
      fc.property(pat, pat, fill, (inner, outer, fills) => {
        fc.pre(globIncludes(parseGlob(inner), parseGlob(outer)));
        let i = 0;
        const concrete = Array.from(inner)
          .map((ch) => (ch === '*' ? fills[i++ % 6]! : ch === '?' ? (fills[i++ % 6]! + 'a').slice(0, 1) : ch))
          .join('');
        expect(matchWildcard(inner, concrete)).toBe(true);
        expect(matchWildcard(outer, concrete)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('compiles patterns with literal wildcard characters from escapes', () => {
    const glob = compileGlob(['a', '*', 'b']);
    expect(glob.test('a*b')).toBe(true);
    expect(glob.test('axb')).toBe(false);
  });
});

describe('parseArn', () => {
  it('splits the six parts and keeps colons in the resource', () => {
    expect(parseArn('arn:aws:sqs:eu-west-1:123456789012:queue:with:colons')).toEqual({
      partition: 'aws',
      service: 'sqs',
      region: 'eu-west-1',
      account: '123456789012',
      resource: 'queue:with:colons',
    });
    expect(parseArn('arn:aws:s3:::bucket')?.resource).toBe('bucket');
  });

  it.each(['', '*', 'arn:aws:s3::bucket', 'arn:aws:s3:::', 'nra:aws:s3:::b', 'arn::s3:::b'])(
    'refuses %j',
    (text) => {
      expect(parseArn(text)).toBeUndefined();
    },
  );
});

describe('arnLike', () => {
  it('compares each part on its own, so * cannot cross a colon into the next part', () => {
    expect(arnLike('arn:aws:iam::*:role/Deploy*', 'arn:aws:iam::444455556666:role/DeployRole')).toBe(true);
    expect(arnLike('arn:aws:iam::*', 'arn:aws:iam::444455556666:role/DeployRole')).toBe(false);
    expect(arnLike('arn:aws:*', 'arn:aws:iam::444455556666:role/x')).toBe(false);
    expect(arnLike('arn:aws:*:*:*:*', 'arn:aws:iam::444455556666:role/x')).toBe(true);
  });

  it('lets * span colons inside the resource part', () => {
    expect(arnLike('arn:aws:sqs:*:*:queue*', 'arn:aws:sqs:eu-west-1:1:queue:a:b')).toBe(true);
  });

  it('is case-sensitive and refuses non-ARNs', () => {
    expect(arnLike('arn:aws:iam::*:role/deploy', 'arn:aws:iam::1:role/Deploy')).toBe(false);
    expect(arnLike('arn:aws:iam::*:role/*', 'not-an-arn')).toBe(false);
  });

  it('matches a pattern without six parts as a plain wildcard', () => {
    expect(arnLike('*', 'arn:aws:iam::1:role/x')).toBe(true);
  });
});
