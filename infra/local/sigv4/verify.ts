/**
 * Server-side SigV4 verification for the local AWS endpoint (STS, DynamoDB, and any service routed
 * there later) and the local API Gateway (`execute-api`). Follows fact sheet §6: rebuild the
 * canonical request from the client's SignedHeaders only, check the request date and the credential
 * scope, look the key up, check its session token and expiry, then compare signatures in constant
 * time. Error codes are the STS (Query protocol) ones; JSON services map them with
 * {@link toJsonServiceError}.
 *
 * The credential scope (`<key>/<YYYYMMDD>/<region>/<service>/aws4_request`) is checked in full,
 * because a signature is only meant for the date, region and service it names: a request signed for
 * another region or service must not be honoured here even if the key is right. The order of the
 * checks and their messages are AWS's, as DynamoDB's answers were recorded in dynalite's
 * `index.js` (mhart/dynalite; the comments of `httpHandler`, in node_modules/dynalite):
 *
 * 1. auth present and complete (`MissingAuthenticationToken`, `IncompleteSignature`);
 * 2. the request date: ISO 8601 basic format, then within the allowed skew of the server's clock
 *    (`Signature expired: … (… - 15 min.)` / `Signature not yet current: … (… + 15 min.)`);
 * 3. `host` among the SignedHeaders;
 * 4. the credential has five slash-separated parts (`IncompleteSignature`);
 * 5. the scope: region, service, terminator and date, every wrong part named in one message
 *    (`SignatureDoesNotMatch`);
 * 6. the key, its session token and expiry; 7. the signature.
 *
 * Where AWS's messages come from:
 * - region: `Credential should be scoped to a valid region. ` (STS, hashicorp/terraform-provider-aws
 *   #34865, 2023; API Gateway, n8n-io/n8n#21337, 2025; older answers added `, not '<region>'`, as
 *   in Kong/insomnia#830 and cognitect-labs/aws-api#27);
 * - service: `Credential should be scoped to correct service: '<service>'. ` (API Gateway,
 *   Kong/insomnia#830; CloudFormation's Query API, timkay/aws#111; DynamoDB, arnemolland/sigv4#15);
 * - terminator and date, and how the parts are joined: DynamoDB's recorded answer in dynalite;
 * - skew: `Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z
 *   (20220127T015928Z - 15 min.)` from STS (aws/aws-cli#6676, devsecops/bootcamp#101); API Gateway
 *   allows 5 minutes and says `(… - 5 min.)` (AWS re:Post "API Gateway 403 troubleshooting",
 *   repost.aws/questions/QUdUp8J3LVS_OdlzmjXq09RA, and many third-party reports).
 */
import { timingSafeEqual } from 'node:crypto';
import type { KeyRecord, RawRequest, SigV4Result } from '../types';
import { canonicalQuery, canonicalRequest, parseQueryPairs, sha256Hex, signCanonical } from './canonical';

export interface VerifyOptions {
  /** Signing name the credential scope must name: `sts`, `dynamodb`, `execute-api` ({@link signingNameOf}). */
  service: string;
  /** Region the credential scope must name: the region this endpoint or API is in. */
  region: string;
  lookup: (accessKeyId: string) => KeyRecord | undefined;
  now: Date;
  /**
   * How far the request date may be from `now`, either way, in minutes: 15 for STS and DynamoDB
   * (the default), 5 for API Gateway.
   */
  maxSkewMinutes?: number;
}

/** The skew AWS services allow by default (STS, DynamoDB, KMS): 15 minutes either way. */
export const DEFAULT_MAX_SKEW_MINUTES = 15;
const TERMINATOR = 'aws4_request';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
export const INVALID_TOKEN_MESSAGE = 'The security token included in the request is invalid.';
export const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';

type Failure = Extract<SigV4Result, { ok: false }>;

const fail = (status: number, code: string, message: string): Failure => ({
  ok: false,
  status,
  code,
  message,
});

