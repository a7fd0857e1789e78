/**
 * Rate limits: how many vends (and request creations) one caller, and one entitlement, may make per
 * window. The broker account's STS AssumeRole quota is shared by every caller (and by everything else
 * that runs in that account), so without a per-caller limit one noisy or compromised caller can
 * starve everyone else (docs/rate-limits.md relates the defaults to that quota).
 *
 * The rule is a **fixed window**: time is cut into windows of `windowSeconds`, aligned to the Unix
 * epoch; a counter per (scope, window start) admits a use while it is below `max`. The store makes
 * the count-and-check one conditional write (lib/dynamodb/rate-limit-store.ts: `ADD` under
 * `count < max`), so there is no read-then-write race; the window an item belongs to is part of its
 * key, computed here from the injected clock, so expiry is decided in code and a TTL only cleans up.
 * Fixed windows allow up to `2 × max` in the `windowSeconds` that straddle a boundary; the defaults
 * are sized with that in mind.
 *
 * The limits of a vend, checked in this order:
 * 1. `caller`: this caller on this entitlement (a noisy caller spends its own budget first);
 * 2. `entitlement`: every caller of this entitlement together (the share of the STS quota it may use).
 * Request creation has one: `requester`, per person across entitlements (Slack spam).
 *
 * Pure: no I/O, no clock, no environment.
 */
import { RateLimitedError } from './errors';
import type { Entitlement } from './types';

/** Smallest and largest `max` a limit may have (a limit of 0 would be a kill switch, not a rate). */
export const RATE_LIMIT_MIN = 1;
export const RATE_LIMIT_MAX = 1_000_000;
/** Window length bounds (seconds): at least a second, at most an hour. */
export const RATE_WINDOW_MIN_SECONDS = 1;
export const RATE_WINDOW_MAX_SECONDS = 3600;

/** The deployment's defaults (lib/config.ts, `VEND_RATE_LIMIT_*`). */
export interface RateLimitSettings {
  /** Length of one window in seconds. */
  windowSeconds: number;
  /** Vends per window by one caller on one entitlement, unless the entitlement says otherwise. */
  perCaller: number;
  /** Vends per window of one entitlement by all callers together, unless the entitlement says otherwise. */
  perEntitlement: number;
  /** Access requests one person may open per window (break-glass has its own daily limit). */
  requestsPerCaller: number;
}

/** An entitlement's own limits (`rateLimit:` in entitlements.yaml); each one overrides its default. */
export interface EntitlementRateLimit {
  perCaller?: number;
  perEntitlement?: number;
}

/** What one counter counts. The store turns a scope into a key (lib/dynamodb/keys.ts). */
export type LimitScope =
  | { kind: 'caller'; callerId: string; entitlement: string }
  | { kind: 'entitlement'; entitlement: string }
  | { kind: 'requester'; callerId: string };

/** One limit to enforce: a scope, its ceiling per window, the window length. */
export interface Limit {
  scope: LimitScope;
  max: number;
  windowSeconds: number;
}

/** One window of time: `[start, end)`. */
export interface RateWindow {
  start: Date;
  end: Date;
}

/** One counter as the store sees it: the limit and the window it counts in. */
export interface RateCounter extends Limit {
  window: RateWindow;
}

/**
 * The fixed window `now` falls in: `[start, start + windowSeconds)`, aligned to the Unix epoch, so
 * every Lambda container agrees on it without talking to the others. An instant on a boundary
 * belongs to the window that starts there.
 *
 * @example
 * windowOf(new Date('2026-11-29T10:00:59.999Z'), 60); // { start: 10:00:00.000Z, end: 10:01:00.000Z }
 * windowOf(new Date('2026-11-29T10:01:00.000Z'), 60); // { start: 10:01:00.000Z, end: 10:02:00.000Z }
 */
export function windowOf(now: Date, windowSeconds: number): RateWindow {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('windowOf: now is not a valid time');
  if (!Number.isInteger(windowSeconds) || windowSeconds < RATE_WINDOW_MIN_SECONDS) {
    throw new RangeError(`windowOf: windowSeconds must be a whole number ≥ ${RATE_WINDOW_MIN_SECONDS}`);
  }
  const length = windowSeconds * 1000;
  const start = Math.floor(ms / length) * length;
  return { start: new Date(start), end: new Date(start + length) };
}

/**
 * Whole seconds until the window frees, for `Retry-After`: rounded up (a client that waits exactly
 * that long is in the next window), never less than 1.
 *
 * @example retryAfterSeconds(new Date('2026-11-29T10:00:59.001Z'), windowOf(…, 60)) // 1
 */
export function retryAfterSeconds(now: Date, window: RateWindow): number {
  return Math.max(1, Math.ceil((window.end.getTime() - now.getTime()) / 1000));
}

/**
 * Does a counter that already holds `used` uses admit one more? The store applies the same test as
 * its write condition (`attribute_not_exists(count) OR count < max`); this is the rule it encodes.
 *
 * @example admits(19, 20) // true: the 20th use
 * @example admits(20, 20) // false
 */
