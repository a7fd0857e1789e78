/**
 * The two authorizers of the local API Gateway, answering failures as API Gateway does, before any
 * function runs (CONTRACT §4).
 *
 * IAM (`aws_iam`): SigV4 scoped to `<date>/<the stack's region>/execute-api/aws4_request` (header
 * or presigned query) against the local IAM key store, then `execute-api:Invoke` on the route's
 * ARN. Every failure is 403:
 *
 * | cause | body `message` | `x-amzn-errortype` |
 * |---|---|---|
 * | no signature | `Forbidden` | `ForbiddenException` |
 * | unknown key / wrong session token | `The security token included in the request is invalid.` | `UnrecognizedClientException` |
 * | expired session | `The security token included in the request is expired` | `ExpiredTokenException` |
 * | bad signature | `The request signature we calculated does not match…` | `InvalidSignatureException` |
 * | scope for another region, service, date or terminator | `Credential should be scoped to a valid region. ` … | `InvalidSignatureException` |
 * | request date over 5 minutes off (API Gateway's window) | `Signature expired: … (… - 5 min.)` / `Signature not yet current: …` | `InvalidSignatureException` |
 * | malformed Authorization | the verifier's message (`Authorization header requires…`) | `IncompleteSignatureException` |
 * | not allowed to invoke | `Forbidden` | `AccessDeniedException` |
 *
 * JWT: the token from the identity source (a `Bearer ` prefix is optional, as in API Gateway),
 * verified with pinned RSA algorithms (never `none`, never HS*) against the issuer's JWKS; `iss`
 * must equal the authorizer's issuerUrl, `aud` (or `client_id` when there is no `aud`) must be one of
 * its audiences, `exp` must be in the future, `nbf` and `iat` in the past. Failure is 401
 * `{"message":"Unauthorized"}` with a `www-authenticate` header; missing route scopes are 403.
 */
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Decision, RequestContext } from '../../../lib/iam/types';
import { verifySigV4 } from '../sigv4/verify';
import type { KeyRecord, RawRequest } from '../types';
import type { EventAuthorizer } from './event';
import { type GatewayResponse, gatewayError } from './result';
import type { RouteAuth } from './serverless';

/** What the gateway needs from the IAM store (structurally the local IamStore). */
export interface GatewayKeyStore {
  lookupAccessKey(accessKeyId: string): KeyRecord | undefined;
  simulate(q: {
    accessKeyId?: string;
    principalArn?: string;
    action: string;
    resource: string;
    context?: RequestContext;
  }): { decision: Decision; principal: string };
}

/** An authorizer's verdict: the event's authorizer block, or the response to send instead. */
export type AuthOutcome =
  | { ok: true; authorizer?: EventAuthorizer; detail?: string }
  | { ok: false; response: GatewayResponse; detail: string };

const ERROR_TYPES: Record<string, string> = {
  MissingAuthenticationToken: 'ForbiddenException',
  InvalidClientTokenId: 'UnrecognizedClientException',
  ExpiredToken: 'ExpiredTokenException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  IncompleteSignature: 'IncompleteSignatureException',
  AuthorizationQueryParametersError: 'IncompleteSignatureException',
  AccessDenied: 'AccessDeniedException',
};

/**
 * API Gateway accepts a request date at most 5 minutes from its clock, not STS's 15: its answer is
 * `Signature expired: 20240522T115159Z is now earlier than 20240522T120519Z (20240522T121019Z - 5
 * min.)` with `x-amzn-ErrorType: InvalidSignatureException` (AWS re:Post, "InvalidSignatureException
 * while invoking a lambda via API Gateway", repost.aws/questions/QUdUp8J3LVS_OdlzmjXq09RA; the same
 * message in aws/aws-sdk-net#1506 and terraform's reports for other REST-JSON services).
 */
export const API_GATEWAY_MAX_SKEW_MINUTES = 5;

/** `arn:aws:execute-api:<region>:<account>:<apiId>/$default/<METHOD>/<path without leading slash>`. */
export function executeApiArn(a: {
  region: string;
  accountId: string;
  apiId: string;
  method: string;
  path: string;
}): string {
  return `arn:aws:execute-api:${a.region}:${a.accountId}:${a.apiId}/$default/${a.method.toUpperCase()}/${a.path.replace(/^\//, '')}`;
}

