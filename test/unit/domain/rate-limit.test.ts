/**
 * The fixed-window rule (lib/domain/rate-limit.ts): which window an instant falls in, when a window
 * frees (Retry-After), which counters a vend takes and with which ceilings, and what an entitlement
 * may say about its own limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEntitlement } from '../../../lib/domain/entitlement';
import { EntitlementConfigError, RateLimitedError } from '../../../lib/domain/errors';
import {
  admits,
  parseRateLimit,
  type RateLimitSettings,
  rateLimitedError,
  requestLimits,
  retryAfterSeconds,
  vendLimits,
  windowOf,
} from '../../../lib/domain/rate-limit';

const at = (iso: string) => new Date(iso);
const SETTINGS: RateLimitSettings = {
  windowSeconds: 60,
  perCaller: 20,
  perEntitlement: 120,
  requestsPerCaller: 5,
};
const CI = 'arn:aws:iam::111122223333:role/CICDDeployRole';

describe('windowOf', () => {
  it('puts an instant in the window aligned to the epoch that contains it', () => {
    const w = windowOf(at('2026-11-29T10:00:59.999Z'), 60);
    expect(w.start.toISOString()).toBe('2026-11-29T10:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-11-29T10:01:00.000Z');
  });

  it('gives an instant on a boundary to the window that starts there', () => {
    expect(windowOf(at('2026-11-29T10:01:00.000Z'), 60).start.toISOString()).toBe('2026-11-29T10:01:00.000Z');
  });

  it('aligns windows that do not divide a minute to the epoch too (every container agrees)', () => {
    const w = windowOf(at('2026-12-07T10:40:00.000Z'), 7);
    expect(w.start.getTime() % 7000).toBe(0);
    expect(w.end.getTime() - w.start.getTime()).toBe(7000);
  });

  it('always contains the instant, for any time and window length (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: 1, max: 3600 }),
        (ms, s) => {
          const w = windowOf(new Date(ms), s);
          return (
            w.start.getTime() <= ms &&
            ms < w.end.getTime() &&
            w.end.getTime() - w.start.getTime() === s * 1000
          );
        },
      ),
    );
  });

  it.each([0, -1, 1.5])('refuses a window of %s seconds', (s) => {
    expect(() => windowOf(at('2026-11-29T10:00:00Z'), s)).toThrow(RangeError);
  });

  it('refuses an invalid time rather than counting it in no window', () => {
    expect(() => windowOf(new Date(Number.NaN), 60)).toThrow(RangeError);
  });
});

describe('retryAfterSeconds', () => {
  const w = windowOf(at('2026-11-29T10:00:00.000Z'), 60);

  it('counts whole seconds up to the end of the window, rounding up', () => {
    expect(retryAfterSeconds(at('2026-11-29T10:00:00.000Z'), w)).toBe(60);
    expect(retryAfterSeconds(at('2026-11-29T10:00:22.400Z'), w)).toBe(38);
  });

  it('is never 0: in the last millisecond the client is told 1 s', () => {
    expect(retryAfterSeconds(at('2026-11-29T10:00:59.999Z'), w)).toBe(1);
  });

  it('a client that waits Retry-After lands in the next window (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: 1, max: 3600 }),
        (ms, s) => {
          const now = new Date(ms);
          const win = windowOf(now, s);
          const after = new Date(ms + retryAfterSeconds(now, win) * 1000);
          return windowOf(after, s).start.getTime() >= win.end.getTime();
        },
      ),
    );
  });
});

describe('admits', () => {
  it('admits while the count is below the ceiling, not at it', () => {
    expect(admits(0, 1)).toBe(true);
    expect(admits(19, 20)).toBe(true);
    expect(admits(20, 20)).toBe(false);
    expect(admits(21, 20)).toBe(false);
  });
});

describe('vendLimits', () => {
  it("takes the caller's limit on the entitlement first, then the entitlement's across callers", () => {
    expect(vendLimits(CI, { id: 'prod-readonly' }, SETTINGS)).toEqual([
      { scope: { kind: 'caller', callerId: CI, entitlement: 'prod-readonly' }, max: 20, windowSeconds: 60 },
      { scope: { kind: 'entitlement', entitlement: 'prod-readonly' }, max: 120, windowSeconds: 60 },
    ]);
  });

  it("uses the entitlement's own limits one field at a time", () => {
    const only = vendLimits(CI, { id: 'prod-admin', rateLimit: { perCaller: 2 } }, SETTINGS);
    expect(only.map((l) => l.max)).toEqual([2, 120]);
    const both = vendLimits(
      CI,
      { id: 'prod-admin', rateLimit: { perCaller: 2, perEntitlement: 10 } },
      SETTINGS,
    );
    expect(both.map((l) => l.max)).toEqual([2, 10]);
  });
});

describe('requestLimits', () => {
  it('is one per-person limit across entitlements', () => {
    expect(requestLimits('https://idp#alice', SETTINGS)).toEqual([
      { scope: { kind: 'requester', callerId: 'https://idp#alice' }, max: 5, windowSeconds: 60 },
    ]);
  });
});

describe('rateLimitedError', () => {
  const now = at('2026-11-29T10:00:23.000Z');
  const window = windowOf(now, 60);

  it('is a 429 rate_limited that names the limit and when it frees, and no other caller', () => {
    const [caller] = vendLimits(CI, { id: 'prod-readonly' }, SETTINGS);
    const e = rateLimitedError({ ...caller!, window }, now);

    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e.status).toBe(429);
    expect(e.code).toBe('rate_limited');
    expect(e.retryAfterSeconds).toBe(37);
    expect(e.detail).toBe(
      'too many vends of "prod-readonly" by this caller: the limit is 20 per 60 s; retry in 37 s',
    );
    expect(e.detail).not.toContain(CI);
  });

  it('says when the entitlement as a whole is full, and when a person opened too many requests', () => {
    const [, ent] = vendLimits(CI, { id: 'prod-readonly' }, SETTINGS);
    expect(rateLimitedError({ ...ent!, window }, now).detail).toMatch(/by all its callers together/);
    const [req] = requestLimits('https://idp#alice', SETTINGS);
    expect(rateLimitedError({ ...req!, window }, now).detail).toMatch(/^too many access requests opened/);
  });
});

describe("an entitlement's rateLimit", () => {
  const raw = {
    id: 'prod-readonly',
    roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
    externalId: 'prod-readonly-ext-7f3a',
  };

  it('is kept as given; absent when not given (the defaults apply at vend time)', () => {
    expect(parseEntitlement({ ...raw, rateLimit: { perCaller: 5, perEntitlement: 30 } }).rateLimit).toEqual({
      perCaller: 5,
      perEntitlement: 30,
    });
    expect(parseEntitlement(raw).rateLimit).toBeUndefined();
  });

  it.each([
    ['zero', { perCaller: 0 }, 'rateLimit.perCaller'],
    ['a fraction', { perEntitlement: 2.5 }, 'rateLimit.perEntitlement'],
    ['a string', { perCaller: '5' }, 'rateLimit.perCaller'],
    ['over a million', { perEntitlement: 1_000_001 }, 'rateLimit.perEntitlement'],
    ['an unknown key', { perMinute: 5 }, 'rateLimit.perMinute'],
    ['nothing set', {}, 'rateLimit'],
    ['not an object', 5, 'rateLimit'],
    ['per caller above per entitlement', { perCaller: 50, perEntitlement: 10 }, 'rateLimit.perCaller'],
  ])('refuses %s, naming the field', (_name, value, field) => {
    const e = (() => {
      try {
        parseEntitlement({ ...raw, rateLimit: value });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(EntitlementConfigError);
    expect((e as EntitlementConfigError).field).toBe(field);
  });

  it('parseRateLimit alone returns only the fields it was given', () => {
    expect(parseRateLimit({ perEntitlement: 7 })).toEqual({ perEntitlement: 7 });
  });
});
