/**
 * How long vended credentials last: ONE rule for every route that takes a duration (vend, request,
 * break-glass, vend inside a grant, Slack commands). The allowed range is
 * [900, min(entitlement max, 3600)]: 900 is STS's floor, and 3600 is the role-chaining cap that
 * applies to every AssumeRole vend makes (its broker is a Lambda role session). Entitlements above
 * 3600 are already refused at load (`parseEntitlement`); the cap is applied here again so a
 * hand-built Entitlement cannot slip past.
 *
 * Anything else a caller sends as a duration (7200, 899, 0, -1, 900.5, "900", null, 1e308) is
 * refused with 400 `duration_out_of_range`, never clamped: a caller who asked for two hours must
 * learn they did not get them. Two steps, because the body is read before the entitlement is:
 * {@link parseRequestedDuration} when the body is parsed (a whole number in [900, 3600]), then
 * {@link resolveDuration} against the entitlement (and any extra cap: the break-glass maximum).
 * Only a vend inside an approved grant is shortened, to what the grant has left, and that is the
 * grant's rule (lib/domain/request.ts `grantedDuration`), applied after this one.
 */

import { DurationOutOfRangeError, InvalidRequestError } from './errors';
import { MIN_DURATION_SECONDS, ROLE_CHAINING_MAX_SECONDS } from './limits';
import type { Entitlement } from './types';

/**
 * A requested duration as it arrives in a body (any JSON value): absent is `undefined` (the
 * entitlement's default applies); otherwise a whole number of seconds within [900, 3600], the range
 * every entitlement's range lies in. The entitlement's own maximum is {@link resolveDuration}'s.
 *
 * @throws DurationOutOfRangeError a string ("900"), null, a boolean, a fraction, NaN, ±Infinity, or
 *   a whole number outside [900, 3600]; the detail gives the range and never echoes a non-number
 * @example
 * ```ts
 * parseRequestedDuration(undefined); // undefined
 * parseRequestedDuration(900);       // 900
 * parseRequestedDuration(7200);      // throws DurationOutOfRangeError (over the one-hour cap)
 * parseRequestedDuration('900');     // throws DurationOutOfRangeError (a string, not a number)
 * ```
 */
export function parseRequestedDuration(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return checkRange(value, { min: MIN_DURATION_SECONDS, max: ROLE_CHAINING_MAX_SECONDS }, '');
}

/** Input of {@link resolveDuration}. */
export interface DurationInput {
  /**
   * What the caller asked for, in seconds; absent means the entitlement's default. Typed `unknown`
   * on purpose: whatever a body carried is judged here, a string or a fraction included.
   */
  requested?: unknown;
  entitlement: Pick<Entitlement, 'id' | 'maxDurationSeconds' | 'defaultDurationSeconds'>;
  /** An extra cap, e.g. the duration granted by an approval or the break-glass maximum. */
  capSeconds?: number;
  /** Says what the extra cap is when it is the one that binds, e.g. `its break-glass maximum`. */
  capLabel?: string;
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
 * resolveDuration({ requested: 3600, entitlement: prodAdmin, capSeconds: 1800, capLabel: 'its break-glass maximum' });
 * // throws DurationOutOfRangeError: 'durationSeconds must be between 900 and 1800 seconds for "prod-admin" (its break-glass maximum); got 3600'
 * ```
 */
export function resolveDuration(input: DurationInput): number {
  const range = allowedDurationRange(input);
  const value =
    input.requested === undefined
      ? Math.min(input.entitlement.defaultDurationSeconds, range.max)
      : input.requested;
  const capped =
    input.capLabel !== undefined && input.capSeconds !== undefined && range.max === input.capSeconds
      ? ` (${input.capLabel})`
      : '';
  return checkRange(value, range, ` for "${input.entitlement.id}"${capped}`);
}

/** The one range check: a whole number in [min, max], or DurationOutOfRangeError saying the range. */
function checkRange(value: unknown, range: { min: number; max: number }, forWhat: string): number {
  const { min, max } = range;
  const between = `between ${min} and ${max} seconds${forWhat}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new DurationOutOfRangeError(
      `durationSeconds must be a whole number of seconds (a JSON number) ${between}`,
    );
  }
  if (value < min || value > max) {
    const why =
      value > ROLE_CHAINING_MAX_SECONDS
        ? ' (vend assumes roles by role chaining, which STS caps at one hour)'
        : value < MIN_DURATION_SECONDS
          ? ` (${MIN_DURATION_SECONDS} is STS's minimum)`
          : '';
    throw new DurationOutOfRangeError(`durationSeconds must be ${between}; got ${value}${why}`);
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
