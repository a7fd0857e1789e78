/**
 * The published JSON Schema (infra/entitlements.schema.json, for editors) agrees with the service's
 * rules on the files vend ships and on the classic mistakes.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readEntitlementsText } from '../../../lib/entitlements';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const schema = JSON.parse(await readFile(root('infra/entitlements.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

const base = {
  id: 'prod-readonly',
  roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
  externalId: { ssm: '/vend/prod/x' },
};

describe('infra/entitlements.schema.json', () => {
  it('accepts a rateLimit the service accepts', () => {
    const doc = { entitlements: [{ ...base, rateLimit: { perCaller: 5, perEntitlement: 30 } }] };
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(readEntitlementsText(JSON.stringify(doc), 'e.json').problems).toEqual([]);
  });

  it.each(['infra/local/entitlements.yaml', 'entitlements.example.yaml'])('accepts %s', async (file) => {
    const doc = parse(await readFile(root(file), 'utf8'));
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['a 7200 s maximum', { ...base, maxDurationSeconds: 7200 }],
    ['an unknown key', { ...base, maxDuration: 900 }],
    ['an ExternalId reference with two sources', { ...base, externalId: { ssm: '/a', env: 'B' } }],
    [
      'a session ARN as principal',
      { ...base, principals: { roles: ['arn:aws:sts::111122223333:assumed-role/R/s'] } },
    ],
    ['a rate limit of 0', { ...base, rateLimit: { perCaller: 0 } }],
    ['an unknown rate-limit key', { ...base, rateLimit: { perMinute: 5 } }],
    ['an empty rateLimit', { ...base, rateLimit: {} }],
  ])('rejects %s, as the service does', (_name, entry) => {
    const doc = { entitlements: [entry] };
    expect(validate(doc)).toBe(false);
    const file = readEntitlementsText(JSON.stringify(doc), 'e.json');
    expect(file.problems.some((p) => p.severity === 'error')).toBe(true);
  });
});