/** Verifies SigV4 and `execute-api:Invoke` for an IAM route. */
export function authorizeIam(
  req: RawRequest,
  opts: { store: GatewayKeyStore; now: Date; region: string; accountId: string; apiId: string },
): AuthOutcome {
  const verdict = verifySigV4(req, {
    service: 'execute-api',
    region: opts.region,
    lookup: (id) => opts.store.lookupAccessKey(id),
    now: opts.now,
    maxSkewMinutes: API_GATEWAY_MAX_SKEW_MINUTES,
  });
  if (!verdict.ok) {
    const message = verdict.code === 'MissingAuthenticationToken' ? 'Forbidden' : verdict.message;
    return {
      ok: false,
      detail: `${verdict.code}: ${verdict.message}`,
      response: gatewayError(403, message, {
        'x-amzn-errortype': ERROR_TYPES[verdict.code] ?? 'ForbiddenException',
      }),
    };
  }
  const key = verdict.key;
  const resource = executeApiArn({ ...opts, method: req.method, path: req.path });
  const decision = opts.store.simulate({
    accessKeyId: key.accessKeyId,
    action: 'execute-api:Invoke',
    resource,
    context: {
      'aws:SourceIp': req.sourceIp,
      'aws:SecureTransport': 'false',
      'aws:CurrentTime': opts.now.toISOString(),
      'aws:EpochTime': String(Math.floor(opts.now.getTime() / 1000)),
      'aws:UserAgent': req.headers['user-agent'],
    },
  });
  if (decision.decision !== 'Allow') {
    return {
      ok: false,
      detail: `User: ${decision.principal} is not authorized to perform: execute-api:Invoke on resource: ${resource} (${decision.decision})`,
      response: gatewayError(403, 'Forbidden', { 'x-amzn-errortype': 'AccessDeniedException' }),
    };
  }
  const p = key.principal;
  return {
    ok: true,
    detail: p.arn,
    authorizer: {
      iam: {
        accessKey: key.accessKeyId,
        accountId: p.account,
        callerId: p.userId,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: p.arn,
        userId: p.userId,
      },
    },
  };
}

/** RSA only, as API Gateway's JWT authorizer; listing them also rules out `none` and HS*. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512'];

/** Where the JWT authorizer finds keys: a key set, or a jose key resolver (e.g. createRemoteJWKSet). */
export type JwksSource = JSONWebKeySet | JWTVerifyGetKey;

/** Makes a key resolver from a {@link JwksSource}. */
export function keyResolver(source: JwksSource): JWTVerifyGetKey {
  return typeof source === 'function' ? source : createLocalJWKSet(source);
}

/**
 * Renders a claim value as HTTP APIs put it in `requestContext.authorizer.jwt.claims`: every value
 * a string, arrays as `[a b c]` (Go's fmt), objects as `map[k:v]`.
 */
export function renderClaim(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(renderClaim).join(' ')}]`;
  if (value && typeof value === 'object') {
    return `map[${Object.keys(value)
      .sort()
      .map((k) => `${k}:${renderClaim((value as Record<string, unknown>)[k])}`)
      .join(' ')}]`;
  }
  return String(value);
}

function unauthorized(description?: string): GatewayResponse {
  const challenge = description
    ? `Bearer scope="" error="invalid_token" error_description="${description}"`
    : 'Bearer';
  return gatewayError(401, 'Unauthorized', { 'www-authenticate': challenge });
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet';
    if (error.claim === 'iss') return 'the token does not have a valid issuer';
    return `the token has an invalid ${error.claim} claim`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature is invalid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'signing method is invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token has no valid kid';
  return 'the token is malformed';
}

/** Verifies the bearer token of a JWT route. */
export async function authorizeJwt(
  req: RawRequest,
  auth: Extract<RouteAuth, { type: 'jwt' }>,
  opts: { keys: JWTVerifyGetKey; now: Date },
): Promise<AuthOutcome> {
  const raw = req.headers[auth.identitySource];
  if (!raw || raw.trim() === '') {
    return { ok: false, detail: 'no token', response: unauthorized() };
  }
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, opts.keys, {
      algorithms: JWT_ALGORITHMS,
      issuer: auth.issuer,
      requiredClaims: ['exp'],
      currentDate: opts.now,
    }));
  } catch (error) {
    const description = describe(error);
    return { ok: false, detail: description, response: unauthorized(description) };
  }
  const nowSec = Math.floor(opts.now.getTime() / 1000);
  if (typeof payload.iat === 'number' && payload.iat > nowSec) {
    return {
      ok: false,
      detail: 'iat in the future',
      response: unauthorized('the token was issued in the future'),
    };
  }
  // API Gateway checks `aud`, or `client_id` when the token has no `aud` (access tokens of some IdPs).
  const audiences =
    payload.aud === undefined
      ? [payload.client_id].filter((a) => a !== undefined).map(String)
      : [payload.aud].flat();
  if (!audiences.some((a) => auth.audience.includes(a))) {
    const description = 'the token does not have a valid audience';
    return { ok: false, detail: description, response: unauthorized(description) };
  }
  const scopes =
    typeof payload.scope === 'string'
      ? payload.scope.split(' ').filter((s) => s !== '')
      : Array.isArray(payload.scp)
        ? payload.scp.map(String)
        : null;
  if (auth.scopes && !auth.scopes.some((s) => scopes?.includes(s))) {
    return {
      ok: false,
      detail: 'insufficient scope',
      response: gatewayError(403, 'Forbidden', {
        'www-authenticate': `Bearer scope="${auth.scopes.join(' ')}" error="insufficient_scope" error_description="the token does not have the required scopes"`,
      }),
    };
  }
  const claims = Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, renderClaim(v)]));
  return { ok: true, detail: String(payload.sub), authorizer: { jwt: { claims, scopes } } };
}
