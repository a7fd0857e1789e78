/**
 * The clock the wired use cases read (lib/wiring/vend.ts, lib/wiring/requests.ts). In Lambda it is the
 * system clock, always. It lives in a module of its own, with no imports, so that a host running the
 * handlers in its own process can hand them its clock without loading the AWS clients: the local
 * stack does (infra/local/stack.ts `now`), so one injected clock moves the gateway, the local STS,
 * the OIDC issuer and the handlers together, and a spec can step past a rate-limit window or an
 * expiry instead of sleeping through it. Domain code never reads this: it is given `now`.
 */

const system = (): Date => new Date();
let current: () => Date = system;

/**
 * The time as the wired use cases see it.
 * @example const deps = { now: clock, … };
 */
export function clock(): Date {
  return current();
}

/**
 * Replaces the clock of every wired use case in this process; `undefined` restores the system clock.
 * For in-process hosts (the local stack); Lambda never calls it.
 *
 * @example useClock(() => new Date(Date.now() + offsetMs));
 */
export function useClock(now: (() => Date) | undefined): void {
  current = now ?? system;
}
