/**
 * The vend use case with in-memory ports: the order of audit writes and STS calls, and what happens
 * when each port fails. (The same paths run against the real local stack in test/e2e.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import { parseEntitlement } from '../../../lib/domain/entitlement';
import {
  AuditUnavailableError,
  type RateLimitedError,
  UpstreamUnavailableError,
  VendError,
} from '../../../lib/domain/errors';
import { type RateLimitSettings, windowOf } from '../../../lib/domain/rate-limit';
import type { Caller, Entitlement } from '../../../lib/domain/types';
import type { AssumeRoleParams, AuditSink, CredentialIssuer, EntitlementStore } from '../../../lib/ports';
import { recordVendRefusal, type VendDeps, vendCredentials } from '../../../lib/usecases/vend-credentials';
import { alice, ciService, mallory, rawEntitlements } from '../domain/world';
import { MemoryLimiter } from './limiter-fake';
import { MemorySessionStore } from './sessions-fake';

const NOW = new Date('2026-11-29T10:00:00.000Z');
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const TOKEN = `FQoGZXIvYXdzEBYaD${'A'.repeat(200)}`;

class Store implements EntitlementStore {
  failing = false;
  constructor(readonly items: Map<string, Entitlement>) {}
  async get(id: string) {
    if (this.failing) throw new UpstreamUnavailableError('the entitlement store is unavailable', 1);
    return this.items.get(id);
  }
  async list() {
    return [...this.items.values()];
  }
  async put(e: Entitlement) {
    this.items.set(e.id, e);
  }
}

class Audit implements AuditSink {
  records: AuditRecord[] = [];
  failOn: AuditRecord['decision'] | undefined;
  async append(r: AuditRecord) {
    if (this.failOn === r.decision) throw new AuditUnavailableError('the audit log could not be written');
    this.records.push(structuredClone(r));
  }
}

class Issuer implements CredentialIssuer {
  calls: AssumeRoleParams[] = [];
  fail: Error | undefined;
  async assume(p: AssumeRoleParams) {
    this.calls.push(structuredClone(p));
    if (this.fail) throw this.fail;
    return {
      accessKeyId: 'ASIAEXAMPLE000000001',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date(NOW.getTime() + p.durationSeconds * 1000),
      assumedRoleArn: `arn:aws:sts::444455556666:assumed-role/${p.roleArn.split('/').pop()}/${p.roleSessionName}`,
      assumedRoleId: `AROAEXAMPLE:${p.roleSessionName}`,
    };
  }
}

let store: Store;
let audit: Audit;
let issuer: Issuer;
let limiter: MemoryLimiter;
let sessions: MemorySessionStore;
let deps: VendDeps;
let seq: number;

const LIMITS: RateLimitSettings = {
  windowSeconds: 60,
  perCaller: 3,
  perEntitlement: 5,
  requestsPerCaller: 2,
};
const CI_ID = 'arn:aws:iam::111122223333:role/CICDDeployRole';
const WINDOW = windowOf(NOW, 60);

beforeEach(() => {
  const ents = Object.values(rawEntitlements()).map((r) => parseEntitlement(r));
  store = new Store(new Map(ents.map((e) => [e.id, e])));
  audit = new Audit();
  issuer = new Issuer();
  limiter = new MemoryLimiter();
  sessions = new MemorySessionStore();
  seq = 0;
  deps = {
    entitlements: store,
    audit,
    issuer,
    limiter,
    sessions,
    rateLimits: LIMITS,
    now: () => NOW,
    newId: () => `01JD000000000000000000${String(++seq).padStart(4, '0')}`,
    log: { error: () => undefined },
  };
});

const request = { requestId: 'req-1', sourceIp: '203.0.113.9', userAgent: 'test' };

async function refusal(p: Promise<unknown>): Promise<VendError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VendError);
  return e as VendError;
}

describe('vend, primary course', () => {
  it('writes the intent before AssumeRole and the issued record before returning, with one audit id', async () => {
    const out = await vendCredentials(deps)({
      caller: ciService(),
      body: { entitlement: 'prod-s3-read', durationSeconds: 900 },
      request,
    });

    expect(audit.records.map((r) => r.decision)).toEqual(['intent', 'issued']);
    expect(new Set(audit.records.map((r) => r.auditId))).toEqual(new Set([out.auditId]));
    expect(audit.records[1]?.accessKeyId).toBe('ASIAEXAMPLE000000001');
    expect(out.durationSeconds).toBe(900);
    expect(out.credentials.Expiration).toBe('2026-11-29T10:15:00Z');
    expect(out.assumedRoleArn).toMatch(/^arn:aws:sts::444455556666:assumed-role\/S3ReadAll\/vend-/);
  });

  it('sends the ExternalId, SourceIdentity, server-set tags and the ceiling as session policy to STS', async () => {
    await vendCredentials(deps)({ caller: ciService(), body: { entitlement: 'prod-s3-read' }, request });

    const call = issuer.calls[0]!;
    expect(call.externalId).toBe('prod-s3-ext-19c2');
    expect(call.sourceIdentity).toBe('CICDDeployRole@111122223333');
    expect(call.tags?.['vend:entitlement']).toBe('prod-s3-read');
    expect(call.transitiveTagKeys).toContain('vend:caller');
    expect(JSON.parse(String(call.policy)).Statement[0].Action).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('never puts the ExternalId or the secret parts of the credentials in an audit record', async () => {
    await vendCredentials(deps)({ caller: ciService(), body: { entitlement: 'prod-s3-read' }, request });

    const text = JSON.stringify(audit.records);
    expect(text).not.toContain('prod-s3-ext-19c2');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
  });

  it('records the live session after the issued record: who, what, the assumed role, keys', async () => {
    const out = await vendCredentials(deps)({
      caller: alice(),
      body: { entitlement: 'prod-readonly' },
      request,
    });

    const session = sessions.items.get(out.auditId);
    expect(session).toEqual({
      auditId: out.auditId,
      caller: { id: 'http://127.0.0.1:4566/oidc#alice', kind: 'person', label: 'alice@example.com' },
      entitlement: 'prod-readonly',
      roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
      assumedRoleArn: out.assumedRoleArn,
      sourceIdentity: 'alice@example.com',
      accessKeyId: 'ASIAEXAMPLE000000001',
      issuedAt: NOW.toISOString(),
      expiresAt: out.credentials.Expiration,
      delivery: 'keys',
    });
    expect(JSON.stringify(session)).not.toContain(SECRET);
    expect(JSON.stringify(session)).not.toContain(TOKEN);
    expect(audit.records.map((r) => r.delivery)).toEqual(['keys', 'keys']);
  });

  it('vends to a person by group', async () => {
    const out = await vendCredentials(deps)({
      caller: alice(),
      body: { entitlement: 'prod-readonly' },
      request,
    });
    expect(out.sourceIdentity).toBe('alice@example.com');
  });
});

describe('vend, refusals are audited and never reach STS', () => {
  it.each([
    ['not entitled', () => mallory(), { entitlement: 'prod-readonly' }, 'not_entitled'],
    ['unknown entitlement', () => ciService(), { entitlement: 'nope-nope' }, 'not_entitled'],
    ['approval gate', () => alice(), { entitlement: 'prod-admin' }, 'approval_required'],
    [
      'caller sets roleArn',
      () => ciService(),
      { entitlement: 'prod-readonly', roleArn: 'x' },
      'invalid_request',
    ],
    [
      'duration 3601',
      () => ciService(),
      { entitlement: 'prod-readonly', durationSeconds: 3601 },
      'duration_out_of_range',
    ],
    [
      'policy wider than the ceiling',
      () => ciService(),
      {
        entitlement: 'prod-s3-read',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
      },
      'policy_exceeds_ceiling',
    ],
  ] as const)('%s → %s', async (_name, caller, body, code) => {
    const e = await refusal(vendCredentials(deps)({ caller: caller(), body, request }));

    expect(e.code).toBe(code);
    expect(issuer.calls).toHaveLength(0);
    expect(limiter.takes).toHaveLength(0);
    expect(audit.records).toHaveLength(1);
    expect(audit.records[0]).toMatchObject({ decision: 'denied', reasonCode: code });
  });
});

describe('vend, rate limits', () => {
  const callerCounter = (entitlement: string) => ({
    scope: { kind: 'caller' as const, callerId: CI_ID, entitlement },
    window: WINDOW,
  });
  const entitlementCounter = (entitlement: string) => ({
    scope: { kind: 'entitlement' as const, entitlement },
    window: WINDOW,
  });
  const vendAs = (caller: Caller = ciService(), entitlement = 'prod-readonly') =>
    vendCredentials(deps)({ caller, body: { entitlement }, request });

  it("takes the caller's counter, then the entitlement's, in the window of the injected clock", async () => {
    await vendAs();

    expect(limiter.takes.map((t) => [t.scope.kind, t.max, t.window.start.toISOString()])).toEqual([
      ['caller', 3, '2026-11-29T10:00:00.000Z'],
      ['entitlement', 5, '2026-11-29T10:00:00.000Z'],
    ]);
  });

  it('refuses the call past the per-caller limit: 429 with Retry-After, a denied record, no intent, no STS', async () => {
    for (let i = 0; i < 3; i++) await vendAs();
    audit.records = [];
    const stsBefore = issuer.calls.length;

    const e = await refusal(vendAs());

    expect(e.status).toBe(429);
    expect(e.code).toBe('rate_limited');
    expect((e as RateLimitedError).retryAfterSeconds).toBe(60);
    expect(e.detail).toMatch(/"prod-readonly" by this caller: the limit is 3 per 60 s/);
    expect(issuer.calls.length).toBe(stsBefore);
    expect(audit.records).toEqual([
      expect.objectContaining({
        decision: 'denied',
        reasonCode: 'rate_limited',
        entitlement: 'prod-readonly',
      }),
    ]);
    // The entitlement's counter was not touched by the refused call.
    expect(limiter.counts.get(MemoryLimiter.key(entitlementCounter('prod-readonly')))).toBe(3);
  });

  it("serves another caller while one caller's window is full", async () => {
    limiter.fill(callerCounter('prod-readonly'), 3);

    await expect(vendAs()).rejects.toMatchObject({ code: 'rate_limited' });
    const out = await vendAs(alice());

    expect(out.entitlement).toBe('prod-readonly');
  });

  it("refuses every caller once the entitlement's window is full, and gives the caller's use back", async () => {
    limiter.fill(entitlementCounter('prod-readonly'), 5);

    const e = await refusal(vendAs(alice()));

    expect(e.code).toBe('rate_limited');
    expect(e.detail).toMatch(/by all its callers together: the limit is 5 per 60 s/);
    expect(limiter.releases.map((r) => r.scope.kind)).toEqual(['caller']);
    expect(issuer.calls).toHaveLength(0);
  });

  it("uses the entitlement's own rateLimit over the defaults, field by field", async () => {
    const ent = store.items.get('prod-readonly')!;
    store.items.set('prod-readonly', { ...ent, rateLimit: { perEntitlement: 50 } });

    await vendAs();

    expect(limiter.takes.map((t) => t.max)).toEqual([3, 50]);
  });

  it('counts the windows apart: a new window admits again, with Retry-After counted to its end', async () => {
    limiter.fill(callerCounter('prod-readonly'), 3);
    let now = new Date('2026-11-29T10:00:59.200Z');
    const later = { ...deps, now: () => now };

    const e = await refusal(
      vendCredentials(later)({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }),
    );
    expect((e as RateLimitedError).retryAfterSeconds).toBe(1);
    now = new Date('2026-11-29T10:01:00.000Z');
    const out = await vendCredentials(later)({
      caller: ciService(),
      body: { entitlement: 'prod-readonly' },
      request,
    });

    expect(out.auditId).toBeTruthy();
  });

  it('limiter unavailable → 503 upstream_unavailable, a denied record, no intent and no STS call', async () => {
    limiter.failing = true;

    const e = await refusal(vendAs());

    expect(e.status).toBe(503);
    expect(e.code).toBe('upstream_unavailable');
    expect(issuer.calls).toHaveLength(0);
    expect(audit.records.map((r) => [r.decision, r.reasonCode])).toEqual([
      ['denied', 'upstream_unavailable'],
    ]);
  });

  it('applies inside a grant too (the request path vends through this use case)', async () => {
    const prodAdmin = store.items.get('prod-admin')!;
    const grant = { capSeconds: 900, entitlement: prodAdmin };
    const key = {
      scope: {
        kind: 'caller' as const,
        callerId: 'http://127.0.0.1:4566/oidc#alice',
        entitlement: 'prod-admin',
      },
      window: WINDOW,
    };
    limiter.fill(key, 3);

    const e = await refusal(
      vendCredentials(deps)({ caller: alice(), body: { entitlement: 'prod-admin' }, request, grant }),
    );

    expect(e.code).toBe('rate_limited');
    expect(issuer.calls).toHaveLength(0);
  });
});

describe('vend fails closed', () => {
  it('entitlement store down → 503 and no STS call', async () => {
    store.failing = true;
    const e = await refusal(
      vendCredentials(deps)({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }),
    );
    expect(e.status).toBe(503);
    expect(issuer.calls).toHaveLength(0);
  });

  it('intent write fails → 503 audit_unavailable and no STS call', async () => {
    audit.failOn = 'intent';
    const e = await refusal(
      vendCredentials(deps)({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }),
    );
    expect(e.code).toBe('audit_unavailable');
    expect(issuer.calls).toHaveLength(0);
  });

  it('issued write fails → 503 audit_unavailable and the credentials are withheld', async () => {
    audit.failOn = 'issued';
    const e = await refusal(
      vendCredentials(deps)({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }),
    );
    expect(e.code).toBe('audit_unavailable');
    expect(issuer.calls).toHaveLength(1);
    expect(JSON.stringify(e)).not.toContain(SECRET);
    expect(audit.records.map((r) => r.decision)).toEqual(['intent']);
  });

  it('session record fails → 503 and the session is withheld, after an issued and then a denied record', async () => {
    sessions.failPut = true;
    const e = await refusal(
      vendCredentials(deps)({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }),
    );
    expect(e.code).toBe('upstream_unavailable');
    expect(JSON.stringify(e)).not.toContain(SECRET);
    expect(audit.records.map((r) => r.decision)).toEqual(['intent', 'issued', 'denied']);
    expect(new Set(audit.records.map((r) => r.auditId)).size).toBe(1);
    expect(audit.records[2]?.reasonCode).toBe('upstream_unavailable');
    expect(sessions.items.size).toBe(0);
  });

  it('STS unavailable → 503 and a denied record with the same audit id as the intent', async () => {
    issuer.fail = new UpstreamUnavailableError('STS is throttling vend; retry shortly', 2);
    const e = await refusal(
      vendCredentials(deps)({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }),
    );
    expect(e.code).toBe('upstream_unavailable');
    expect(audit.records.map((r) => r.decision)).toEqual(['intent', 'denied']);
    expect(audit.records[1]?.auditId).toBe(audit.records[0]?.auditId);
  });
});

describe('recordVendRefusal', () => {
  it('audits a refusal the HTTP chain made, with the entitlement id when the body had one', async () => {
    const error = new (class extends VendError {
      readonly code = 'payload_too_large' as const;
    })('too big');
    await recordVendRefusal(deps)({
      caller: ciService(),
      error,
      request,
      body: { entitlement: 'prod-readonly' },
    });
    expect(audit.records[0]).toMatchObject({
      decision: 'denied',
      reasonCode: 'payload_too_large',
      entitlement: 'prod-readonly',
    });
  });
});

describe('metrics', () => {
  it('counts VendIssued on success, VendDenied on a refusal, StsThrottled when STS stayed throttled, RateLimited on a 429', async () => {
    const counted: string[] = [];
    const withMetrics = { ...deps, metrics: { count: (m: string) => counted.push(m) } };
    const vend = vendCredentials(withMetrics as VendDeps);

    await vend({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request });
    await vend({ caller: mallory(), body: { entitlement: 'prod-readonly' }, request }).catch(() => undefined);
    const { StsFault, StsUnavailableError } = await import('../../../lib/ports');
    issuer.fail = new StsUnavailableError('STS is throttling vend; retry shortly', 1, {
      cause: new StsFault('Throttling', 'Rate exceeded'),
    });
    await vend({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }).catch(
      () => undefined,
    );

    limiter.failing = false;
    limiter.fill(
      { scope: { kind: 'caller', callerId: CI_ID, entitlement: 'prod-readonly' }, window: WINDOW },
      LIMITS.perCaller,
    );
    await vend({ caller: ciService(), body: { entitlement: 'prod-readonly' }, request }).catch(
      () => undefined,
    );

    expect(counted).toEqual(['VendIssued', 'VendDenied', 'StsThrottled', 'RateLimited']);
  });
});
