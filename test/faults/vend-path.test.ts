/**
 * Fault matrix of the vend path: every external call (entitlement read, intent write, AssumeRole,
 * issued write) fails three ways (error, throttle, timeout), and each time vend must
 * - fail closed: a 503 with the right code, never credentials in the body;
 * - call STS only after the intent is written, and hand out nothing STS minted without the issued
 *   record (the minted AccessKeyId stays in the reconcile log line only);
 * - leave the audit trail saying exactly what happened to that request;
 * - work again as soon as the call does (the next vend is 200 with its issued record).
 */

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scanTable } from '../support/audit-table';
import { leakCanary } from '../support/leak-canary';
import { withStack } from '../support/stack';
import { type CallInput, calls, clearFaults, failCalls, WAYS, type Way } from './inject';

// A short STS deadline so three ways of failing STS take a second each, not five.
const stack = withStack({ handlerEnv: { VEND_STS_DEADLINE_MS: '600', VEND_STS_BASE_DELAY_MS: '10' } });
const canary = leakCanary();

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
let sts: typeof import('../../lib/wiring/clients').sts;
let stsCalls = 0;

beforeAll(async () => {
  ({ dynamodb, sts } = await import('../../lib/wiring/clients'));
  sts.middlewareStack.add(
    (next) => async (args) => {
      stsCalls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countStsCalls', priority: 'high' },
  );
});
afterEach(() => clearFaults(dynamodb, sts));

async function auditRecords(): Promise<Record<string, unknown>[]> {
  return scanTable(dynamodb);
}

async function vend() {
  const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
    entitlement: 'prod-readonly',
    durationSeconds: 900,
  });
  const text = await res.text();
  return { res, text, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

interface Row {
  call: string;
  client: 'dynamodb' | 'sts';
  match: (i: CallInput) => boolean;
  code: 'upstream_unavailable' | 'audit_unavailable';
  /** STS calls the failing vend makes: none before the intent is written. */
  sts: 'none' | 'some';
  /** The audit decisions the failing request leaves, sorted. */
  trail: string[];
}

const ROWS: Row[] = [
  {
    call: 'entitlement read',
    client: 'dynamodb',
    match: calls.entitlementRead,
    code: 'upstream_unavailable',
    sts: 'none',
    trail: ['denied'],
  },
  {
    call: 'intent write',
    client: 'dynamodb',
    match: calls.auditWrite('intent'),
    code: 'audit_unavailable',
    sts: 'none',
    trail: [],
  },
  {
    call: 'AssumeRole',
    client: 'sts',
    match: () => true,
    code: 'upstream_unavailable',
    sts: 'some',
    trail: ['denied', 'intent'],
  },
  {
    call: 'issued write',
    client: 'dynamodb',
    match: calls.auditWrite('issued'),
    code: 'audit_unavailable',
    sts: 'some',
    trail: ['intent'],
  },
];

const handed: { accessKeyId: string; auditId: string }[] = [];

describe('vend path: each external call fails three ways; vend fails closed and the trail agrees', () => {
  const matrix: [string, Way, Row][] = ROWS.flatMap((row) =>
    WAYS.map((way): [string, Way, Row] => [row.call, way, row]),
  );

  it.each(matrix)(
    '%s fails (%s): 503, no credentials, the trail agrees, then recovers',
    async (_call, way, row) => {
      // Arrange
      const injected = failCalls(row.client === 'sts' ? sts : dynamodb, row.client, row.match, way as Way);
      const stsBefore = stsCalls;

      // Act
      const { res, text, json } = await vend();

      // Assert: fail closed with the right status and code, nothing secret in the body.
      expect(injected.hits).toBeGreaterThan(0);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(json).toMatchObject({ status: 503, code: row.code });
      if (row.code === 'upstream_unavailable')
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(text).not.toMatch(/ASIA|SecretAccessKey|SessionToken/);
      if (row.sts === 'none') expect(stsCalls).toBe(stsBefore);
      else expect(stsCalls).toBeGreaterThan(stsBefore);

      // The trail of this request says what happened, and never "issued".
      clearFaults(dynamodb, sts);
      const requestId = res.headers.get('x-request-id');
      const trail = (await auditRecords()).filter((r) => r.requestId === requestId);
      expect(trail.map((r) => r.decision).sort()).toEqual(row.trail);
      for (const r of trail.filter((t) => t.decision === 'denied')) expect(r.reasonCode).toBe(row.code);
      if (row.call === 'issued write') {
        // STS minted a key; it left only in the reconcile line, next to the intent's audit id.
        const intent = trail[0]!;
        const line = canary.logs().find((l) => l.includes('reconcile') && l.includes(String(intent.auditId)));
        expect(line).toMatch(/"accessKeyId":"ASIA/);
      }

      // And vend works again as soon as the call does.
      const again = await vend();
      expect(again.res.status).toBe(200);
      const creds = (
        again.json as { credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } }
      ).credentials;
      canary.secret(creds.SecretAccessKey);
      canary.secret(creds.SessionToken);
      handed.push({ accessKeyId: creds.AccessKeyId, auditId: String(again.json.auditId) });
    },
  );

  it('every credentials answer of this file has its issued record, and every issued record its intent', async () => {
    const records = await auditRecords();
    const issued = records.filter((r) => r.decision === 'issued');
    expect(handed).toHaveLength(ROWS.length * WAYS.length);
    for (const h of handed) {
      expect(issued.find((r) => r.accessKeyId === h.accessKeyId)?.auditId).toBe(h.auditId);
    }
    for (const r of issued) {
      expect(records.some((x) => x.decision === 'intent' && x.auditId === r.auditId)).toBe(true);
    }
  });
});
