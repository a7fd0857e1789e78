import { describe, expect, it } from 'vitest';
import { planAuditQuery, validatePosition } from '../../../lib/audit/dynamo-audit-query';
import type { AuditDigest } from '../../../lib/domain/audit-chain';
import {
  type AuditFilters,
  decodeCursor,
  encodeCursor,
  parseAuditQuery,
} from '../../../lib/domain/audit-query';
import { InvalidRequestError } from '../../../lib/domain/errors';
import type { PersonCaller } from '../../../lib/domain/types';
import { keys } from '../../../lib/dynamodb/keys';
import type { AuditReader } from '../../../lib/ports';
import { NotAnAuditorError, queryAudit } from '../../../lib/usecases/audit-query';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const CI = 'arn:aws:iam::111122223333:role/CICDDeployRole';

describe('parsing GET /v1/audit filters', () => {
  it('defaults to the last 7 days and 100 records', () => {
    const q = parseAuditQuery({}, NOW);
    expect(q).toEqual({
      filters: { since: '2026-11-22T12:00:00.000Z', until: '2026-11-29T12:00:00.000Z' },
      limit: 100,
      position: { partition: 0 },
    });
  });

  it('normalises times to UTC milliseconds and keeps every filter', () => {
    const q = parseAuditQuery(
      {
        since: '2026-11-29T10:00:00+01:00',
        until: '2026-11-30',
        caller: CI,
        entitlement: 'prod-readonly',
        decision: 'request_approved',
        requestId: 'req-1',
        limit: '5',
      },
      NOW,
    );
    expect(q.filters).toEqual({
      since: '2026-11-29T09:00:00.000Z',
      until: '2026-11-30T00:00:00.000Z',
      caller: CI,
      entitlement: 'prod-readonly',
      decision: 'request_approved',
      requestId: 'req-1',
    });
    expect(q.limit).toBe(5);
  });

  it('takes the request-path decisions, hyphens included (break-glass, review-signed-off)', () => {
    expect(parseAuditQuery({ decision: 'break-glass' }, NOW).filters.decision).toBe('break-glass');
    expect(parseAuditQuery({ decision: 'review-signed-off' }, NOW).filters.decision).toBe(
      'review-signed-off',
    );
  });

  it.each([
    [{ since: 'yesterday' }, /since/],
    [{ until: '2026-13-45T00:00:00Z' }, /until/],
    [{ since: '2026-11-29T10:00:00Z', until: '2026-11-29T09:00:00Z' }, /since must not be after until/],
    [{ since: '2024-01-01T00:00:00Z' }, /366 days/],
    [{ entitlement: 'Prod Admin' }, /entitlement/],
    [{ decision: 'DROP TABLE' }, /decision/],
    [{ requestId: 'a b' }, /requestId/],
    [{ limit: '0' }, /limit/],
    [{ limit: '501' }, /limit/],
    [{ table: 'x' }, /unknown query parameter "table"/],
  ])('refuses %j with 400 invalid_request', (params, message) => {
    expect(() => parseAuditQuery(params as Record<string, string>, NOW)).toThrow(InvalidRequestError);
    expect(() => parseAuditQuery(params as Record<string, string>, NOW)).toThrow(message);
  });
});

describe('planning a read without a scan', () => {
  const base: AuditFilters = { since: '2026-11-27T23:00:00.000Z', until: '2026-11-29T01:00:00.000Z' };

  it('reads day partitions newest first when no caller or entitlement is given', () => {
    const plan = planAuditQuery({ ...base, decision: 'denied' });
    expect(plan).toMatchObject({
      index: 'base',
      partitions: ['AUDIT#2026-11-29', 'AUDIT#2026-11-28', 'AUDIT#2026-11-27'],
      lower: '2026-11-27T23:00:00.000Z#',
      upper: '2026-11-29T01:00:00.000Z#~',
      where: { decision: 'denied' },
    });
  });

  it('uses gsi1 for a caller (entitlement becomes a filter) and gsi2 for an entitlement', () => {
    expect(planAuditQuery({ ...base, caller: CI, entitlement: 'prod-readonly' })).toMatchObject({
      index: 'gsi1',
      partitions: [keys.auditCaller(CI)],
      where: { entitlement: 'prod-readonly' },
    });
    expect(planAuditQuery({ ...base, entitlement: 'prod-readonly', requestId: 'r' })).toMatchObject({
      index: 'gsi2',
      partitions: [keys.auditEntitlement('prod-readonly')],
      where: { requestId: 'r' },
    });
  });
});

