/**
 * DynamoDB faults BEHIND the SDK's retry layer: the local AWS endpoint answers throttling over the
 * wire (infra/local/aws/faults.ts), so vend's real DynamoDB client deserializes the error, its
 * standard retry strategy classifies it, backs off and tries again (3 attempts, lib/wiring/clients.ts).
 * The SDK middleware faults of ./inject.ts sit in front of that layer and never exercise it.
 *
 * - Throttling that clears after k < 3 attempts, on each DynamoDB call of the vend path (entitlement
 *   read, intent write, issued write): the vend succeeds, the client reports k retries, the endpoint
 *   answered k throttles, and the trail holds exactly one intent and one issued record (a retried
 *   conditional put is not written twice).
 * - Throttling that never clears: on the entitlement read, 503 `upstream_unavailable` with
 *   `Retry-After` after all 3 attempts, no STS call, a `denied` record; on the intent write, 503
 *   `audit_unavailable`, no STS call, nothing recorded; on the issued write, 503 `audit_unavailable`,
 *   no credentials, the intent only, and the session STS issued (the emulator's own record) is an
 *   orphan `vend audit orphans` lists.
 * - An answer lost after the service acted (a socket timeout behind the retry layer,
 *   ./inject.ts `failBehindRetries`): an audit put that landed is retried, the retry finds the
 *   record already there, and the vend succeeds with one record (not a 409); an AssumeRole answer
 *   lost on every attempt ends in 503, and every session STS issued meanwhile is listed as an orphan.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoFaultCode, dynamoFaultsFor } from '../../infra/local/aws/faults';
import { issuedSessionsOf } from '../../infra/local/sts/issued';
import { DynamoAuditStore } from '../../lib/audit/dynamo-audit-store';
import { listOrphans } from '../../lib/usecases/audit-trail';
import { scanTable } from '../support/audit-table';
import { leaks } from '../support/leaks/scanner';
import { withStack } from '../support/stack';
import { attr, calls, failBehindRetries } from './inject';

// A short STS deadline (as in the fault matrix) so a failing STS costs ~0.6 s, not 5.
const stack = withStack({ handlerEnv: { VEND_STS_DEADLINE_MS: '600', VEND_STS_BASE_DELAY_MS: '10' } });
let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
let documents: typeof import('../../lib/wiring/clients').dynamoDocuments;
let sts: typeof import('../../lib/wiring/clients').sts;
let stsCalls = 0;
/** What vend's DynamoDB client reported per call, seen outside its retry layer. */
const attempts: { op: string; table: string; attempts: number; retryDelayMs: number; error?: string }[] = [];

beforeAll(async () => {
  ({ dynamodb, dynamoDocuments: documents, sts } = await import('../../lib/wiring/clients'));
  sts.middlewareStack.add(
    (next) => async (args) => {
      stsCalls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countStsCalls' },
  );
  // Outermost step: sees each call once, after all its attempts.
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      const table = String((args.input as { TableName?: string }).TableName ?? '');
      try {
        const out = await next(args);
        const m = (out.output as { $metadata?: { attempts?: number; totalRetryDelay?: number } }).$metadata;
        attempts.push({ op, table, attempts: m?.attempts ?? 1, retryDelayMs: m?.totalRetryDelay ?? 0 });
        return out;
      } catch (e) {
        const m = (e as { $metadata?: { attempts?: number; totalRetryDelay?: number } }).$metadata;
        attempts.push({
          op,
          table,
          attempts: m?.attempts ?? 1,
          retryDelayMs: m?.totalRetryDelay ?? 0,
          error: (e as Error).name,
        });
        throw e;
      }
    },
    { step: 'initialize', name: 'countAttempts', priority: 'high' },
  );
});
afterEach(() => dynamoFaultsFor(stack.awsUrl)?.clear());

const ENTITLEMENTS = 'vend-dev-entitlements';
const AUDIT = 'vend-dev-audit';

/** The vend path's DynamoDB calls, as the endpoint sees them on the wire. */
const CALLS = {
  'entitlement read': (op: string, body: Record<string, unknown>) =>
    op === 'GetItem' && body.TableName === ENTITLEMENTS,
  'intent write': (op: string, body: Record<string, unknown>) =>
    op === 'PutItem' && body.TableName === AUDIT && attr(body.Item, 'decision') === 'intent',
  'issued write': (op: string, body: Record<string, unknown>) =>
    op === 'PutItem' && body.TableName === AUDIT && attr(body.Item, 'decision') === 'issued',
};
type Call = keyof typeof CALLS;

