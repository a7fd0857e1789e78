/**
 * Enforcing limits (lib/usecases/rate-limit.ts), apart from the vend path: all or nothing across
 * counters, a give-back that cannot be written is logged and the refusal stands, and the per-person
 * limit on opening requests is audited as a denial.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import { RateLimitedError } from '../../../lib/domain/errors';
import type { Limit, RateLimitSettings } from '../../../lib/domain/rate-limit';
import { enforceRateLimits, limitRequestCreation } from '../../../lib/usecases/rate-limit';
import { alice } from '../domain/world';
import { MemoryLimiter } from './limiter-fake';

const NOW = new Date('2026-11-29T10:00:30.000Z');
const SETTINGS: RateLimitSettings = {
  windowSeconds: 60,
  perCaller: 3,
  perEntitlement: 5,
  requestsPerCaller: 1,
};
const limit = (entitlement: string, max: number): Limit => ({
  scope: { kind: 'entitlement', entitlement },
  max,
  windowSeconds: 60,
});

function deps(limiter = new MemoryLimiter()) {
  const logged: string[] = [];
  const records: AuditRecord[] = [];
  return {
    limiter,
    logged,
    records,
    now: () => NOW,
    newId: () => `01JD${String(records.length).padStart(22, '0')}`,
    log: { error: (m: string) => logged.push(m) },
    audit: {
      failing: false,
      async append(r: AuditRecord) {
        if (this.failing) throw new Error('audit down');
        records.push(r);
      },
    },
  };
}

describe('enforceRateLimits', () => {
  it('takes every counter or none: a full second counter gives the first one back', async () => {
    const d = deps();
    d.limiter.fill(
      { scope: limit('b', 1).scope, window: { start: new Date('2026-11-29T10:00:00Z'), end: NOW } },
      1,
    );

    const e = await enforceRateLimits(d, [limit('a', 5), limit('b', 1)]).catch((err: unknown) => err);

    expect(e).toBeInstanceOf(RateLimitedError);
    expect((e as RateLimitedError).retryAfterSeconds).toBe(30);
    expect(d.limiter.releases.map((r) => r.scope)).toEqual([{ kind: 'entitlement', entitlement: 'a' }]);
  });

  it('keeps the refusal when the give-back cannot be written, and logs it', async () => {
    const d = deps();
    d.limiter.release = async () => {
      throw new Error('limits table down');
    };
    d.limiter.fill(
      { scope: limit('b', 1).scope, window: { start: new Date('2026-11-29T10:00:00Z'), end: NOW } },
      1,
    );

    await expect(enforceRateLimits(d, [limit('a', 5), limit('b', 1)])).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    expect(d.logged).toEqual(['rate limit use not given back (entitlement counter)']);
  });
});

describe('limitRequestCreation', () => {
  const input = {
    caller: alice(),
    request: { requestId: 'gw-1' },
    requestId: '01JDREQ',
    entitlement: 'prod-admin',
  };

  it('admits up to the per-person limit, then audits a denial and throws the 429', async () => {
    const d = deps();
    await limitRequestCreation({ ...d, rateLimits: SETTINGS }, input);

    const e = await limitRequestCreation({ ...d, rateLimits: SETTINGS }, input).catch((err: unknown) => err);

    expect(e).toBeInstanceOf(RateLimitedError);
    expect(d.records).toEqual([
      expect.objectContaining({
        decision: 'denied',
        reasonCode: 'rate_limited',
        auditId: '01JDREQ',
        entitlement: 'prod-admin',
        requestId: 'gw-1',
      }),
    ]);
  });

  it('still answers 429 when the denial cannot be audited (and logs that)', async () => {
    const d = deps();
    d.audit.failing = true;
    await limitRequestCreation({ ...d, rateLimits: SETTINGS }, input);

    await expect(limitRequestCreation({ ...d, rateLimits: SETTINGS }, input)).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    expect(d.logged).toEqual(['audit denied record not written']);
  });

  it('does nothing where no limiter is wired', async () => {
    const d = deps();
    for (let i = 0; i < 5; i++)
      await limitRequestCreation({ ...d, limiter: undefined, rateLimits: SETTINGS }, input);
    expect(d.records).toEqual([]);
  });
});
