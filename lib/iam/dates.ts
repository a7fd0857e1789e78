/**
 * Date values for the Date condition operators, in policies and in request context alike.
 *
 * AWS: "You must specify date/time values with one of the W3C implementations of the ISO 8601 date
 * formats or in epoch (UNIX) time"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date).
 * The W3C profile (https://www.w3.org/TR/NOTE-datetime) has six forms: `YYYY`, `YYYY-MM`,
 * `YYYY-MM-DD`, `YYYY-MM-DDThh:mmTZD`, `YYYY-MM-DDThh:mm:ssTZD` and `YYYY-MM-DDThh:mm:ss.sTZD`,
 * where TZD is `Z`, `+hh:mm` or `-hh:mm`. A hand-written parser, not `Date.parse`: `Date.parse`
 * reads a time without a zone as local time and accepts many non-ISO shapes.
 *
 * Choices where the pages leave a gap (docs/iam-evaluator.md, "Dates"):
 * - a date without a time is its first instant in UTC (`2026` = `2026-01-01T00:00:00Z`);
 * - a time without a zone designator is UTC (AWS's clocks and `aws:CurrentTime` are UTC);
 * - exactly four digits are a W3C year, not epoch seconds of 1970 (`YYYY` is the first W3C form);
 *   any other run of digits, optionally signed or with a fraction, is epoch seconds.
 */

const W3C =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const EPOCH = /^[+-]?\d+(?:\.\d+)?$/;

/**
 * Parses a W3C ISO 8601 date/time or epoch seconds into milliseconds since the epoch; undefined
 * when the text is neither (or names an impossible date such as `2026-02-30`).
 *
 * @example parseDate('2026-11-29T10:00:00+01:00') // Date.UTC(2026, 10, 29, 9)
 * @example parseDate('1764410400') // 1764410400000
 * @example parseDate('2026-11') // Date.UTC(2026, 10, 1)
 */
export function parseDate(text: string): number | undefined {
  const t = text.trim();
  const m = W3C.exec(t);
  if (m) return w3cToMillis(m);
  if (EPOCH.test(t)) {
    const ms = Number(t) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

function w3cToMillis(m: RegExpExecArray): number | undefined {
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  // Fractions beyond milliseconds are cut, not rounded: comparisons stay monotone.
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC maps the years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  // 2026-02-30 would roll over into March: refuse instead.
  if (date.getUTCDate() !== day) return undefined;
  const base = date.getTime();
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    offset = sign * (zh * 60 + zm) * 60_000;
  }
  return base - offset;
}