async function vend() {
  const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
    entitlement: 'prod-readonly',
    durationSeconds: 900,
  });
  const json = (await res.json()) as {
    code?: string;
    auditId?: string;
    credentials?: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
  };
  if (json.credentials) leaks().issued(json.credentials);
  return { res, json, requestId: res.headers.get('x-request-id') };
}

async function trailOf(requestId: string | null) {
  return (await scanTable(dynamodb)).filter((r) => r.requestId === requestId);
}

/** The attempts vend's client reported for `call` during `act`. */
async function observed(call: Call, act: () => Promise<void>) {
  const from = attempts.length;
  await act();
  const table = call === 'entitlement read' ? ENTITLEMENTS : AUDIT;
  const op = call === 'entitlement read' ? 'GetItem' : 'PutItem';
  return attempts.slice(from).filter((a) => a.table === table && a.op === op);
}

describe('throttling that clears after k attempts: the SDK retries, vend succeeds', () => {
  const cases: [Call, DynamoFaultCode, number][] = [
    ['entitlement read', 'ThrottlingException', 1],
    ['entitlement read', 'ProvisionedThroughputExceededException', 2],
    ['intent write', 'ProvisionedThroughputExceededException', 1],
    ['intent write', 'ThrottlingException', 2],
    ['issued write', 'ThrottlingException', 1],
    ['issued write', 'ProvisionedThroughputExceededException', 2],
  ];

  it.each(cases)(
    '%s answered %s %i time(s): 200 after as many retries, one record each',
    async (call, code, k) => {
      // Arrange
      const fault = dynamoFaultsFor(stack.awsUrl)!.inject({ code, times: k, match: CALLS[call] });
      let out!: Awaited<ReturnType<typeof vend>>;

      // Act
      const seen = await observed(call, async () => {
        out = await vend();
      });

      // Assert: served, after k throttled attempts the endpoint answered and the client retried.
      expect(out.res.status).toBe(200);
      expect(out.json.credentials?.AccessKeyId).toMatch(/^ASIA/);
      expect(fault.hits).toBe(k);
      const retried = seen.find((a) => a.attempts > 1);
      expect(retried).toMatchObject({ attempts: k + 1 });
      expect(retried!.retryDelayMs).toBeGreaterThan(0);
      expect(retried!.error).toBeUndefined();
      // A retried put wrote once: one intent, one issued, for the credentials handed out.
      const trail = await trailOf(out.requestId);
      expect(trail.map((r) => r.decision).sort()).toEqual(['intent', 'issued']);
      expect(trail.find((r) => r.decision === 'issued')?.accessKeyId).toBe(out.json.credentials!.AccessKeyId);
    },
  );
});

