/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`) and the escapes `${*}`,
 * `${?}` and `${$}`, as AWS substitutes them in Resource and Condition values of 2012-10-17 policies.
 */
import { type PatternPart, parseGlob } from './wildcard';

/** Looks a context key up case-insensitively; undefined when absent. */
export type ContextLookup = (key: string) => readonly string[] | undefined;

const VARIABLE = /\$\{([^}]*)\}/g;
const KEY_WITH_DEFAULT = /^\s*([^,\s']+)\s*(?:,\s*'([^']*)'\s*)?$/;

/** True when `text` contains something that looks like `${…}`. */
export function hasVariables(text: string): boolean {
  return text.includes('${');
}

/**
 * Expands variables in `text` into pattern parts. With `wildcards`, the literal text's `*` and `?`
 * are wildcards; substituted values and escapes are always literal. Returns undefined when a
 * variable has no value and no default (the caller then treats the pattern as matching nothing).
 * A multi-valued context key cannot be substituted (AWS allows only single-valued keys): it counts
 * as missing.
 */
export function expandVariables(
  text: string,
  lookup: ContextLookup,
  wildcards: boolean,
): PatternPart[] | undefined {
  const parts: PatternPart[] = [];
  const pushLiteral = (s: string) => {
    if (s) parts.push(s);
  };
  const pushText = (s: string) => {
    if (wildcards) parts.push(...parseGlob(s));
    else pushLiteral(s);
  };
  let last = 0;
  for (const m of text.matchAll(VARIABLE)) {
    pushText(text.slice(last, m.index));
    last = m.index + m[0].length;
    const inner = (m[1] ?? '').trim();
    if (inner === '*' || inner === '?' || inner === '$') {
      pushLiteral(inner);
      continue;
    }
    const km = KEY_WITH_DEFAULT.exec(inner);
    if (!km) {
      // Not a variable reference at all: keep the text as written.
      pushText(m[0]);
      continue;
    }
    const values = lookup(km[1]!);
    if (values && values.length === 1) pushLiteral(values[0]!);
    else if (km[2] !== undefined) pushLiteral(km[2]);
    else return undefined;
  }
  pushText(text.slice(last));
  return parts;
}
