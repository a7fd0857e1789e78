/**
 * Outside review: a vend body is parsed from JSON, so its keys are anything a client sends,
 * `__proto__` and `constructor` included (JSON.parse makes them own keys). They are unknown fields,
 * refused as such; they must not be looked up on an object's prototype, which answered
 * `[object Object] is set by vend, not by the caller` and `function Object() … is set by vend`.
 */
import { describe, expect, it } from 'vitest';
import { parseVendRequest } from '../../../lib/domain/vend-request';

const detail = (body: string): string => {
  try {
    parseVendRequest(JSON.parse(body));
  } catch (e) {
    return (e as { detail?: string }).detail ?? String(e);
  }
  return 'accepted';
};

describe('vend request keys that name Object.prototype members', () => {
  for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`"${key}" is an unknown field`, () => {
      expect(detail(`{"entitlement":"prod-readonly","${key}":{"durationSeconds":7200}}`)).toBe(
        `unknown field "${key}"; allowed: entitlement, durationSeconds, policy, reason`,
      );
    });
  }

  it('a field vend sets itself is still named as such, in any case', () => {
    expect(detail('{"entitlement":"prod-readonly","RoleArn":"x"}')).toBe(
      'roleArn is set by vend, not by the caller',
    );
  });
});