describe('throttling that never clears: vend fails closed after the SDK gives up', () => {
  it('entitlement read: 503 upstream_unavailable with Retry-After after 3 attempts, no STS call, denied', async () => {
    const fault = dynamoFaultsFor(stack.awsUrl)!.inject({
      code: 'ProvisionedThroughputExceededException',
      times: Number.POSITIVE_INFINITY,
      match: CALLS['entitlement read'],
    });
    const stsBefore = stsCalls;
    let out!: Awaited<ReturnType<typeof vend>>;
    const seen = await observed('entitlement read', async () => {
      out = await vend();
    });

    expect(out.res.status).toBe(503);
    expect(out.json.code).toBe('upstream_unavailable');
    expect(Number(out.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(out.json.credentials).toBeUndefined();
    expect(fault.hits).toBe(3);
    expect(seen).toEqual([
      expect.objectContaining({ attempts: 3, error: 'ProvisionedThroughputExceededException' }),
    ]);
    expect(stsCalls).toBe(stsBefore);
    fault.clear();
    const trail = await trailOf(out.requestId);
    expect(trail.map((r) => [r.decision, r.reasonCode])).toEqual([['denied', 'upstream_unavailable']]);
  });

  it('intent write: 503 audit_unavailable after 3 attempts, no STS call, nothing recorded', async () => {
    const fault = dynamoFaultsFor(stack.awsUrl)!.inject({
      code: 'ThrottlingException',
      times: Number.POSITIVE_INFINITY,
      match: CALLS['intent write'],
    });
    const stsBefore = stsCalls;
    const out = await vend();

    expect(out.res.status).toBe(503);
    expect(out.json.code).toBe('audit_unavailable');
    expect(out.json.credentials).toBeUndefined();
    expect(fault.hits).toBe(3);
    expect(stsCalls).toBe(stsBefore);
    fault.clear();
    expect(await trailOf(out.requestId)).toEqual([]);
  });

  it('issued write: 503 audit_unavailable, no credentials; the session STS issued is an orphan of its intent', async () => {
    const fault = dynamoFaultsFor(stack.awsUrl)!.inject({
      code: 'ProvisionedThroughputExceededException',
      times: Number.POSITIVE_INFINITY,
      match: CALLS['issued write'],
    });
    const sessions = issuedSessionsOf(stack.stack.store);
    const before = sessions.list().length;
    const stsBefore = stsCalls;
    const out = await vend();

    expect(out.res.status).toBe(503);
    expect(out.json.code).toBe('audit_unavailable');
    expect(out.json.credentials).toBeUndefined();
    expect(fault.hits).toBe(3);
    expect(stsCalls).toBe(stsBefore + 1);
    fault.clear();

    // STS's own record has the session; vend's trail has its intent and no issued record.
    const minted = sessions.list().slice(before);
    expect(minted).toHaveLength(1);
    const auditId = minted[0]!.sessionTags['vend:audit-id'];
    const trail = await trailOf(out.requestId);
    expect(trail.map((r) => [r.decision, r.auditId])).toEqual([['intent', auditId]]);
    // …so the orphan listing names it, for CloudTrail reconciliation.
    const orphans = await listOrphans(
      { records: new DynamoAuditStore(documents, AUDIT), now: () => new Date() },
      { since: new Date(Date.now() - 600_000), settleSeconds: 0 },
    );
    expect(orphans.map((o) => o.auditId)).toContain(auditId);
  });
});

describe('an answer lost after the service acted', () => {
  it.each(['intent', 'issued'] as const)(
    '%s put landed, its answer lost: the SDK retry finds it written; 200 with one record each',
    async (decision) => {
      const fault = failBehindRetries(dynamodb, 'dynamodb', calls.auditWrite(decision), 'response lost', 1);
      let out!: Awaited<ReturnType<typeof vend>>;
      const seen = await observed(`${decision} write`, async () => {
        out = await vend();
      });
      fault.clear();

      // The put's retry failed its condition (the first attempt had written the record)…
      expect(fault.hits).toBe(1);
      expect(seen).toContainEqual(
        expect.objectContaining({ attempts: 2, error: 'ConditionalCheckFailedException' }),
      );
      // …and the store recognised its own record: the vend went on.
      expect(out.res.status).toBe(200);
      const trail = await trailOf(out.requestId);
      expect(trail.map((r) => r.decision).sort()).toEqual(['intent', 'issued']);
      expect(trail.find((r) => r.decision === 'issued')?.accessKeyId).toBe(out.json.credentials!.AccessKeyId);
    },
  );

  it('every AssumeRole answer lost: 503 upstream_unavailable; each session STS issued is an orphan', async () => {
    const sessions = issuedSessionsOf(stack.stack.store);
    const before = sessions.list().length;
    const fault = failBehindRetries(
      sts,
      'sts',
      (i) => i.command === 'AssumeRoleCommand',
      'response lost',
      1000,
    );
    const out = await vend();
    fault.clear();

    expect(out.res.status).toBe(503);
    expect(out.json.code).toBe('upstream_unavailable');
    expect(out.json.credentials).toBeUndefined();
    const minted = sessions.list().slice(before);
    expect(minted.length).toBe(fault.hits);
    expect(minted.length).toBeGreaterThan(0);
    const auditId = minted[0]!.sessionTags['vend:audit-id'];
    expect(new Set(minted.map((s) => s.sessionTags['vend:audit-id']))).toEqual(new Set([auditId]));
    const trail = await trailOf(out.requestId);
    expect(trail.map((r) => r.decision).sort()).toEqual(['denied', 'intent']);
    // The denial does not prove STS issued nothing, so the reconciliation lists the intent.
    const orphans = await listOrphans(
      { records: new DynamoAuditStore(documents, AUDIT), now: () => new Date() },
      { since: new Date(Date.now() - 600_000), settleSeconds: 0 },
    );
    expect(orphans.map((o) => o.auditId)).toContain(auditId);
  });
});
