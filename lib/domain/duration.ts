/**
 * How long vended credentials last. The allowed range is [900, min(entitlement max, 3600)]: 900 is
 * STS's floor, and 3600 is the role-chaining cap that applies to every AssumeRole vend makes (its
 * broker is a Lambda role session). Entitlements above 3600 are already refused at load
 * (`parseEntitlement`); the cap is applied here again so a hand-built Entitlement cannot slip past.
 */

import { DurationOutOfRangeError, InvalidRequestError } from './errors';
import { MIN_DURATION_SECONDS, ROLE_CHAINING_MAX_SECONDS } from './limits';
import type { Entitlement } from './types';

/** Input of {@link resolveDuration}. */
export interface DurationInput {
  /** What the caller asked for, in seconds; absent means the entitlement's default. */
  requested?: number;
  entitlement: Pick<Entitlement, 'id' | 'maxDurationSeconds' | 'defaultDurationSeconds'>;
  /** An extra cap, e.g. the duration granted by an approval or the break-glass maximum. */
  capSeconds?: number;
}

/**
 * The allowed range for an entitlement (and optional extra cap).
 * @example `allowedDurationRange({ entitlement: { id: 'x', maxDurationSeconds: 1800, defaultDurationSeconds: 900 } }) // { min: 900, max: 1800 }`
 */
export function allowedDurationRange(input: Omit<DurationInput, 'requested'>): { min: number; max: number } {
  const max = Math.min(
    input.entitlement.maxDurationSeconds,
    ROLE_CHAINING_MAX_SECONDS,
    input.capSeconds ?? Infinity,
  );
  return { min: MIN_DURATION_SECONDS, max };
}

/**
 * The duration to ask STS for.
 *
 * @throws DurationOutOfRangeError not a whole number, or outside [900, max]; the detail gives the range
 * @example
 * ```ts
 * resolveDuration({ entitlement: prodReadonly });                 // 3600 (the default)
 * resolveDuration({ requested: 900, entitlement: prodReadonly }); // 900
 * resolveDuration({ requested: 3601, entitlement: prodReadonly }); // throws DurationOutOfRangeError
 * ```
 */
export function resolveDuration(input: DurationInput): number {
  const { min, max } = allowedDurationRange(input);
  const value = input.requested ?? Math.min(input.entitlement.defaultDurationSeconds, max);
  const range = `between ${min} and ${max} seconds for "${input.entitlement.id}"`;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new DurationOutOfRangeError(`durationSeconds must be a whole number of seconds ${range}`);
  }
  if (value < min || value > max) {
    const why =
      value > ROLE_CHAINING_MAX_SECONDS
        ? ' (vend assumes roles by role chaining, which STS caps at one hour)'
        : value < min
          ? ` (${min} is STS's minimum)`
          : '';
    throw new DurationOutOfRangeError(`durationSeconds must be ${range}; got ${value}${why}`);
  }
  return value;
}

const UNIT: Record<string, number> = { h: 3600, m: 60, s: 1 };

/**
 * A duration as people type it (CLI flags, Slack commands): `900`, `900s`, `15m`, `1h`, `1h30m`, in
 * whole seconds, at most one day. Whether an entitlement allows the value is
 * {@link resolveDuration}'s decision; this only reads the text. The error never echoes more than a
 * short, printable excerpt of what was typed.
 *
 * @throws InvalidRequestError not one of those forms, zero, or over a day
 * @example `parseDurationText('1h30m') // 5400`
 */
export function parseDurationText(text: string): number {
  const s = text.trim().toLowerCase();
  let seconds = 0;
  if (/^\d{1,6}$/.test(s)) {
    seconds = Number(s);
  } else if (s !== '' && /^(\d{1,4}h)?(\d{1,5}m)?(\d{1,6}s)?$/.test(s)) {
    for (const [, n, unit] of s.matchAll(/(\d+)([hms])/g)) seconds += Number(n) * (UNIT[unit ?? 's'] ?? 1);
  } else {
    throw new InvalidRequestError(
      `invalid duration "${excerpt(text)}": use seconds (900) or units (15m, 1h, 1h30m)`,
    );
  }
  if (seconds <= 0 || seconds > 86_400) {
    throw new InvalidRequestError(`invalid duration "${excerpt(text)}": it must be between 1 s and 1 day`);
  }
  return seconds;
}

function excerpt(text: string): string {
  const cleaned = text.replace(/[^\x20-\x7E]/g, '?');
  return cleaned.length > 32 ? `${cleaned.slice(0, 32)}…` : cleaned;
}
