/**
 * Console sign-in (`POST /v1/console`, and inside a grant `POST /v1/requests/{id}/console`): a
 * person gets an AWS console sign-in URL for an entitlement, never keys.
 *
 * Primary course:
 * 1. Split the body: `destination` (optional, an AWS console page; lib/domain/console.ts) and the
 *    vend body (`entitlement`, `durationSeconds`, `policy`, `reason`), checked as for keys. A bad
 *    destination is a 400 audited like any other refusal.
 * 2. Vend exactly as for keys (lib/usecases/vend-credentials.ts: the same rules, rate limits, and
 *    intent / issued audit records, with `delivery: console`).
 * 3. Exchange the session at the federation endpoint (`getSigninToken`, never with
 *    `SessionDuration`: vend's sessions are role-chained, so AWS refuses it and the console session
 *    lasts as long as the credentials). A failure is 503 `upstream_unavailable`, audited as a
 *    denial with that detail, and the session is dropped unrecorded: nobody holds it.
 * 4. Record the live session (`delivery: console`) and answer `{url, expiresAt, entitlement,
 *    auditId, assumedRoleArn}`: the login URL (`Action=login`, `Issuer`, `Destination`,
 *    `SigninToken`), valid 15 minutes for one sign-in.
 * The keys never leave vend: they go to the federation endpoint and are then forgotten.
 */
import { loginUrl, splitConsoleBody } from '../domain/console';
import { VendError } from '../domain/errors';
import type { SigninTokenIssuer } from '../ports';
import { recordVendRefusal, type VendDeps, type VendInput, vendSession } from './vend-credentials';

/** The console answer (CONTRACT §4). */
export interface ConsoleResponse {
  /** The sign-in URL: open it in a browser within 15 minutes, once. */
  url: string;
  /** When the console session ends (the credentials' expiry). */
  expiresAt: string;
  entitlement: string;
  auditId: string;
  assumedRoleArn: string;
}

/** The vend use case's ports plus the federation endpoint and the `Issuer` to name. */
export interface ConsoleDeps extends VendDeps {
  signin: SigninTokenIssuer;
  /** Where the console sends someone whose session ended (`VEND_CONSOLE_ISSUER`); absent: not sent. */
  consoleIssuer?: string;
}

/**
 * Vends a console session and answers its sign-in URL.
 *
 * @example
 * ```ts
 * const out = await vendConsole(deps)({ caller: alice, body: { entitlement: 'prod-readonly' }, request: ctx });
 * out.url; // 'https://signin.aws.amazon.com/federation?Action=login&…'
 * ```
 */
export function vendConsole(deps: ConsoleDeps): (input: VendInput) => Promise<ConsoleResponse> {
  return async (input) => {
    let split: ReturnType<typeof splitConsoleBody>;
    try {
      split = splitConsoleBody(input.body);
    } catch (e) {
      if (e instanceof VendError) {
        await recordVendRefusal(deps)({
          caller: input.caller,
          error: e,
          request: input.request,
          body: input.body,
          delivery: 'console',
        });
      }
      throw e;
    }
    const { destination } = split;
    const vend = vendSession<ConsoleResponse>(deps, {
      kind: 'console',
      hand: async (s) => {
        const signinToken = await deps.signin.getSigninToken({
          accessKeyId: s.credentials.accessKeyId,
          secretAccessKey: s.credentials.secretAccessKey,
          sessionToken: s.credentials.sessionToken,
        });
        return {
          url: loginUrl({
            federationUrl: deps.signin.federationUrl,
            ...(deps.consoleIssuer ? { issuer: deps.consoleIssuer } : {}),
            destination,
            signinToken,
          }),
          expiresAt: s.expiration,
          entitlement: s.entitlement.id,
          auditId: s.auditId,
          assumedRoleArn: s.credentials.assumedRoleArn,
        };
      },
    });
    return vend({ ...input, body: split.vendBody });
  };
}
