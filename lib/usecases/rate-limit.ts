/**
 * Enforcing rate limits, shared by every path that vends (lib/usecases/vend-credentials.ts, so the
 * service, person, grant and console routes all count alike) and by request creation
 * (lib/usecases/requests.ts).
 *
 * Primary course of {@link enforceRateLimits}:
 * 1. Find each limit's window from the injected clock (lib/domain/rate-limit.ts `windowOf`).
 * 2. Take one use of each counter, all at once, one conditional write each (the store's `take`).
 * 3. A full counter: give back the uses this call already took (so a refusal by the entitlement's
 *    limit does not also cost the caller), then throw the 429 with `Retry-After`.
 * 4. A store failure: give back what was taken (best effort) and let the 503 through: the limiter
 *    fails closed, and the caller never reaches STS without it.
 *
 * A use given back by step 3 or 4 that cannot be written is logged and stays counted: the error is
 * on the strict side.
 */
import { type AuditRequestContext, deniedRecord } from '../domain/audit';
import { callerId } from '../domain/caller';
import { RateLimitedError } from '../domain/errors';
import {
  type Limit,
  type RateCounter,
  type RateLimitSettings,
  rateLimitedError,
  requestLimits,
  windowOf,
} from '../domain/rate-limit';
import type { Caller } from '../domain/types';
import type { IdGenerator } from '../ids';
import type { VendLog } from '../log';
import type { AuditSink, RateLimitStore } from '../ports';

/** What {@link enforceRateLimits} needs. */
export interface RateLimitDeps {
  limiter: RateLimitStore;
  now: () => Date;
  log: Pick<VendLog, 'error'>;
}

/**
 * Takes one use of every limit, or none: throws the store's 503 when any take failed, else the
 * RateLimitedError (429) of the first full one (in the order given).
 *
 * @example
 * ```ts
 * await enforceRateLimits(deps, vendLimits(callerId(caller), entitlement, settings));
 * ```
 */
export async function enforceRateLimits(deps: RateLimitDeps, limits: readonly Limit[]): Promise<void> {
  const now = deps.now();
  const counters: RateCounter[] = limits.map((limit) => ({
    ...limit,
    window: windowOf(now, limit.windowSeconds),
  }));
  // The counters are independent items, so all are taken at once: one round trip per vend, not one
  // per limit. Whatever the outcome, a use taken by a call that is then refused is given back.
  const outcomes = await Promise.allSettled(counters.map((counter) => deps.limiter.take(counter)));
  const taken = counters.filter((_, i) => {
    const outcome = outcomes[i];
    return outcome?.status === 'fulfilled' && outcome.value;
  });
  if (taken.length === counters.length) return;
  await giveBack(deps, taken);
  // A store failure wins over a full window: the limiter could not answer, so it fails closed (503).
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  const full = counters.find((_, i) => {
    const outcome = outcomes[i];
    return outcome?.status === 'fulfilled' && !outcome.value;
  });
  throw rateLimitedError(full ?? (counters[0] as RateCounter), now);
}

async function giveBack(deps: RateLimitDeps, taken: readonly RateCounter[]): Promise<void> {
  for (const counter of taken) {
    try {
      await deps.limiter.release(counter);
    } catch (e) {
      const { scope } = counter;
      deps.log.error(`rate limit use not given back (${scope.kind} counter)`, {
        ...(scope.kind === 'entitlement' ? {} : { callerId: scope.callerId }),
        ...(scope.kind === 'requester' ? {} : { entitlement: scope.entitlement }),
        errorName: e instanceof Error ? e.name : typeof e,
      });
    }
  }
}

/** What {@link limitRequestCreation} needs: the request use cases' deps, limiter optional. */
export interface RequestLimitDeps {
  /** Absent only in wirings without a limits table (unit specs); lib/wiring/requests.ts always sets it. */
  limiter?: RateLimitStore;
  rateLimits?: RateLimitSettings;
  audit: AuditSink;
  now: () => Date;
  newId: IdGenerator;
  log: Pick<VendLog, 'error'>;
}

/**
 * The per-person limit on opening access requests (each one posts to the approvers' Slack channel).
 * A refusal is audited as a `denied` record with reason code `rate_limited` under the id the request
 * would have had, then thrown (429). A record that cannot be written is logged; the 429 still stands.
 *
 * @example
 * ```ts
 * await limitRequestCreation(deps, { caller, request: ctx, requestId: req.id, entitlement: req.entitlement });
 * ```
 */
export async function limitRequestCreation(
  deps: RequestLimitDeps,
  input: { caller: Caller; request: AuditRequestContext; requestId: string; entitlement: string },
): Promise<void> {
  const { limiter, rateLimits } = deps;
  if (!limiter || !rateLimits) return;
  try {
    await enforceRateLimits(
      { limiter, now: deps.now, log: deps.log },
      requestLimits(callerId(input.caller), rateLimits),
    );
  } catch (e) {
    if (!(e instanceof RateLimitedError)) throw e;
    const now = deps.now();
    try {
      await deps.audit.append(
        deniedRecord({
          id: deps.newId(now),
          time: now,
          auditId: input.requestId,
          request: input.request,
          caller: input.caller,
          entitlement: input.entitlement,
          reasonCode: e.code,
          reasonDetail: e.detail,
        }),
      );
    } catch (auditError) {
      deps.log.error('audit denied record not written', {
        auditId: input.requestId,
        callerId: callerId(input.caller),
        code: e.code,
        errorName: auditError instanceof Error ? auditError.name : typeof auditError,
      });
    }
    throw e;
  }
}
