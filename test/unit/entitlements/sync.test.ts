/**
 * Diff and sync specs: the diff is per field and never shows an ExternalId; a dry run changes
 * nothing; apply writes one audit record per change before the change; deletions need prune.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import { parseEntitlement } from '../../../lib/domain/entitlement';
import type { Entitlement } from '../../../lib/domain/types';
import { diffEntitlements, formatChanges } from '../../../lib/entitlements';
import { PruneRequiredError, syncEntitlements } from '../../../lib/usecases/sync-entitlements';

const ent = (id: string, extra: Record<string, unknown> = {}): Entitlement =>
  parseEntitlement({
    id,
    roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
    externalId: `${id}-ext-secret-1`,
    principals: { roles: [], groups: ['sre'] },
    ...extra,
  });

function fakeTable(initial: Entitlement[]) {
  const rows = new Map(initial.map((e) => [e.id, structuredClone(e)]));
  const log: string[] = [];
  return {
    rows,
    log,
    list: async () => [...rows.values()],
    put: async (e: Entitlement) => {
      log.push(`put ${e.id}`);
      rows.set(e.id, e);
    },
    delete: async (id: string) => {
      log.push(`delete ${id}`);
      rows.delete(id);
    },
  };
}

function fakeAudit(log: string[]) {
  const records: AuditRecord[] = [];
  return {
    records,
    append: async (r: AuditRecord) => {
      log.push(`audit ${r.entitlement}`);
      records.push(r);
    },
  };
}

let n = 0;
const opts = (audit: ReturnType<typeof fakeAudit>, more: { apply?: boolean; prune?: boolean } = {}) => ({
  apply: more.apply ?? false,
  prune: more.prune ?? false,
  audit,
  actor: { id: 'arn:aws:iam::222233334444:role/vend-deployer', label: 'vend-deployer' },
  now: () => new Date('2026-11-29T10:00:00Z'),
  newId: () => `id-${++n}`,
  file: 'entitlements.yaml',
});

describe('diffEntitlements / formatChanges', () => {
  it('lists creations, per-field updates and deletions in id order', () => {
    const changes = diffEntitlements(
      [ent('a-new'), ent('b-same'), ent('c-changed', { maxDurationSeconds: 1800 })],
      [ent('b-same'), ent('c-changed'), ent('d-gone')],
    );
    expect(changes.map((c) => [c.kind, c.id])).toEqual([
      ['create', 'a-new'],
      ['update', 'c-changed'],
      ['delete', 'd-gone'],
    ]);
    const update = changes[1];
    expect(update?.kind === 'update' && update.fields).toEqual([
      'maxDurationSeconds',
      'defaultDurationSeconds',
    ]);
  });

  it('shows a changed ExternalId without either value', () => {
    const changes = diffEntitlements([ent('xx', { externalId: 'new-secret-value-9' })], [ent('xx')]);
    const text = formatChanges(changes, { prune: false });
    expect(text).toContain('externalId: changed (value not shown)');
    expect(text).not.toContain('new-secret-value-9');
    expect(text).not.toContain('xx-ext-secret-1');
    expect(formatChanges(diffEntitlements([ent('yy')], []), { prune: false })).not.toContain(
      'yy-ext-secret-1',
    );
  });

  it('says a deletion is kept without --prune', () => {
    expect(formatChanges(diffEntitlements([], [ent('old')]), { prune: false })).toMatch(
      /- old .*\[kept: deleting needs --prune\]/,
    );
  });

  it('ignores key order and defaults (file YAML vs stored item)', () => {
    const ceiling = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    };
    const reordered = {
      Statement: [{ Resource: '*', Action: 's3:GetObject', Effect: 'Allow' }],
      Version: '2012-10-17',
    };
    expect(diffEntitlements([ent('cc', { ceiling })], [ent('cc', { ceiling: reordered })])).toEqual([]);
  });

  it('carries a rateLimit change, set and removed, as a field of the diff', () => {
    const limited = ent('dd', { rateLimit: { perCaller: 5, perEntitlement: 30 } });
    const set = diffEntitlements([limited], [ent('dd')]);
    expect(set).toMatchObject([{ kind: 'update', id: 'dd', fields: ['rateLimit'] }]);
    expect(formatChanges(set, { prune: false })).toContain(
      '    rateLimit: (none) → {"perCaller":5,"perEntitlement":30}',
    );
    const removed = diffEntitlements([ent('dd')], [limited]);
    expect(removed).toMatchObject([{ kind: 'update', fields: ['rateLimit'] }]);
  });
});

describe('syncEntitlements', () => {
  it('changes nothing on a dry run', async () => {
    const table = fakeTable([ent('bb'), ent('cc')]);
    const audit = fakeAudit(table.log);
    const result = await syncEntitlements(
      [ent('aa'), ent('bb', { maxDurationSeconds: 900 })],
      table,
      opts(audit),
    );
    expect(result.changes.map((c) => c.kind)).toEqual(['create', 'update', 'delete']);
    expect(result.applied).toEqual([]);
    expect(table.log).toEqual([]);
    expect([...table.rows.keys()]).toEqual(['bb', 'cc']);
  });

  it('applies with one audit record per change, each written before its change', async () => {
    const table = fakeTable([ent('bb')]);
    const audit = fakeAudit(table.log);
    const result = await syncEntitlements(
      [ent('aa'), ent('bb', { maxDurationSeconds: 900 })],
      table,
      opts(audit, { apply: true }),
    );
    expect(table.log).toEqual(['audit aa', 'put aa', 'audit bb', 'put bb']);
    expect(table.rows.get('bb')?.maxDurationSeconds).toBe(900);
    expect(audit.records.map((r) => [r.decision, r.entitlement, r.auditId])).toEqual([
      ['entitlement-created', 'aa', result.auditId],
      ['entitlement-updated', 'bb', result.auditId],
    ]);
    expect(audit.records[1]?.reason).toBe(
      'vend entitlements sync entitlements.yaml: fields: maxDurationSeconds, defaultDurationSeconds',
    );
    expect(audit.records[0]?.caller).toEqual({
      id: 'arn:aws:iam::222233334444:role/vend-deployer',
      kind: 'service',
      label: 'vend-deployer',
    });
    expect(JSON.stringify(audit.records)).not.toMatch(/ext-secret/);
  });

  it('refuses the whole apply when deletions are pending without prune', async () => {
    const table = fakeTable([ent('keep'), ent('gone')]);
    const audit = fakeAudit(table.log);
    const attempt = syncEntitlements(
      [ent('keep', { maxDurationSeconds: 900 })],
      table,
      opts(audit, { apply: true }),
    );
    await expect(attempt).rejects.toThrow(PruneRequiredError);
    await expect(attempt).rejects.toThrow(/\(gone\).*--prune/);
    expect(table.log).toEqual([]);
  });

  it('deletes with prune, audited', async () => {
    const table = fakeTable([ent('gone')]);
    const audit = fakeAudit(table.log);
    await syncEntitlements([], table, opts(audit, { apply: true, prune: true }));
    expect(table.log).toEqual(['audit gone', 'delete gone']);
    expect(audit.records[0]?.decision).toBe('entitlement-deleted');
  });

  it('does not apply a change whose audit record could not be written', async () => {
    const table = fakeTable([]);
    const audit = {
      append: async () => {
        throw new Error('audit table down');
      },
    };
    await expect(
      syncEntitlements([ent('aa')], table, { ...opts(fakeAudit([])), audit, apply: true }),
    ).rejects.toThrow('audit table down');
    expect(table.rows.size).toBe(0);
  });
});