export function admits(used: number, max: number): boolean {
  return used < max;
}

/**
 * The limits of one vend, in the order they are taken: the caller's own limit on the entitlement,
 * then the entitlement's limit across callers. An entitlement's `rateLimit` overrides the defaults
 * one field at a time.
 *
 * @example
 * vendLimits(ciService, prodReadonly, { windowSeconds: 60, perCaller: 20, perEntitlement: 120, requestsPerCaller: 5 });
 * // [{ scope: { kind: 'caller', … }, max: 20, windowSeconds: 60 }, { scope: { kind: 'entitlement', … }, max: 120, … }]
 */
export function vendLimits(
  callerId: string,
  entitlement: Pick<Entitlement, 'id' | 'rateLimit'>,
  settings: RateLimitSettings,
): Limit[] {
  const own = entitlement.rateLimit ?? {};
  return [
    {
      scope: { kind: 'caller', callerId, entitlement: entitlement.id },
      max: own.perCaller ?? settings.perCaller,
      windowSeconds: settings.windowSeconds,
    },
    {
      scope: { kind: 'entitlement', entitlement: entitlement.id },
      max: own.perEntitlement ?? settings.perEntitlement,
      windowSeconds: settings.windowSeconds,
    },
  ];
}

/**
 * The limit on opening access requests: per person, across entitlements. Break-glass is not counted
 * here (it is the emergency path and has its own per-day limit, lib/domain/break-glass.ts).
 *
 * @example requestLimits('https://idp#alice', settings) // [{ scope: { kind: 'requester', … }, max: 5, … }]
 */
export function requestLimits(callerId: string, settings: RateLimitSettings): Limit[] {
  return [
    {
      scope: { kind: 'requester', callerId },
      max: settings.requestsPerCaller,
      windowSeconds: settings.windowSeconds,
    },
  ];
}

/**
 * The 429 for a counter that is full. The detail names which limit, its size and when it frees; it
 * says nothing about other callers (which ones, or how much they used).
 *
 * @example
 * rateLimitedError(counter, now).detail
 * // 'too many vends of "prod-readonly" by this caller: the limit is 20 per 60 s; retry in 37 s'
 */
export function rateLimitedError(counter: RateCounter, now: Date): RateLimitedError {
  const retry = retryAfterSeconds(now, counter.window);
  const per = `the limit is ${counter.max} per ${counter.windowSeconds} s; retry in ${retry} s`;
  const { scope } = counter;
  const what =
    scope.kind === 'caller'
      ? `too many vends of "${scope.entitlement}" by this caller`
      : scope.kind === 'entitlement'
        ? `too many vends of "${scope.entitlement}" by all its callers together`
        : 'too many access requests opened by this caller';
  return new RateLimitedError(`${what}: ${per}`, retry);
}

/** Thrown by {@link parseRateLimit}; the entitlement parser turns it into an EntitlementConfigError. */
export class RateLimitFieldError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(problem);
    this.name = 'RateLimitFieldError';
  }
}

/**
 * Validates an entitlement's `rateLimit` (from entitlements.yaml or the table): an object with
 * `perCaller` and/or `perEntitlement`, whole numbers in [1, 1,000,000]; a per-caller limit above the
 * entitlement's would never bind, so it is refused as a likely mistake.
 *
 * @throws RateLimitFieldError naming the field
 * @example parseRateLimit({ perCaller: 5 }) // { perCaller: 5 }
 */
export function parseRateLimit(raw: unknown): EntitlementRateLimit {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RateLimitFieldError('rateLimit', 'must be an object { perCaller?, perEntitlement }');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'perCaller' && key !== 'perEntitlement') {
      throw new RateLimitFieldError(
        `rateLimit.${key.slice(0, 64)}`,
        'is not a known field (allowed: perCaller, perEntitlement)',
      );
    }
  }
  const out: EntitlementRateLimit = {};
  for (const key of ['perCaller', 'perEntitlement'] as const) {
    const v = obj[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < RATE_LIMIT_MIN || v > RATE_LIMIT_MAX) {
      throw new RateLimitFieldError(
        `rateLimit.${key}`,
        `must be a whole number of vends per window between ${RATE_LIMIT_MIN} and ${RATE_LIMIT_MAX}`,
      );
    }
    out[key] = v;
  }
  if (out.perCaller === undefined && out.perEntitlement === undefined) {
    throw new RateLimitFieldError('rateLimit', 'must set perCaller, perEntitlement or both');
  }
  if (out.perCaller !== undefined && out.perEntitlement !== undefined && out.perCaller > out.perEntitlement) {
    throw new RateLimitFieldError(
      'rateLimit.perCaller',
      `(${out.perCaller}) must not exceed rateLimit.perEntitlement (${out.perEntitlement}): it could never apply`,
    );
  }
  return out;
}
