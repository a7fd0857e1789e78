/**
 * Durations as people type them: `900`, `900s`, `15m`, `1h`, `1h30m` (the domain's one parser,
 * shared with the Slack commands). Whether the entitlement allows the value is the server's
 * decision (it answers `duration_out_of_range` with the allowed range).
 */
import { parseDurationText } from '../domain/duration';
import { InvalidRequestError } from '../domain/errors';
import { UsageError } from './errors';

/**
 * Parses a duration into whole seconds.
 *
 * @throws UsageError not a positive whole number of seconds up to a day
 * @example parseDuration('15m') // 900
 */
export function parseDuration(text: string): number {
  try {
    return parseDurationText(text);
  } catch (e) {
    if (e instanceof InvalidRequestError) throw new UsageError(e.detail);
    throw e;
  }
}
