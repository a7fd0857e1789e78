/**
 * Real adapters for the functions, built once per process on first use (so a function that needs
 * only the entitlement store never builds the STS issuer). Functions import from here; use cases
 * never do: they take their ports as arguments.
 *
 * The clock is wired here too ({@link clock}). In Lambda it is the system clock. The local stack runs
 * the handlers inside its own process and hands them its clock ({@link useClock}), so one injected
 * clock moves the gateway, the local STS, the OIDC issuer and the handlers together (the rate-limit
 * e2e moves past a window without sleeping through it).
 */
import { DynamoAuditStore } from './audit/dynamo-audit-store';
import { dynamoDocuments, sts } from './clients';
import { config } from './config';
import { DynamoEntitlementStore } from './dynamodb/entitlement-store';
import { DynamoRateLimitStore } from './dynamodb/rate-limit-store';
import { ulid } from './ids';
import { log } from './log';
import { countMetric } from './metrics';
import { StsCredentialIssuer } from './sts/issuer';
import type { VendDeps } from './usecases/vend-credentials';

let entitlements: DynamoEntitlementStore | undefined;
let deps: VendDeps | undefined;
let systemClock: () => Date = () => new Date();

/** The time as the wired use cases see it. */
export function clock(): Date {
  return systemClock();
}

/**
 * Replaces the clock of every use case wired here and in lib/wiring-requests.ts. For hosts that run
 * the handlers in-process with a clock of their own (infra/local/stack.ts); Lambda never calls it.
 *
 * @example useClock(() => new Date(Date.now() + offsetMs));
 */
export function useClock(now: () => Date): void {
  systemClock = now;
}

/** The entitlement store over the configured table. */
export function entitlementStore(): DynamoEntitlementStore {
  const cfg = config();
  entitlements ??= new DynamoEntitlementStore(dynamoDocuments, cfg.tables.entitlements, {
    cacheTtlMs: cfg.entitlementCacheTtlMs,
  });
  return entitlements;
}

/** Everything the vend use case needs, over real AWS clients. */
export function vendDeps(): VendDeps {
  const cfg = config();
  deps ??= {
    entitlements: entitlementStore(),
    audit: new DynamoAuditStore(dynamoDocuments, cfg.tables.audit),
    issuer: new StsCredentialIssuer(sts, {
      deadlineMs: cfg.sts.deadlineMs,
      baseDelayMs: cfg.sts.baseDelayMs,
    }),
    limiter: new DynamoRateLimitStore(dynamoDocuments, cfg.tables.limits),
    rateLimits: cfg.rateLimits,
    now: clock,
    newId: (time) => ulid(time),
    log,
    metrics: { count: countMetric },
  };
  return deps;
}
