/**
 * Durations as people type them: `900`, `900s`, `15m`, `1h`, `1h30m`. The CLI turns them into whole
 * seconds; whether the entitlement allows them is the server's decision (it answers
 * `duration_out_of_range` with the allowed range).
 */
import { UsageError } from './errors';

const UNIT: Record<string, number> = { h: 3600, m: 60, s: 1 };

/**
 * Parses a duration into whole seconds.
 *
 * @throws UsageError not a positive whole number of seconds
 * @example parseDuration('15m') // 900
 */
export function parseDuration(text: string): number {
  const s = text.trim().toLowerCase();
  let seconds: number;
  if (/^\d+$/.test(s)) {
    seconds = Number(s);
  } else if (/^(\d+h)?(\d+m)?(\d+s)?$/.test(s) && s !== '') {
    seconds = 0;
    for (const [, n, unit] of s.matchAll(/(\d+)([hms])/g)) seconds += Number(n) * (UNIT[unit ?? 's'] ?? 1);
  } else {
    throw new UsageError(`invalid duration '${text}': use seconds (900) or units (15m, 1h, 1h30m)`);
  }
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new UsageError(`invalid duration '${text}': it must be more than 0 seconds`);
  }
  return seconds;
}
