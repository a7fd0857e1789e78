/** ARN parsing and the ArnLike / ArnEquals comparison (six parts compared separately). */
import { compileGlob, type Glob, type PatternPart, parseGlob } from './wildcard';

/** The six colon-separated parts of an ARN; `resource` keeps any further colons. */
export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/**
 * Parses `arn:partition:service:region:account:resource`. Returns undefined unless the text starts
 * with `arn:` and has all six parts with a non-empty partition, service and resource.
 *
 * @example parseArn('arn:aws:s3:::bucket/key') // { partition: 'aws', service: 's3', region: '', account: '', resource: 'bucket/key' }
 */
export function parseArn(arn: string): ParsedArn | undefined {
  const parts = splitArn(arn);
  if (parts?.[0] !== 'arn') return undefined;
  const [, partition, service, region, account, resource] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!partition || !service || !resource) return undefined;
  return { partition, service, region, account, resource };
}

/** Splits on the first five colons; undefined if there are fewer than five. */
function splitArn(text: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const idx = text.indexOf(':', start);
    if (idx < 0) return undefined;
    out.push(text.slice(start, idx));
    start = idx + 1;
  }
  out.push(text.slice(start));
  return out;
}

/** Splits pattern parts on the first five literal colons (colons produced by escapes count too). */
function splitArnParts(parts: readonly PatternPart[]): PatternPart[][] | undefined {
  const groups: PatternPart[][] = [[]];
  for (const part of parts) {
    if (typeof part !== 'string' || groups.length === 6) {
      groups[groups.length - 1]!.push(part);
      continue;
    }
    const pieces = part.split(':');
    pieces.forEach((piece, i) => {
      if (i > 0) {
        if (groups.length === 6) {
          groups[5]!.push(':');
        } else {
          groups.push([]);
        }
      }
      if (piece) groups[groups.length - 1]!.push(piece);
    });
  }
  return groups.length === 6 ? groups : undefined;
}

/** A compiled ArnLike pattern. */
export interface ArnMatcher {
  test(arn: string): boolean;
}

/**
 * Compiles an ArnLike pattern. Each of the six parts is matched on its own, so a `*` in the region
 * never swallows the account. A pattern starting with `arn:` but without six parts matches nothing;
 * any other pattern without six parts (such as a bare `*`) is a plain wildcard over the whole value.
 */
export function compileArnPattern(parts: readonly PatternPart[]): ArnMatcher {
  const groups = splitArnParts(parts);
  if (!groups) {
    // `arn:aws:iam::*` lacks parts: AWS compares part by part, so it cannot match a full ARN.
    const first = parts[0];
    if (typeof first === 'string' && first.startsWith('arn:')) return { test: () => false };
    const whole = compileGlob(parts);
    return { test: (arn) => whole.test(arn) };
  }
  const globs: Glob[] = groups.map((g) => compileGlob(g));
  return {
    test(arn) {
      const values = splitArn(arn);
      if (!values) return false;
      return globs.every((g, i) => g.test(values[i]!));
    },
  };
}

const CACHE_LIMIT = 2000;
const arnCache = new Map<string, ArnMatcher>();

/**
 * ArnLike semantics: the six colon-separated parts of pattern and ARN are compared separately, each
 * with `*` and `?` wildcards, case-sensitively. ArnEquals behaves the same way in AWS.
 *
 * @example arnLike('arn:aws:iam::*:role/Deploy*', 'arn:aws:iam::444455556666:role/DeployRole') // true
 */
export function arnLike(pattern: string, arn: string): boolean {
  let matcher = arnCache.get(pattern);
  if (!matcher) {
    if (arnCache.size >= CACHE_LIMIT) arnCache.clear();
    matcher = compileArnPattern(parseGlob(pattern));
    arnCache.set(pattern, matcher);
  }
  return matcher.test(arn);
}
