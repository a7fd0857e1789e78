/**
 * The rate limiter fails closed: when its counters cannot be written (an error, a throttle, a
 * timeout), vend answers 503 `upstream_unavailable` with `Retry-After`, hands out nothing, writes no
 * intent and never calls STS (the local STS's own count of AssumeRole requests stays put); the
 * trail says why; a use already taken from the caller's counter is given back; and vend works again
 * as soon as the table does.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { windowOf } from '../../lib/domain/rate-limit';
import { keys } from '../../lib/dynamodb/keys';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';
import { attr, type CallInput, clearFaults, failCalls, WAYS, type Way } from './inject';

// One instant for the whole file (the stack and the handlers read it): the counter this spec reads
// back must be the window the vends counted in, whatever minute the file runs across.
const frozen = new Date();
const stack = withStack({ now: () => frozen });
const CI = 'arn:aws:iam::111122223333:role/CICDDeployRole';

let clients: typeof import('../../lib/wiring/clients');
beforeAll(async () => {
  clients = await import('../../lib/wiring/clients');
});
afterEach(() => clearFaults(clients.dynamodb, clients.sts));

const limiterWrite = (pkPrefix: string) => (i: CallInput) =>
  (i.command === 'UpdateItemCommand' || i.command === 'UpdateCommand') &&
  String(i.TableName).endsWith('-limits') &&
  (attr(i.Key, 'pk') ?? '').startsWith(pkPrefix);

const assumeRoleCalls = () => stack.stack.store.stsRequests.get('AssumeRole') ?? 0;

async function vend() {
  const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
    entitlement: 'prod-readonly',
    durationSeconds: 900,
  });
  const text = await res.text();
  return { res, text, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** The ci caller's count of prod-readonly vends in the current window (the limits table, read directly). */
async function callerCount(): Promise<number> {
  const window = windowOf(frozen, 60);
  const out = await clients.dynamoDocuments.send(
    new GetCommand({
      TableName: process.env.VEND_LIMITS_TABLE,
      Key: keys.rateCounter(
        { kind: 'caller', callerId: CI, entitlement: 'prod-readonly' },
        window.start.toISOString(),
      ),
      ConsistentRead: true,
    }),
  );
  return Number(out.Item?.count ?? 0);
}

const CASES: [string, Way, string][] = WAYS.flatMap((way): [string, Way, string][] => [
  ['every counter write', way, 'RATE_'],
  ["the entitlement's counter (after the caller's was taken)", way, 'RATE_ENT#'],
]);

describe('rate limiter outage: vend fails closed', () => {
  it.each(CASES)(
    '%s fails (%s): 503, nothing vended, no STS call, the trail agrees, then recovers',
    async (_what, way, prefix) => {
      // Arrange
      const injected = failCalls(clients.dynamodb, 'dynamodb', limiterWrite(prefix), way);
      const stsBefore = assumeRoleCalls();
      const countBefore = await callerCount();

      // Act
      const { res, text, json } = await vend();

      // Assert: fail closed, with a retry hint and nothing secret.
      expect(injected.hits).toBeGreaterThan(0);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(json).toMatchObject({ status: 503, code: 'upstream_unavailable' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(text).not.toMatch(/ASIA|SecretAccessKey|SessionToken/);
      expect(assumeRoleCalls()).toBe(stsBefore);

      // The trail: one denial, no intent.
      clearFaults(clients.dynamodb);
      const trail = (await scanTable(clients.dynamodb)).filter(
        (r) => r.requestId === res.headers.get('x-request-id'),
      );
      expect(trail.map((r) => [r.decision, r.reasonCode])).toEqual([['denied', 'upstream_unavailable']]);
      // A use taken from the caller's counter before the failure was given back.
      expect(await callerCount()).toBe(countBefore);

      // And vend works again as soon as the table does.
      const again = await vend();
      expect(again.res.status).toBe(200);
      expect(assumeRoleCalls()).toBe(stsBefore + 1);
    },
  );
});