describe('the cursor', () => {
  const filters: AuditFilters = {
    since: '2026-11-28T00:00:00.000Z',
    until: '2026-11-29T12:00:00.000Z',
    decision: 'issued',
  };
  const startKey = { pk: 'AUDIT#2026-11-29', sk: '2026-11-29T10:00:00.000Z#01JAAAAAAAAAAAAAAAAAAAAAAA' };

  it('round-trips and resumes the same query without repeating the filters', () => {
    const cursor = encodeCursor(filters, { partition: 0, startKey });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ filters, position: { partition: 0, startKey } });
    expect(parseAuditQuery({ cursor, limit: '10' }, NOW)).toEqual({
      filters,
      limit: 10,
      position: { partition: 0, startKey },
    });
  });

  it('refuses a cursor with one character changed', () => {
    const cursor = encodeCursor(filters, { partition: 0, startKey });
    const i = 30;
    const flipped = cursor.slice(0, i) + (cursor[i] === 'A' ? 'B' : 'A') + cursor.slice(i + 1);
    expect(() => parseAuditQuery({ cursor: flipped }, NOW)).toThrow(InvalidRequestError);
  });

  it('refuses a re-encoded cursor whose key leaves the filters’ bounds, even with a valid checksum', () => {
    const outside = encodeCursor(filters, {
      partition: 0,
      startKey: { pk: 'AUDIT#2026-11-29', sk: '2026-11-30T10:00:00.000Z#x' },
    });
    const foreignPartition = encodeCursor(filters, {
      partition: 0,
      startKey: { pk: 'AUDIT_DIGEST', sk: '2026-11-29T10:00:00.000Z' },
    });
    const tooFar = encodeCursor(filters, { partition: 9 });
    const extraAttribute = encodeCursor(filters, { partition: 0, startKey: { ...startKey, gsi1pk: 'x' } });
    for (const cursor of [outside, foreignPartition, tooFar, extraAttribute]) {
      // The checksum holds, so the domain lets it through; the store checks the position against its plan.
      const query = parseAuditQuery({ cursor }, NOW);
      expect(() => validatePosition(planAuditQuery(query.filters), query.position)).toThrow(
        /cursor is not valid/,
      );
    }
  });

  it('refuses a cursor sent with different filters, and garbage', () => {
    const cursor = encodeCursor(filters, { partition: 0 });
    expect(() => parseAuditQuery({ cursor, decision: 'denied' }, NOW)).toThrow(/another query/);
    expect(() => parseAuditQuery({ cursor: 'not a cursor!' }, NOW)).toThrow(InvalidRequestError);
    expect(() =>
      parseAuditQuery({ cursor: Buffer.from('{"b":"{}","c":"x"}').toString('base64url') }, NOW),
    ).toThrow(InvalidRequestError);
  });
});

describe('who may read', () => {
  const person = (groups: string[]): PersonCaller => ({
    kind: 'person',
    issuer: 'https://idp',
    subject: 's',
    groups,
  });
  const reader: Pick<AuditReader, 'page'> = {
    page: async () => ({ records: [], next: { partition: 1 } }),
  };
  const digests = { latest: async () => ({ intervalEnd: '2026-11-29T09:00:00.000Z' }) as AuditDigest };
  const read = queryAudit({ reader, digests, now: () => NOW, auditorsGroup: 'auditors' });

  it('an auditor gets a page, a cursor for the next one, and up to when the trail is sealed', async () => {
    const page = await read(person(['auditors']), {});
    expect(page.records).toEqual([]);
    expect(decodeCursor(page.cursor!).position).toEqual({ partition: 1 });
    expect(page.sealedThrough).toBe('2026-11-29T09:00:00.000Z');
  });

  it('says sealedThrough null before the first digest', async () => {
    const none = queryAudit({
      reader: { page: async () => ({ records: [] }) },
      digests: { latest: async () => undefined },
      now: () => NOW,
      auditorsGroup: 'auditors',
    });
    expect(await none(person(['auditors']), {})).toEqual({ records: [], sealedThrough: null });
  });

  it('anyone else is 403 not_entitled, before their parameters are looked at', async () => {
    await expect(read(person(['sre']), { since: 'garbage' })).rejects.toBeInstanceOf(NotAnAuditorError);
    await expect(read(person(['sre']), {})).rejects.toMatchObject({ code: 'not_entitled', status: 403 });
  });
});
