/**
 * The STS Query-protocol endpoint: verifies SigV4 (scope `<date>/<region>/sts/aws4_request`) against
 * the IAM store, then dispatches AssumeRole and GetCallerIdentity. Every other action is
 * `InvalidAction`.
 */
import { randomUUID } from 'node:crypto';
import type { IamStore } from '../iam/store';
import { endpointVerifier, type RequestVerifier } from '../sigv4/verify';
import type { RawRequest, RawResponse } from '../types';
import { assumeRole } from './assume-role';
import { StsFaultError } from './errors';
import { recordIssuedSession } from './issued';
import { parseQueryRequest } from './query';
import { readAssumeRoleParams } from './validate';
import { errorXml, successXml, xmlFields } from './xml';

export interface StsHandlerOptions {
  now?: () => Date;
  /** Called once per request with non-secret facts (action, caller, outcome) for the console. */
  log?: (entry: { action: string; caller?: string; status: number; code?: string }) => void;
  /**
   * Verifies the signature and its scope (the local AWS endpoint passes its own). Default: region
   * `us-east-1`, as for the global endpoint sts.amazonaws.com, which accepts no other.
   */
  verify?: RequestVerifier;
}

const API_VERSION = '2011-06-15';

/** `2026-01-01T12:00:00Z`: ISO 8601 with Z and no fraction. */
function isoSeconds(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Creates the STS request handler.
 *
 * @example
 * const sts = createStsHandler(store);
 * const res = await sts(rawRequest); // RawResponse with text/xml body
 */
export function createStsHandler(
  store: IamStore,
  opts: StsHandlerOptions = {},
): (req: RawRequest) => Promise<RawResponse> {
  const clock = opts.now ?? store.now;
  const verify =
    opts.verify ?? endpointVerifier({ region: 'us-east-1', lookup: (id) => store.lookupAccessKey(id) });
  return async (req) => {
    const now = clock();
    const requestId = randomUUID();
    const params = parseQueryRequest(req);
    const action = params.get('Action') ?? '';
    store.stsRequests.set(action, (store.stsRequests.get(action) ?? 0) + 1);
    const respond = (res: RawResponse, caller?: string, code?: string) => {
      opts.log?.({ action, ...(caller && { caller }), status: res.status, ...(code && { code }) });
      return res;
    };

    const auth = verify(req, now);
    if (!auth.ok)
      return respond(errorXml(auth.status, auth.code, auth.message, requestId, now), undefined, auth.code);
    const caller = auth.key;

    if (action === '')
      return respond(
        errorXml(400, 'MissingAction', 'Missing Action', requestId, now),
        caller.principal.arn,
        'MissingAction',
      );
    const version = params.get('Version');
    if (
      (action !== 'AssumeRole' && action !== 'GetCallerIdentity') ||
      (version !== undefined && version !== API_VERSION)
    ) {
      const msg = `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`;
      return respond(
        errorXml(400, 'InvalidAction', msg, requestId, now),
        caller.principal.arn,
        'InvalidAction',
      );
    }

    try {
      if (action === 'GetCallerIdentity') {
        // Needs no permission and works under an explicit Deny (fact sheet §2).
        const p = caller.principal;
        const inner = xmlFields([
          ['Arn', p.arn],
          ['UserId', p.userId],
          ['Account', p.account],
        ]);
        return respond(successXml(action, inner, requestId, now), p.arn);
      }
      const outcome = assumeRole(store, caller, readAssumeRoleParams(params), {
        now,
        sourceIp: req.sourceIp,
      });
      const k = outcome.key;
      recordIssuedSession(store, caller, k, now); // the emulator's own record (./issued.ts)
      const inner =
        xmlFields([['SourceIdentity', k.principal.sourceIdentity]]) +
        `<Credentials>${xmlFields([
          ['AccessKeyId', k.accessKeyId],
          ['SecretAccessKey', k.secretAccessKey],
          ['SessionToken', k.sessionToken],
          ['Expiration', k.expiration && isoSeconds(k.expiration)],
        ])}</Credentials>` +
        `<AssumedRoleUser>${xmlFields([
          ['Arn', k.principal.arn],
          ['AssumedRoleId', k.principal.userId],
        ])}</AssumedRoleUser>` +
        xmlFields([['PackedPolicySize', outcome.packedPolicySize]]);
      return respond(successXml(action, inner, requestId, now), caller.principal.arn);
    } catch (err) {
      if (err instanceof StsFaultError) {
        return respond(
          errorXml(err.status, err.code, err.message, requestId, now),
          caller.principal.arn,
          err.code,
        );
      }
      // Unknown failures are ours, not the caller's: a generic 500 without internals.
      return respond(
        errorXml(
          500,
          'InternalFailure',
          'The request processing has failed because of an unknown error, exception or failure.',
          requestId,
          now,
        ),
        caller.principal.arn,
        'InternalFailure',
      );
    }
  };
}
