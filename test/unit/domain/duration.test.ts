import { describe, expect, it } from 'vitest';
import { allowedDurationRange, resolveDuration } from '../../../lib/domain/duration';
import { DurationOutOfRangeError } from '../../../lib/domain/errors';

const hour = { id: 'prod-readonly', maxDurationSeconds: 3600, defaultDurationSeconds: 3600 };
const halfHour = { id: 'short', maxDurationSeconds: 1800, defaultDurationSeconds: 900 };

function refusal(requested: number, entitlement = hour, capSeconds?: number): DurationOutOfRangeError {
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
