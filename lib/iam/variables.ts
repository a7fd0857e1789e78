/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`) and the escapes `${*}`,
 * `${?}` and `${$}`, as AWS substitutes them in Resource and Condition values of 2012-10-17 policies
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html). The syntax
 * checks follow IAM Access Analyzer's policy checks ("Missing brace in variable", "Empty variable",
 * "Unsupported space in variable", "Missing quote in variable"):
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html
 */
import { type PatternPart, parseGlob } from './wildcard';

/** Looks a context key up case-insensitively; undefined when absent. */
export type ContextLookup = (key: string) => readonly string[] | undefined;

const VARIABLE = /\$\{([^}]*)\}/g;
const KEY_WITH_DEFAULT = /^([^,\s'{}$]+)(?:,\s*'([^']*)')?$/;

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

/**
 * The first syntax problem of the policy variables in `text` (IAM Access Analyzer's wording), or
 * undefined when every `${…}` is a well-formed variable or escape.
 *
 * @example variableProblem('home/${aws:username') // 'The policy variable is missing a closing curly brace. Add } after the variable text.'
 */
export function variableProblem(text: string): string | undefined {
  let at = text.indexOf('${');
  while (at >= 0) {
    const end = text.indexOf('}', at + 2);
    if (end < 0)
      return 'The policy variable is missing a closing curly brace. Add } after the variable text.';
    const inner = text.slice(at + 2, end);
    if (inner.trim() === '') {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: IAM's message quotes the ${ } syntax
      return 'Empty policy variable. Remove the ${ } variable structure or provide a variable within the structure.';
    }
    if (inner !== '*' && inner !== '?' && inner !== '$' && !KEY_WITH_DEFAULT.test(inner)) {
      const comma = inner.indexOf(',');
      const name = comma < 0 ? inner : inner.slice(0, comma);
      if (/\s/.test(name))
        return 'A space is not supported within the policy variable text. Remove the space.';
      return 'The policy variable default value must begin and end with a single quote. Add the missing quote.';
    }
    at = text.indexOf('${', end + 1);
  }
  return undefined;
}
