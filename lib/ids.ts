/**
 * Identifiers: ULIDs (26 characters of Crockford base32, time-ordered), so audit ids sort by time in
 * a listing and fit STS's session-name charset whole. A ULID is 48 bits of milliseconds and 80
 * random bits; the few lines below are the whole algorithm (the `ulid` package adds a browser shim
 * and a monotonic factory vend does not need).
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new ULID for the given time.
 * @example `ulid(new Date('2026-11-29T10:00:00Z')) // '01KB…' (26 characters)`
 */
export function ulid(time: Date = new Date(), random: (n: number) => Uint8Array = randomBytes): string {
  let ms = time.getTime();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = ALPHABET[ms % 32] + head;
    ms = Math.floor(ms / 32);
  }
  const bytes = random(16);
  let tail = '';
  for (let i = 0; i < 16; i++) tail += ALPHABET[(bytes[i] ?? 0) % 32];
  return head + tail;
}

/** The id generator port: use cases take one so tests can make ids predictable. */
export type IdGenerator = (time: Date) => string;

/**
 * The shape of every id vend makes (request ids, review ids, audit ids): a ULID as {@link ulid}
 * writes it, 26 characters of its upper-case alphabet. A JSON Schema `pattern` (a string) so route
 * schemas can use it as is; {@link isId} is the same rule as a predicate.
 */
export const ID_PATTERN = '^[0-9A-HJKMNP-TV-Z]{26}$';

const ID_RE = new RegExp(ID_PATTERN);

/**
 * Could `value` be an id vend made? Cheap enough to call before every store read.
 * @example `isId(ulid()) // true`, `isId('../..') // false`
 */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length === 26 && ID_RE.test(value);
}
