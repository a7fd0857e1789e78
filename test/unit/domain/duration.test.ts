import { describe, expect, it } from 'vitest';
import { allowedDurationRange, parseRequestedDuration, resolveDuration } from '../../../lib/domain/duration';
import { DurationOutOfRangeError } from '../../../lib/domain/errors';

const hour = { id: 'prod-readonly', maxDurationSeconds: 3600, defaultDurationSeconds: 3600 };
const halfHour = { id: 'short', maxDurationSeconds: 1800, defaultDurationSeconds: 900 };

function refusal(requested: unknown, entitlement = hour, capSeconds?: number): DurationOutOfRangeError {
  try {
    resolveDuration({ requested, entitlement, capSeconds });
  } catch (e) {
    if (e instanceof DurationOutOfRangeError) return e;
    throw e;
  }
  throw new Error(`expected ${requested} to be refused`);
}

describe('resolveDuration', () => {
  it('uses the entitlement default when none is requested', () => {
    expect(resolveDuration({ entitlement: halfHour })).toBe(900);
    expect(resolveDuration({ entitlement: hour })).toBe(3600);
  });

  it('accepts the bounds: 900 and the entitlement max', () => {
    expect(resolveDuration({ requested: 900, entitlement: hour })).toBe(900);
    expect(resolveDuration({ requested: 3600, entitlement: hour })).toBe(3600);
    expect(resolveDuration({ requested: 1800, entitlement: halfHour })).toBe(1800);
  });

  it.each([899, 3601, 43201, -1, 1e9, 0])('refuses %d with 400 duration_out_of_range', (requested) => {
    const err = refusal(requested);

    expect(err.status).toBe(400);
    expect(err.code).toBe('duration_out_of_range');
    expect(err.detail).toContain('between 900 and 3600 seconds');
  });

  it('refuses above the entitlement max, giving its range', () => {
    expect(refusal(1801, halfHour).detail).toContain('between 900 and 1800 seconds for "short"');
  });

  it('explains role chaining when over an hour', () => {
    expect(refusal(3601).detail).toMatch(/role chaining/);
  });

  it('applies the one-hour chaining cap even to an entitlement built by hand with a larger max', () => {
    const tooLong = { id: 'hand-made', maxDurationSeconds: 43200, defaultDurationSeconds: 43200 };

    expect(refusal(7200, tooLong).detail).toContain('between 900 and 3600');
    expect(resolveDuration({ entitlement: tooLong })).toBe(3600);
  });

  it('refuses non-integers', () => {
    expect(refusal(900.5).code).toBe('duration_out_of_range');
    expect(refusal(Number.NaN).code).toBe('duration_out_of_range');
    expect(refusal(Number.POSITIVE_INFINITY).code).toBe('duration_out_of_range');
  });

  it('applies an extra cap (e.g. a break-glass grant)', () => {
    expect(refusal(2000, hour, 1800).detail).toContain('between 900 and 1800');
    expect(resolveDuration({ entitlement: hour, capSeconds: 1800 })).toBe(1800);
  });
});

describe('allowedDurationRange', () => {
  it('is [900, min(max, 3600, cap)]', () => {
    expect(allowedDurationRange({ entitlement: halfHour })).toEqual({ min: 900, max: 1800 });
    expect(allowedDurationRange({ entitlement: hour, capSeconds: 1000 })).toEqual({ min: 900, max: 1000 });
  });
});

describe('resolveDuration judges whatever a body carried', () => {
  it.each([
    ['a string', '900'],
    ['null', null],
    ['a boolean', true],
    ['an object', { seconds: 900 }],
  ])('%s → duration_out_of_range, the value not echoed', (_, requested) => {
    const err = refusal(requested);

    expect(err.code).toBe('duration_out_of_range');
    expect(err.detail).toBe(
      'durationSeconds must be a whole number of seconds (a JSON number) between 900 and 3600 seconds for "prod-readonly"',
    );
  });

  it('names an extra cap when it is the one that binds', () => {
    const bind = () =>
      resolveDuration({
        requested: 2000,
        entitlement: hour,
        capSeconds: 1800,
        capLabel: 'its break-glass maximum',
      });
    const loose = () =>
      resolveDuration({
        requested: 3000,
        entitlement: halfHour,
        capSeconds: 3600,
        capLabel: 'its break-glass maximum',
      });

    expect(bind).toThrow(
      'between 900 and 1800 seconds for "prod-readonly" (its break-glass maximum); got 2000',
    );
    expect(loose).toThrow('between 900 and 1800 seconds for "short"; got 3000');
  });
});

describe('parseRequestedDuration: the body-level rule, before any entitlement is read', () => {
  it('absent is undefined (the entitlement default applies)', () => {
    expect(parseRequestedDuration(undefined)).toBeUndefined();
  });

  it.each([900, 1800, 3600])('accepts %d', (d) => {
    expect(parseRequestedDuration(d)).toBe(d);
  });

  it.each([
    ['7200', 7200],
    ['3601', 3601],
    ['899', 899],
    ['0', 0],
    ['-0 is 0', -0],
    ['-1', -1],
    ['a fraction', 900.5],
    ['1e308', 1e308],
    ['-1e308', -1e308],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
    ['"900"', '900'],
    ['""', ''],
    ['null', null],
    ['false', false],
    ['[900]', [900]],
    ['a bigint', 900n],
  ])('refuses %s with 400 duration_out_of_range giving the range', (_, value) => {
    let err: unknown;
    try {
      parseRequestedDuration(value);
    } catch (e) {
      err = e;
    }

    expect(err).toBeInstanceOf(DurationOutOfRangeError);
    expect((err as DurationOutOfRangeError).status).toBe(400);
    expect((err as DurationOutOfRangeError).detail).toContain('between 900 and 3600 seconds');
  });

  it("explains the one-hour cap above it and STS's floor below it", () => {
    expect(() => parseRequestedDuration(7200)).toThrow(/got 7200 \(vend assumes roles by role chaining/);
    expect(() => parseRequestedDuration(899)).toThrow("got 899 (900 is STS's minimum)");
  });
});
