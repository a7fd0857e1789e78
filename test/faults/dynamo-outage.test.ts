/**
 * DynamoDB goes away under load and comes back: vends keep arriving from several clients while
 * the local endpoint drops every DynamoDB connection (as a killed process would; dynalite's data
 * is kept, see infra/local/aws/endpoint.ts `dynamoOutageFor`), then serves again. Each phase lasts
 * until enough vends were sent and answered within it, so a slow machine stretches the run instead
 * of failing it.
 * - while it is down every vend answers 503 (never a 500, never credentials);
 * - once it is back every vend answers 200;
 * - no credentials were returned without their `issued` audit record, before, during or after.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoOutageFor } from '../../infra/local/aws/endpoint';
import { issuedKeys, scanTable } from '../support/audit-table';
import { leaks } from '../support/leaks/scanner';
import { withStack } from '../support/stack';

const stack = withStack();
let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});

type Phase = 'up' | 'down' | 'back';
interface Shot {
  sentIn: Phase;
  doneIn: Phase;
  status: number;
  code?: string;
  accessKeyId?: string;
  auditId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DynamoDB killed under load and restarted', () => {
  it('503 while it is down, 200 once it is back, and every credential has its issued record', async () => {
    // Arrange
    const outage = dynamoOutageFor(stack.awsUrl);
    expect(outage?.running).toBe(true);
    let phase: Phase = 'up';
    let stop = false;
    const shots: Shot[] = [];
    const worker = async () => {
      while (!stop) {
        const sentIn = phase;
        const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
          entitlement: 'prod-readonly',
        });
        const json = (await res.json()) as {
          code?: string;
          auditId?: string;
          credentials?: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
        };
        if (json.credentials) leaks().issued(json.credentials);
        shots.push({
          sentIn,
          doneIn: phase,
          status: res.status,
          ...(json.code ? { code: json.code } : {}),
          ...(json.credentials ? { accessKeyId: json.credentials.AccessKeyId, auditId: json.auditId } : {}),
        });
      }
    };

    // Act: load from four clients; kill DynamoDB; restart it. Each phase lasts until enough vends
    // were sent and answered within it (not a fixed time: a loaded machine only makes it longer).
    const within = (p: Phase) => shots.filter((s) => s.sentIn === p && s.doneIn === p);
    const until = async (enough: () => boolean) => {
      for (let waited = 0; !enough() && waited < 30_000; waited += 50) await sleep(50);
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    await until(() => within('up').length > 5);
    outage!.stop();
    phase = 'down';
    await until(() => within('down').length > 3);
    outage!.start();
    phase = 'back';
    await until(() => within('back').length > 5);
    stop = true;
    await load;

    // Assert
    expect(within('up').length).toBeGreaterThan(5);
    expect(within('up').every((s) => s.status === 200)).toBe(true);
    const down = within('down');
    expect(down.length).toBeGreaterThan(3);
    for (const s of down) {
      expect(s.status).toBe(503);
      expect(['upstream_unavailable', 'audit_unavailable']).toContain(s.code);
      expect(s.accessKeyId).toBeUndefined();
    }
    const back = within('back');
    expect(back.length).toBeGreaterThan(5);
    expect(back.map((s) => s.status)).toEqual(back.map(() => 200));
    // Requests that straddled a switch may go either way, but never a 5xx other than 503.
    for (const s of shots) expect([200, 503]).toContain(s.status);

    const issued = issuedKeys(await scanTable(dynamodb));
    const handed = shots.filter((s) => s.accessKeyId);
    expect(handed.length).toBe(shots.filter((s) => s.status === 200).length);
    for (const s of handed) expect(issued.get(s.accessKeyId!)).toBe(s.auditId);
    console.info(
      `outage: ${within('up').length} vends up, ${down.length} while down (all 503), ${back.length} after restart (all 200), ${shots.length - within('up').length - down.length - back.length} straddling`,
    );
  }, 120_000);
});
