/**
 * Glob patterns with `*` (any run of characters, possibly empty) and `?` (exactly one character), as
 * IAM uses them in Action, Resource and `StringLike`. Patterns are compiled once into literal segments
 * and matched without regular expressions, so a hostile pattern cannot cause catastrophic
 * backtracking: matching is at worst O(pattern × value).
 *
 * Policy variables can produce literal `*` and `?` (the escapes `${*}` and `${?}`), so a pattern is
 * held as parts: literal strings plus the two wildcard markers, never as a bare string.
 */

/** Marker for `*` in a parsed pattern. */
export const STAR = 0;
/** Marker for `?` in a parsed pattern. */
export const QMARK = 1;
/** One piece of a parsed pattern: literal text, `*` or `?`. */
export type PatternPart = string | typeof STAR | typeof QMARK;

/** A compiled pattern. */
export interface Glob {
  test(value: string): boolean;
}

/** Splits a pattern written with `*` and `?` wildcards into parts (no escapes: every `*` is a wildcard). */
export function parseGlob(pattern: string): PatternPart[] {
  const parts: PatternPart[] = [];
  let literal = '';
  for (const ch of pattern) {
    if (ch === '*' || ch === '?') {
      if (literal) parts.push(literal);
      literal = '';
      parts.push(ch === '*' ? STAR : QMARK);
    } else {
      literal += ch;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

/** Renders parts back to text (wildcards as `*` and `?`), for operators that do not use wildcards. */
export function partsToString(parts: readonly PatternPart[]): string {
  let out = '';
  for (const p of parts) out += p === STAR ? '*' : p === QMARK ? '?' : p;
  return out;
}

/** A segment between two stars: either plain text, or code points where `null` stands for `?`. */
type Segment = string | (string | null)[];

/**
 * Compiles parsed parts. With `ignoreCase`, both pattern and value are lower-cased (IAM actions are
 * case-insensitive; resources and most condition strings are not).
 */
export function compileGlob(parts: readonly PatternPart[], ignoreCase = false): Glob {
  const raw: (string | null)[][] = [[]];
  let hasQuestion = false;
  for (const part of parts) {
    if (part === STAR) {
      raw.push([]);
    } else if (part === QMARK) {
      hasQuestion = true;
      raw[raw.length - 1]!.push(null);
    } else {
      const text = ignoreCase ? part.toLowerCase() : part;
      raw[raw.length - 1]!.push(...Array.from(text));
    }
  }
  const fold = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (!hasQuestion) {
    const segs = raw.map((s) => s.join(''));
    if (segs.length === 1) {
      const exact = segs[0]!;
      return { test: (v) => fold(v) === exact };
    }
    if (segs.length === 2 && segs[0] === '' && segs[1] === '') return { test: () => true };
    return { test: (v) => matchStringSegments(segs, fold(v)) };
  }
  const segs: Segment[] = raw;
  return { test: (v) => matchArraySegments(segs as (string | null)[][], Array.from(fold(v))) };
}

/** Leftmost placement of each middle segment is optimal for star-separated globs, so this is exact. */
function matchStringSegments(segs: string[], v: string): boolean {
  const first = segs[0]!;
  const last = segs[segs.length - 1]!;
  if (!v.startsWith(first)) return false;
  const endLimit = v.length - last.length;
  if (endLimit < first.length || !v.endsWith(last)) return false;
  let pos = first.length;
  for (let i = 1; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    const idx = v.indexOf(seg, pos);
    if (idx < 0 || idx + seg.length > endLimit) return false;
    pos = idx + seg.length;
  }
  return true;
}

function segmentAt(seg: (string | null)[], v: string[], at: number): boolean {
  if (at + seg.length > v.length) return false;
  for (let k = 0; k < seg.length; k++) {
    const c = seg[k];
    if (c !== null && c !== v[at + k]) return false;
  }
  return true;
}

function matchArraySegments(segs: (string | null)[][], v: string[]): boolean {
  if (segs.length === 1) return segs[0]!.length === v.length && segmentAt(segs[0]!, v, 0);
  const first = segs[0]!;
  const last = segs[segs.length - 1]!;
  const endLimit = v.length - last.length;
  if (endLimit < first.length) return false;
  if (!segmentAt(first, v, 0) || !segmentAt(last, v, endLimit)) return false;
  let pos = first.length;
  for (let i = 1; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    let found = -1;
    for (let at = pos; at + seg.length <= endLimit; at++) {
      if (segmentAt(seg, v, at)) {
        found = at;
        break;
      }
    }
    if (found < 0) return false;
    pos = found + seg.length;
  }
  return true;
}

// Bounded cache for ad-hoc patterns (matchWildcard, arnLike): vend evaluates the same few patterns
// on every request. Cleared wholesale when full rather than tracking recency: simple and bounded.
const CACHE_LIMIT = 5000;
const globCache = new Map<string, Glob>();

/** Compiles `pattern` (with `*` and `?` wildcards) through a bounded cache. */
export function cachedGlob(pattern: string, ignoreCase = false): Glob {
  const key = (ignoreCase ? 'i:' : 's:') + pattern;
  let glob = globCache.get(key);
  if (!glob) {
    if (globCache.size >= CACHE_LIMIT) globCache.clear();
    glob = compileGlob(parseGlob(pattern), ignoreCase);
    globCache.set(key, glob);
  }
  return glob;
}

/**
 * Tests `value` against an IAM-style wildcard pattern: `*` matches any run of characters (including
 * `/` and `:`), `?` exactly one character; everything else is literal.
 *
 * @example matchWildcard('s3:Get*', 's3:getobject', { ignoreCase: true }) // true
 */
export function matchWildcard(pattern: string, value: string, opts?: { ignoreCase?: boolean }): boolean {
  return cachedGlob(pattern, opts?.ignoreCase ?? false).test(value);
}

type Unit = string | typeof STAR | typeof QMARK;

/**
 * Flattens parts into single code points and wildcards. Inside a run of wildcards the order does not
 * change the language (`*?` and `?*` both mean "one or more"), so each run is rewritten as its `?`s
 * followed by at most one `*`; this lets the inclusion test below decide more cases exactly.
 */
function toUnits(parts: readonly PatternPart[], ignoreCase: boolean): Unit[] {
  const units: Unit[] = [];
  let questions = 0;
  let star = false;
  const flush = () => {
    for (let i = 0; i < questions; i++) units.push(QMARK);
    if (star) units.push(STAR);
    questions = 0;
    star = false;
  };
  for (const part of parts) {
    if (part === STAR) star = true;
    else if (part === QMARK) questions++;
    else {
      flush();
      units.push(...Array.from(ignoreCase ? part.toLowerCase() : part));
    }
  }
  flush();
  return units;
}

/**
 * Decides whether every string matched by `inner` is also matched by `outer` (language inclusion).
 * It matches `outer` against `inner` symbolically: an outer `*` may absorb any inner units (wildcards
 * included), an outer `?` one inner literal or `?`, an outer literal only the same literal. This is
 * sound (a "yes" is always right). It is not complete: when an outer `?` has to line up with an
 * inner `*` that is followed by literals, such as `*a?` ⊆ `?*` (both need at least one character),
 * it answers no although the inclusion holds. Such pairs are rare in IAM policies.
 * Where it says no on a true inclusion it errs on the side of refusing. O(|inner| × |outer|).
 */
export function globIncludes(
  inner: readonly PatternPart[],
  outer: readonly PatternPart[],
  ignoreCase = false,
): boolean {
  const a = toUnits(inner, ignoreCase);
  const b = toUnits(outer, ignoreCase);
  // prev[j]: does outer[0..i) cover inner[0..j)?
  let prev: boolean[] = new Array(a.length + 1).fill(false);
  prev[0] = true;
  for (let i = 1; i <= b.length; i++) {
    const u = b[i - 1];
    const cur: boolean[] = new Array(a.length + 1).fill(false);
    cur[0] = u === STAR && prev[0]!;
    for (let j = 1; j <= a.length; j++) {
      const w = a[j - 1];
      if (u === STAR) cur[j] = prev[j]! || cur[j - 1]!;
      else if (u === QMARK) cur[j] = prev[j - 1]! && w !== STAR;
      else cur[j] = prev[j - 1]! && w === u;
    }
    prev = cur;
  }
  return prev[a.length]!;
}