/** What the client claimed, from the Authorization header or from the presigned query. */
interface Claim {
  /** `X-Amz-Credential` / `Credential=` as sent; its parts are checked after the date. */
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  securityToken?: string;
  /** Canonical query string the client signed (presigned URLs sign all but X-Amz-Signature). */
  query: string;
  presigned: boolean;
  expiresSeconds?: number;
}

/** The five parts of a well-formed credential. */
interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) {
    const d = new Date(value); // `Date:` header (RFC 7231) is allowed when X-Amz-Date is absent
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** `20260129T101500Z`, the format the skew messages use. */
export function formatAmzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The signing name a request to the local AWS endpoint must be scoped to, from the service it is
 * routed to: `X-Amz-Target: DynamoDB_20120810.*` is DynamoDB, `TrentService.*` is KMS, anything
 * else (the Query protocol) is STS.
 *
 * @example signingNameOf({ ...req, headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem' } }) // 'dynamodb'
 */
export function signingNameOf(req: Pick<RawRequest, 'headers'>): string {
  const target = req.headers['x-amz-target'] ?? '';
  if (target.startsWith('DynamoDB_')) return 'dynamodb';
  if (target.startsWith('TrentService.')) return 'kms';
  return 'sts';
}

function claimFromHeader(req: RawRequest, auth: string): Claim | Failure {
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) {
    return fail(
      400,
      'IncompleteSignature',
      'Unsupported AWS authorization scheme; expected AWS4-HMAC-SHA256.',
    );
  }
  const fields = new Map<string, string>();
  for (const part of auth.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields.get(f));
  const amzDate = req.headers['x-amz-date'] ?? req.headers.date;
  const problems = missing.map((f) => `Authorization header requires '${f}' parameter.`);
  if (!amzDate)
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (problems.length > 0) return fail(400, 'IncompleteSignature', problems.join(' '));
  return {
    credential: fields.get('Credential')!,
    signedHeaders: fields.get('SignedHeaders')!.split(';'),
    signature: fields.get('Signature')!,
    amzDate: amzDate!,
    securityToken: req.headers['x-amz-security-token'],
    query: canonicalQuery(req.query),
    presigned: false,
  };
}

function claimFromQuery(req: RawRequest): Claim | Failure {
  const params = new Map(parseQueryPairs(req.query));
  if (params.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    return fail(400, 'IncompleteSignature', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const required = ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Date'];
  const missing = required.filter((k) => !params.get(k));
  if (missing.length > 0) {
    return fail(
      400,
      'IncompleteSignature',
      `AWS query-string parameters must include ${missing.map((m) => `'${m}'`).join(', ')}. Re-examine the query-string parameters.`,
    );
  }
  const expires = params.get('X-Amz-Expires');
  return {
    credential: params.get('X-Amz-Credential')!,
    signedHeaders: params.get('X-Amz-SignedHeaders')!.split(';'),
    signature: params.get('X-Amz-Signature')!,
    amzDate: params.get('X-Amz-Date')!,
    securityToken: params.get('X-Amz-Security-Token') ?? req.headers['x-amz-security-token'],
    query: canonicalQuery(req.query, new Set(['X-Amz-Signature'])),
    presigned: true,
    expiresSeconds: expires === undefined ? undefined : Number(expires),
  };
}

/**
 * Step 4: five parts or `IncompleteSignature` 400, AWS's message (DynamoDB's recorded answer:
 * `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,
 * got 'a/b/c/d'`). The access key id it repeats is not a secret.
 */
function splitCredential(credential: string): Scope | Failure {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    return fail(
      400,
      'IncompleteSignature',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminator };
}

/**
 * Step 5: every part of the scope that is wrong, in AWS's order and words, joined as AWS joins
 * them (each sentence ends `. `; the date sentence ends `.`). `undefined` when the scope is right.
 *
 * @example
 * scopeProblems({ date: '20260101', region: 'eu-west-1', service: 'sts', terminator: 'aws4_request' },
 *   { region: 'us-east-1', service: 'sts', signedAt: new Date('2026-01-01T10:00:00Z') })
 * // "Credential should be scoped to a valid region. "
 */
export function scopeProblems(
  scope: Pick<Scope, 'date' | 'region' | 'service' | 'terminator'>,
  expected: { region: string; service: string; signedAt: Date },
): string | undefined {
  const signedAt = formatAmzDate(expected.signedAt);
  const day = signedAt.slice(0, 8);
  let message = '';
  if (scope.region !== expected.region) message += 'Credential should be scoped to a valid region. ';
  if (scope.service !== expected.service)
    message += `Credential should be scoped to correct service: '${expected.service}'. `;
  if (scope.terminator !== TERMINATOR)
    message += `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${scope.terminator}'. `;
  if (scope.date !== day)
    message += `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${day}', from '${signedAt}'.`;
  return message === '' ? undefined : message;
}

function constantTimeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare equal-length buffers always, so the time does not reveal where they differ.
  const same = ab.length === bb.length;
  return timingSafeEqual(same ? ab : bb, bb) && same;
}

/**
 * Verifies a SigV4-signed request (Authorization header or presigned query): the credential scope
 * in full (region, service, terminator, date), the request date against the clock, the key, and the
 * signature. A presigned request gets the same checks as a signed header, and its `X-Amz-Expires`
 * as well.
 *
 * @example
 * const r = verifySigV4(req, { service: 'sts', region: 'us-east-1', lookup: (id) => store.lookupAccessKey(id), now: new Date() });
 * if (!r.ok) return errorResponse(r.status, r.code, r.message);
 */
export function verifySigV4(req: RawRequest, opts: VerifyOptions): SigV4Result {
  const auth = req.headers.authorization;
  const queryAuth = /(^|&)X-Amz-Algorithm=/.test(req.query);
  if (!auth && !queryAuth)
    return fail(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  const claim = auth ? claimFromHeader(req, auth) : claimFromQuery(req);
  if ('ok' in claim) return claim;

  // 2. The request date, before anything about the key (AWS's order).
  const httpDate = !claim.presigned && req.headers['x-amz-date'] === undefined;
  const signedAt = httpDate || AMZ_DATE.test(claim.amzDate) ? parseAmzDate(claim.amzDate) : undefined;
  if (!signedAt) {
    return fail(
      400,
      'IncompleteSignature',
      `Date must be in ISO-8601 'basic format'. Got '${claim.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  const skewMinutes = opts.maxSkewMinutes ?? DEFAULT_MAX_SKEW_MINUTES;
  const skewMs = skewMinutes * 60_000;
  const nowMs = opts.now.getTime();
  if (claim.presigned) {
    const expires = claim.expiresSeconds ?? 900;
    if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
      return fail(
        400,
        'AuthorizationQueryParametersError',
        'X-Amz-Expires must be between 1 and 604800 seconds.',
      );
    }
    if (signedAt.getTime() + expires * 1000 < nowMs) return fail(403, 'AccessDenied', 'Request has expired');
  }
  if (signedAt.getTime() < nowMs - skewMs) {
    return fail(
      403,
      'SignatureDoesNotMatch',
      `Signature expired: ${formatAmzDate(signedAt)} is now earlier than ${formatAmzDate(new Date(nowMs - skewMs))} (${formatAmzDate(opts.now)} - ${skewMinutes} min.)`,
    );
  }
  if (signedAt.getTime() > nowMs + skewMs) {
    return fail(
      403,
      'SignatureDoesNotMatch',
      `Signature not yet current: ${formatAmzDate(signedAt)} is still later than ${formatAmzDate(new Date(nowMs + skewMs))} (${formatAmzDate(opts.now)} + ${skewMinutes} min.)`,
    );
  }

  // 3. Host must be signed.
  if (!claim.signedHeaders.includes('host')) {
    return fail(403, 'SignatureDoesNotMatch', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // 4–5. The credential scope, every part of it.
  const scope = splitCredential(claim.credential);
  if ('ok' in scope) return scope;
  const problems = scopeProblems(scope, { region: opts.region, service: opts.service, signedAt });
  if (problems !== undefined) return fail(403, 'SignatureDoesNotMatch', problems);

  // 6. The key.
  const key = opts.lookup(scope.accessKeyId);
  if (!key) return fail(403, 'InvalidClientTokenId', INVALID_TOKEN_MESSAGE);
  if (key.sessionToken !== undefined || claim.securityToken !== undefined) {
    if (key.sessionToken === undefined || claim.securityToken !== key.sessionToken) {
      return fail(403, 'InvalidClientTokenId', INVALID_TOKEN_MESSAGE);
    }
  }
  if (key.expiration !== undefined && Date.parse(key.expiration) <= nowMs) {
    return fail(403, 'ExpiredToken', EXPIRED_TOKEN_MESSAGE);
  }

  // 7. The signature.
  const bodyHash = sha256Hex(req.body);
  const declared = req.headers['x-amz-content-sha256'];
  // Presigned URLs may be signed over the body hash (botocore, smithy) or UNSIGNED-PAYLOAD (S3 style).
  const candidates = declared ? [declared] : claim.presigned ? [bodyHash, UNSIGNED_PAYLOAD] : [bodyHash];
  for (const payloadHash of candidates) {
    const canonical = canonicalRequest({
      method: req.method,
      path: req.path,
      query: claim.query,
      headers: req.headers,
      signedHeaders: claim.signedHeaders,
      payloadHash,
    });
    const expected = signCanonical(
      canonical,
      claim.amzDate,
      { date: scope.date, region: scope.region, service: scope.service },
      key.secretAccessKey,
    );
    if (constantTimeEqualHex(expected, claim.signature)) {
      // The declared hash is signed, but the body could still have been swapped under it:
      // outside S3 the body is what counts, so a mismatch is a signature mismatch.
      if (declared && declared !== UNSIGNED_PAYLOAD && declared !== bodyHash) break;
      return { ok: true, key };
    }
  }
  return fail(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH_MESSAGE);
}

/** A verifier bound to one endpoint's region and key store: `(request, now) → result`. */
export type RequestVerifier = (req: RawRequest, now: Date) => SigV4Result;

/**
 * The verifier of the local AWS endpoint: the scope must name the endpoint's region and the
 * service the request is routed to ({@link signingNameOf}), so a request signed for DynamoDB cannot
 * be replayed at STS, nor one signed for another region anywhere.
 *
 * @example
 * const verify = endpointVerifier({ region: 'us-east-1', lookup: (id) => store.lookupAccessKey(id) });
 * const r = verify(req, new Date()); // X-Amz-Target DynamoDB_… → scope must be …/us-east-1/dynamodb/aws4_request
 */
export function endpointVerifier(opts: Pick<VerifyOptions, 'region' | 'lookup'>): RequestVerifier {
  return (req, now) => verifySigV4(req, { ...opts, service: signingNameOf(req), now });
}

/**
 * The same failures as JSON-protocol services (DynamoDB) report them: HTTP 400 with a
 * `com.amazon.coral.service#…Exception` type, which botocore and smithy read from `__type`.
 */
export function toJsonServiceError(f: Failure): { status: number; type: string; message: string } {
  const map: Record<string, string> = {
    MissingAuthenticationToken: 'MissingAuthenticationTokenException',
    IncompleteSignature: 'IncompleteSignatureException',
    InvalidClientTokenId: 'UnrecognizedClientException',
    ExpiredToken: 'ExpiredTokenException',
    SignatureDoesNotMatch: 'InvalidSignatureException',
    AccessDenied: 'AccessDeniedException',
  };
  const code = map[f.code] ?? f.code;
  return { status: 400, type: `com.amazon.coral.service#${code}`, message: f.message };
}
