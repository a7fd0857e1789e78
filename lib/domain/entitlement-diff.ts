/**
 * The difference between the entitlements a file wants and those the table holds, per id and per
 * field, and its text form. The ExternalId takes part in the comparison but never in the text:
 * a change shows as "externalId changed (value not shown)". Pure: `vend entitlements validate` and
 * sync (lib/usecases/sync-entitlements.ts) show it, the local stack's seeding uses it.
 */
import { ENTITLEMENT_KEYS } from './entitlement';
import type { Entitlement } from './types';

/** One change to the table. */
export type Change =
  | { kind: 'create'; id: string; after: Entitlement }
  | { kind: 'update'; id: string; before: Entitlement; after: Entitlement; fields: (keyof Entitlement)[] }
  | { kind: 'delete'; id: string; before: Entitlement };

// Every field but the id (the id is what a change is about), as the domain defines them.
const FIELDS: readonly (keyof Entitlement)[] = ENTITLEMENT_KEYS.filter((k) => k !== 'id');

/** JSON with sorted keys, so key order (YAML vs DynamoDB) is not a difference. */
function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/**
 * The changes that turn `current` into `desired`, ordered by id.
 *
 * @example
 * diffEntitlements([readonly1800], [readonly3600]);
 * // [{ kind: 'update', id: 'prod-readonly', fields: ['maxDurationSeconds', 'defaultDurationSeconds'], … }]
 */
export function diffEntitlements(desired: readonly Entitlement[], current: readonly Entitlement[]): Change[] {
  const now = new Map(current.map((e) => [e.id, e]));
  const want = new Map(desired.map((e) => [e.id, e]));
  const changes: Change[] = [];
  for (const id of [...new Set([...want.keys(), ...now.keys()])].sort()) {
    const after = want.get(id);
    const before = now.get(id);
    if (after && !before) changes.push({ kind: 'create', id, after });
    else if (!after && before) changes.push({ kind: 'delete', id, before });
    else if (after && before) {
      const fields = FIELDS.filter((f) => canonical(before[f]) !== canonical(after[f]));
      if (fields.length > 0) changes.push({ kind: 'update', id, before, after, fields });
    }
  }
  return changes;
}

function show(field: keyof Entitlement, value: unknown): string {
  if (field === 'externalId') return value === undefined ? '(none)' : '(set)';
  if (value === undefined) return '(none)';
  const text = canonical(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/**
 * The diff as text, one entitlement per block: `+` create, `~` update (field by field), `-` delete
 * (with a note when `prune` is off, because sync will not delete then).
 *
 * @example formatChanges(changes, { prune: false }) // '~ prod-readonly\n    maxDurationSeconds: 3600 → 1800\n'
 */
export function formatChanges(changes: readonly Change[], opts: { prune: boolean }): string {
  if (changes.length === 0) return 'no changes: the table matches the file\n';
  const lines: string[] = [];
  for (const c of changes) {
    if (c.kind === 'create') {
      lines.push(`+ ${c.id}  (${c.after.roleArn})`);
      for (const f of FIELDS) {
        if (c.after[f] !== undefined) lines.push(`    ${f}: ${show(f, c.after[f])}`);
      }
    } else if (c.kind === 'delete') {
      lines.push(`- ${c.id}  (${c.before.roleArn})${opts.prune ? '' : '  [kept: deleting needs --prune]'}`);
    } else {
      lines.push(`~ ${c.id}`);
      for (const f of c.fields) {
        lines.push(
          f === 'externalId'
            ? '    externalId: changed (value not shown)'
            : `    ${f}: ${show(f, c.before[f])} → ${show(f, c.after[f])}`,
        );
      }
    }
  }
  const count = (k: Change['kind']) => changes.filter((c) => c.kind === k).length;
  lines.push(`${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete`);
  return `${lines.join('\n')}\n`;
}
