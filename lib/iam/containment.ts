/**
 * Does a requested session policy stay inside an entitlement's ceiling? Used by vend on every vend
 * with a scope-down policy. The algorithm and its conservative corners are described in
 * docs/iam-evaluator.md ("Containment").
 */
import type { ContainmentResult, Policy, Statement } from './types';
import { hasVariables } from './variables';
import { globIncludes, type PatternPart, parseGlob, STAR } from './wildcard';

const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * Parts of a pattern for inclusion tests. On the requested side a policy variable may become any
 * text, so it is widened to `*` (sound). On the ceiling side it may become something narrow, so the
 * pattern is unusable (undefined) and only an identical requested string counts as covered.
 */
function inclusionParts(
  text: string,
  substitute: boolean,
  side: 'requested' | 'ceiling',
): PatternPart[] | undefined {
  if (!substitute || !hasVariables(text)) return parseGlob(text);
  const parts: PatternPart[] = [];
  let last = 0;
  for (const m of text.matchAll(VARIABLE)) {
    parts.push(...parseGlob(text.slice(last, m.index)));
    last = m.index + m[0].length;
    const inner = (m[1] ?? '').trim();
    if (inner === '*' || inner === '?' || inner === '$') parts.push(inner);
    else if (side === 'requested') parts.push(STAR);
    else return undefined;
  }
  parts.push(...parseGlob(text.slice(last)));
  return parts;
}

interface Pattern {
  raw: string;
  parts?: PatternPart[];
}

interface CeilingStatement {
  stmt: Statement;
  actions: Pattern[];
  resources: Pattern[];
  substitute: boolean;
}

function covers(outer: Pattern, inner: Pattern, ignoreCase: boolean, sameVariables: boolean): boolean {
  if (!outer.parts) return sameVariables && outer.raw === inner.raw;
  return inner.parts !== undefined && globIncludes(inner.parts, outer.parts, ignoreCase);
}

/** Every ceiling condition entry must appear, with the same values, in the requested statement. */
function carriesConditions(requested: Statement, ceiling: Statement): boolean {
  for (const [op, entries] of Object.entries(ceiling.condition ?? {})) {
    const mine = requested.condition?.[op];
    if (!mine) return false;
    const lowered = new Map(Object.entries(mine).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [key, values] of Object.entries(entries)) {
      const got = lowered.get(key.toLowerCase());
      if (!got) return false;
      const a = new Set(got);
      const b = new Set(values);
      if (a.size !== b.size || [...b].some((v) => !a.has(v))) return false;
    }
  }
  return true;
}

const label = (s: Statement) => `Statement[${s.index}]${s.sid ? ` (Sid "${s.sid}")` : ''}`;

/**
 * Checks that `requested` grants nothing outside `ceiling`: each (action, resource) pair of each
 * requested Allow must fall inside the action AND resource patterns of one ceiling Allow statement
 * (pattern inclusion, so `s3:Get*` fits in `s3:*` but `*` does not). Requested Deny statements
 * always fit. Ceiling Deny statements are not consulted: vend sends requested ∪ ceiling denies.
 *
 * @example
 * checkContainment(parsePolicy(req, 'session'), parsePolicy(ceil, 'session'))
 * // { ok: false, statement: 0, action: 's3:PutObject', message: 'Statement[0]: action s3:PutObject is outside the entitlement\'s ceiling' }
 */
export function checkContainment(requested: Policy, ceiling: Policy): ContainmentResult {
  const ceilingSubstitutes = ceiling.version === '2012-10-17';
  const requestedSubstitutes = requested.version === '2012-10-17';
  const sameVariables = ceilingSubstitutes && requestedSubstitutes;
  // Ceiling Allows with NotAction / NotResource would need pattern-complement reasoning; they are
  // conservatively ignored (they never cover anything).
  const ceil: CeilingStatement[] = ceiling.statements
    .filter((s) => s.effect === 'Allow' && s.action && !s.notAction && !s.notResource)
    .map((stmt) => ({
      stmt,
      substitute: ceilingSubstitutes,
      actions: (stmt.action ?? []).map((raw) => ({ raw, parts: parseGlob(raw) })),
      resources: (stmt.resource ?? ['*']).map((raw) => ({
        raw,
        parts: inclusionParts(raw, ceilingSubstitutes, 'ceiling'),
      })),
    }));

  for (const stmt of requested.statements) {
    if (stmt.effect === 'Deny') continue;
    const fail = (detail: { action?: string; resource?: string }, text: string): ContainmentResult => ({
      ok: false,
      statement: stmt.index,
      ...(stmt.sid !== undefined ? { sid: stmt.sid } : {}),
      ...detail,
      message: `${label(stmt)}: ${text}`,
    });
    // NotAction / NotResource grant "everything except …": widened to `*`, which only `*` covers.
    const actions: Pattern[] = stmt.notAction
      ? [{ raw: 'NotAction', parts: [STAR] }]
      : (stmt.action ?? []).map((raw) => ({ raw, parts: parseGlob(raw) }));
    const resources: Pattern[] = stmt.notResource
      ? [{ raw: 'NotResource', parts: [STAR] }]
      : (stmt.resource ?? ['*']).map((raw) => ({
          raw,
          parts: inclusionParts(raw, requestedSubstitutes, 'requested'),
        }));
    const outside = "is outside the entitlement's ceiling";

    for (const a of actions) {
      if (!ceil.some((c) => c.actions.some((o) => covers(o, a, true, false)))) {
        return stmt.notAction
          ? fail({}, `NotAction ${outside} (only a ceiling allowing "*" covers it)`)
          : fail({ action: a.raw }, `action ${a.raw} ${outside}`);
      }
    }
    for (const r of resources) {
      if (!ceil.some((c) => c.resources.some((o) => covers(o, r, false, sameVariables)))) {
        return stmt.notResource
          ? fail({}, `NotResource ${outside} (only a ceiling allowing "*" covers it)`)
          : fail({ resource: r.raw }, `resource ${r.raw} ${outside}`);
      }
    }
    for (const a of actions) {
      for (const r of resources) {
        const byPattern = ceil.filter(
          (c) =>
            c.actions.some((o) => covers(o, a, true, false)) &&
            c.resources.some((o) => covers(o, r, false, sameVariables)),
        );
        if (byPattern.some((c) => carriesConditions(stmt, c.stmt))) continue;
        const hint =
          byPattern.length > 0
            ? ' (the ceiling only allows it under a Condition the requested statement lacks)'
            : '';
        return fail(
          { action: a.raw, resource: r.raw },
          `action ${a.raw} on resource ${r.raw} ${outside}${hint}`,
        );
      }
    }
  }
  return { ok: true };
}
