/**
 * Server-side SigV4 verification for the local AWS endpoint (STS, DynamoDB) and the local API
 * Gateway (`execute-api`). Follows fact sheet §6: rebuild the canonical request from the client's
 * SignedHeaders only, look the key up, check the session token, the expiry and the clock skew, then
 * compare signatures in constant time. Error codes are the STS (Query protocol) ones; JSON services
 * map them with {@link toJsonServiceError}.
 */
import { timingSafeEqual } from 'node:crypto';
import type { KeyRecord, RawRequest, SigV4Result } from '../types';
import { canonicalQuery, canonicalRequest, parseQueryPairs, sha256Hex, signCanonical } from './canonical';

export interface VerifyOptions {
  /** Signing name that must appear in the credential scope: `sts`, `dynamodb`, `execute-api`. */
  service: string;
  lookup: (accessKeyId: string) => KeyRecord | undefined;
  now: Date;
}

const SKEW_MS = 15 * 60 * 1000;
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
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  securityToken?: string;
  /** Canonical query string the client signed (presigned URLs sign all but X-Amz-Signature). */
  query: string;
  presigned: boolean;
  expiresSeconds?: number;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) {
    const d = new Date(value); // `Date:` header (RFC 7231) is allowed when X-Amz-Date is absent
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** `20260129T101500Z`, the format the skew messages use. */
export function formatAmzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function parseCredential(
  credential: string,
): Omit<Claim, 'signedHeaders' | 'signature' | 'amzDate' | 'query' | 'presigned'> | string {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') {
    return `Credential should be scoped to a valid region, not '${parts[2] ?? ''}'. `;
  }
  const [accessKeyId, date, region, service] = parts as [string, string, string, string, string];
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service) {
    return 'Credential should be scoped to a valid region. ';
  }
  return { accessKeyId, date, region, service };
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
  const cred = parseCredential(fields.get('Credential')!);
  if (typeof cred === 'string') return fail(400, 'IncompleteSignature', cred);
  return {
    ...cred,
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
  const cred = parseCredential(params.get('X-Amz-Credential')!);
  if (typeof cred === 'string') return fail(400, 'IncompleteSignature', cred);
  const expires = params.get('X-Amz-Expires');
  return {
    ...cred,
    signedHeaders: params.get('X-Amz-SignedHeaders')!.split(';'),
    signature: params.get('X-Amz-Signature')!,
    amzDate: params.get('X-Amz-Date')!,
    securityToken: params.get('X-Amz-Security-Token') ?? req.headers['x-amz-security-token'],
    query: canonicalQuery(req.query, new Set(['X-Amz-Signature'])),
    presigned: true,
    expiresSeconds: expires === undefined ? undefined : Number(expires),
  };
}

function constantTimeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare equal-length buffers always, so the time does not reveal where they differ.
  const same = ab.length === bb.length;
  return timingSafeEqual(same ? ab : bb, bb) && same;
}

/**
 * Verifies a SigV4-signed request (Authorization header or presigned query).
 *
 * @example
 * const r = verifySigV4(req, { service: 'sts', lookup: (id) => store.lookupAccessKey(id), now: new Date() });
 * if (!r.ok) return errorResponse(r.status, r.code, r.message);
 */
export function verifySigV4(req: RawRequest, opts: VerifyOptions): SigV4Result {
  const auth = req.headers.authorization;
  const queryAuth = /(^|&)X-Amz-Algorithm=/.test(req.query);
  if (!auth && !queryAuth)
    return fail(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  const claim = auth ? claimFromHeader(req, auth) : claimFromQuery(req);
  if ('ok' in claim) return claim;

  if (claim.service !== opts.service) {
    return fail(
      403,
      'SignatureDoesNotMatch',
      `Credential should be scoped to correct service: '${opts.service}'. `,
    );
  }
  if (!claim.signedHeaders.includes('host')) {
    return fail(403, 'SignatureDoesNotMatch', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }

  const key = opts.lookup(claim.accessKeyId);
  if (!key) return fail(403, 'InvalidClientTokenId', INVALID_TOKEN_MESSAGE);
  if (key.sessionToken !== undefined || claim.securityToken !== undefined) {
    if (key.sessionToken === undefined || claim.securityToken !== key.sessionToken) {
      return fail(403, 'InvalidClientTokenId', INVALID_TOKEN_MESSAGE);
    }
  }
  if (key.expiration !== undefined && Date.parse(key.expiration) <= opts.now.getTime()) {
    return fail(403, 'ExpiredToken', EXPIRED_TOKEN_MESSAGE);
  }

  const signedAt = parseAmzDate(claim.amzDate);
  if (!signedAt)
    return fail(
      400,
      'IncompleteSignature',
      `Date must be in ISO-8601 'basic format'. Got '${claim.amzDate}'.`,
    );
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
    if (signedAt.getTime() - SKEW_MS > nowMs) return skewedFuture(signedAt, opts.now);
  } else {
    if (signedAt.getTime() < nowMs - SKEW_MS) {
      const now = formatAmzDate(opts.now);
      return fail(
        403,
        'SignatureDoesNotMatch',
        `Signature expired: ${formatAmzDate(signedAt)} is now earlier than ${formatAmzDate(new Date(nowMs - SKEW_MS))} (${now} - 15 min.)`,
      );
    }
    if (signedAt.getTime() > nowMs + SKEW_MS) return skewedFuture(signedAt, opts.now);
  }

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
      { date: claim.date, region: claim.region, service: claim.service },
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

function skewedFuture(signedAt: Date, now: Date): Failure {
  return fail(
    403,
    'SignatureDoesNotMatch',
    `Signature not yet current: ${formatAmzDate(signedAt)} is still later than ${formatAmzDate(new Date(now.getTime() + SKEW_MS))} (${formatAmzDate(now)} + 15 min.)`,
  );
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
