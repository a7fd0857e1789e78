/**
 * Rate limits through the gateway, against the local stack (docs/rate-limits.md): a burst from one
 * caller past its limit is answered 429 `rate_limited` with `Retry-After` while another caller is
 * still served; an entitlement's own limit holds across callers; every limited call is audited as a
 * denial and none reaches STS (the local STS's own count of AssumeRole requests); a window frees on
 * the clock; opening requests is limited per person, and break-glass is not.
 *
 * The stack runs on a clock this spec holds (`startStack({ now })`, which the handlers read through
 * lib/clock.ts): each case starts 1 s into a fresh window and moves time itself, so nothing depends on
 * how fast the machine is, and nothing sleeps.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { LOCAL_SLACK_CHANNELS, REPO_ROOT } from '../../infra/local/stack';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';

const WINDOW_SECONDS = 10;
const PER_CALLER = 3;
const REQUESTS_PER_PERSON = 2;
const STAGING_PER_ENTITLEMENT = 2;

// The demo entitlements, with one own limit: staging-deploy admits 2 vends per window, all callers together.
const entitlementsFile = (() => {
  const doc = parse(readFileSync(join(REPO_ROOT, 'infra/local/entitlements.yaml'), 'utf8')) as {
    entitlements: { id: string; rateLimit?: unknown }[];
  };
  const staging = doc.entitlements.find((e) => e.id === 'staging-deploy');
  if (!staging) throw new Error('the demo world has no staging-deploy');
  staging.rateLimit = { perEntitlement: STAGING_PER_ENTITLEMENT };
  const file = join(mkdtempSync(join(tmpdir(), 'vend-rate-limits-')), 'entitlements.yaml');
  writeFileSync(file, stringify(doc));
  return file;
})();

// The stack's clock: held still, moved only by the spec.
let frozen = Date.now();
const stackClock = () => new Date(frozen);
/** Moves the clock 1 s into the next window (never backwards; within a window of real time). */
function freshWindow(): void {
  const length = WINDOW_SECONDS * 1000;
  const from = Math.max(frozen, Date.now());
  frozen = (Math.floor(from / length) + 1) * length + 1000;
}

const stack = withStack({
  now: stackClock,
  entitlementsFile,
  handlerEnv: {
    VEND_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
    VEND_RATE_LIMIT_PER_CALLER: String(PER_CALLER),
    VEND_RATE_LIMIT_PER_ENTITLEMENT: '1000',
    VEND_RATE_LIMIT_REQUESTS_PER_CALLER: String(REQUESTS_PER_PERSON),
  },
});

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});

