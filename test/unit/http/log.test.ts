import { describe, expect, it } from 'vitest';
import { scrub } from '../../../lib/log';

describe('scrub', () => {
  it.each([
    ['SecretAccessKey=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY done', 'SecretAccessKey=[redacted] done'],
    ['{"ExternalId":"prod-s3-ext-19c2"}', '{"ExternalId":"[redacted]"}'],
    ['Authorization: Bearer abc.def.ghi', 'Authorization: [redacted]'],
    ['jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln here', 'jwt [redacted] here'],
    ['key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end', 'key [redacted] end'],
    [`token-ish ${'A'.repeat(120)}`, 'token-ish [redacted]'],
  ])('redacts %s', (input, expected) => {
    expect(scrub(input)).toBe(expected);
  });

  it('leaves identifiers an operator needs readable', () => {
    const text =
      'User: arn:aws:sts::222233334444:assumed-role/vend-broker/x is not authorized on arn:aws:iam::444455556666:role/ProdReadOnly (key ASIAEXAMPLEKEYID0001)';

    expect(scrub(text)).toBe(text);
  });

  it('truncates long messages', () => {
    expect(scrub('word '.repeat(100))).toHaveLength(301);
  });
});