interface Answer {
  status: number;
  retryAfter: string | null;
  contentType: string | null;
  text: string;
  json: Record<string, unknown>;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    contentType: res.headers.get('content-type'),
    text,
    json: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

const serviceVend = async (entitlement: string) =>
  answer(
    await stack.signedFetch('ci', 'POST', '/v1/service/credentials', { entitlement, durationSeconds: 900 }),
  );

async function asPerson(user: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return answer(
    await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await stack.token(user)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}

const personVend = (user: string, entitlement: string) =>
  asPerson(user, 'POST', '/v1/credentials', { entitlement, durationSeconds: 900 });

/** AssumeRole requests the local STS received so far (its own count, whatever their outcome). */
const assumeRoleCalls = () => stack.stack.store.stsRequests.get('AssumeRole') ?? 0;

/** The denied audit records of these gateway request ids. */
async function deniedFor(requestIds: readonly unknown[]): Promise<Record<string, unknown>[]> {
  const records = await scanTable(dynamodb);
  return records.filter((r) => r.decision === 'denied' && requestIds.includes(r.requestId));
}

function expectRateLimited(a: Answer, retryAfter: number): void {
  expect(a.status).toBe(429);
  expect(a.contentType).toContain('application/problem+json');
  expect(a.json).toMatchObject({ status: 429, code: 'rate_limited' });
  expect(a.retryAfter).toBe(String(retryAfter));
  expect(a.text).not.toMatch(/ASIA|SecretAccessKey|SessionToken/);
}

describe('a burst from one caller', () => {
  it(`gets ${PER_CALLER} vends, then 429 with Retry-After; another caller is still served; no 429 reached STS`, async () => {
    // Arrange
    freshWindow();
    const stsBefore = assumeRoleCalls();

    // Act: 8 vends at once as ci, then one as alice in the same window.
    const burst = await Promise.all(Array.from({ length: 8 }, () => serviceVend('prod-readonly')));
    const other = await personVend('alice', 'prod-readonly');

    // Assert: exactly the limit was served, whatever the order the writes raced in.
    const served = burst.filter((a) => a.status === 200);
    const limited = burst.filter((a) => a.status !== 200);
    expect(served).toHaveLength(PER_CALLER);
    expect(limited).toHaveLength(8 - PER_CALLER);
    for (const a of limited) {
      expectRateLimited(a, WINDOW_SECONDS - 1);
      expect(String(a.json.detail)).toContain(
        `"prod-readonly" by this caller: the limit is ${PER_CALLER} per`,
      );
    }
    expect(other.status).toBe(200);
    expect(assumeRoleCalls() - stsBefore).toBe(PER_CALLER + 1);

    // Every limited call is audited as a denial, naming the caller and the entitlement.
    const denied = await deniedFor(limited.map((a) => a.json.requestId));
    expect(denied).toHaveLength(limited.length);
    for (const r of denied) {
      expect(r).toMatchObject({
        reasonCode: 'rate_limited',
        entitlement: 'prod-readonly',
        caller: { id: 'arn:aws:iam::111122223333:role/CICDDeployRole' },
      });
    }
    // …and left no intent: nothing was prepared for STS.
    const trail = await scanTable(dynamodb);
    const limitedAudit = new Set(denied.map((r) => r.auditId));
    expect(trail.filter((r) => r.decision === 'intent' && limitedAudit.has(r.auditId))).toEqual([]);
  });
});

describe("an entitlement's own limit", () => {
  it('holds across callers: the third vend of staging-deploy in a window is refused to whoever asks', async () => {
    freshWindow();
    const stsBefore = assumeRoleCalls();

    const first = await serviceVend('staging-deploy');
    const second = await personVend('alice', 'staging-deploy');
    const third = await serviceVend('staging-deploy');
    const fourth = await personVend('alice', 'staging-deploy');

    expect([first.status, second.status]).toEqual([200, 200]);
    for (const a of [third, fourth]) {
      expectRateLimited(a, WINDOW_SECONDS - 1);
      expect(String(a.json.detail)).toContain(
        `"staging-deploy" by all its callers together: the limit is ${STAGING_PER_ENTITLEMENT} per`,
      );
    }
    expect(assumeRoleCalls() - stsBefore).toBe(2);
    const denied = await deniedFor([third.json.requestId, fourth.json.requestId]);
    expect(denied.map((r) => r.reasonCode)).toEqual(['rate_limited', 'rate_limited']);
  });
});

describe('the window', () => {
  it('frees on the clock: Retry-After counts down to it, and the first call after it is served', async () => {
    freshWindow();
    for (let i = 0; i < PER_CALLER; i++) expect((await serviceVend('prod-s3-read')).status).toBe(200);
    const stsBefore = assumeRoleCalls();

    const full = await serviceVend('prod-s3-read');
    frozen += (WINDOW_SECONDS - 2) * 1000; // 1 s before the window ends
    const almost = await serviceVend('prod-s3-read');
    frozen += 1000; // the next window starts
    const next = await serviceVend('prod-s3-read');

    expectRateLimited(full, WINDOW_SECONDS - 1);
    expectRateLimited(almost, 1);
    expect(next.status).toBe(200);
    expect(String((next.json.credentials as Record<string, unknown>).AccessKeyId)).toMatch(/^ASIA/);
    expect(assumeRoleCalls() - stsBefore).toBe(1);
  });
});

describe('opening access requests', () => {
  const ask = (user: string, extra: Record<string, unknown> = {}) =>
    asPerson(user, 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      durationSeconds: 900,
      reason: 'INC-31: look at the prod database',
      ...extra,
    });
  const approverPosts = () => stack.stack.slack.calls({ channel: LOCAL_SLACK_CHANNELS.approvers }).length;

  it(`is limited to ${REQUESTS_PER_PERSON} per person per window: the next is 429, audited, and posts nothing to Slack`, async () => {
    freshWindow();
    const postsBefore = approverPosts();

    const opened = [await ask('alice'), await ask('alice')];
    const spam = await ask('alice');
    const someoneElse = await ask('dave');

    expect(opened.map((a) => a.status)).toEqual([201, 201]);
    expectRateLimited(spam, WINDOW_SECONDS - 1);
    expect(String(spam.json.detail)).toContain('too many access requests opened by this caller');
    expect(someoneElse.status).toBe(201);
    expect(approverPosts() - postsBefore).toBe(3);
    const [record] = await deniedFor([spam.json.requestId]);
    expect(record).toMatchObject({
      reasonCode: 'rate_limited',
      entitlement: 'prod-admin',
      caller: { label: 'alice@example.com' },
    });
  });

  it('does not hold back break-glass, which has its own limit', async () => {
    freshWindow();
    expect((await ask('dave')).status).toBe(201);
    expect((await ask('dave')).status).toBe(201);
    expect((await ask('dave')).status).toBe(429);

    const glass = await ask('dave', { breakGlass: true, ticket: 'INC-31' });

    expect(glass.status).toBe(201);
    expect(glass.json.status).toBe('approved');
  });
});

describe('vending inside a grant', () => {
  it("counts against the requester's limit on the entitlement like any vend", async () => {
    freshWindow();
    const created = await asPerson('alice', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      durationSeconds: 900,
      reason: 'INC-32: rotate keys',
    });
    const id = String(created.json.id);
    expect((await asPerson('bob', 'POST', `/v1/requests/${id}/approve`, {})).status).toBe(200);
    expect((await asPerson('carol', 'POST', `/v1/requests/${id}/approve`, {})).status).toBe(200);
    const stsBefore = assumeRoleCalls();

    const vends: Answer[] = [];
    for (let i = 0; i <= PER_CALLER; i++) {
      vends.push(await asPerson('alice', 'POST', `/v1/requests/${id}/credentials`, {}));
    }

    expect(vends.slice(0, PER_CALLER).map((a) => a.status)).toEqual(Array(PER_CALLER).fill(200));
    expectRateLimited(vends[PER_CALLER]!, WINDOW_SECONDS - 1);
    expect(assumeRoleCalls() - stsBefore).toBe(PER_CALLER);
  });
});
