/**
 * A SigV4 signer written for the tests, independent of the verifier under test (which lives in
 * infra/local/sigv4) and of the SDK signers: it signs under ANY credential scope, so a test can
 * send a request that is correctly signed over a wrong region, service, date or terminator. Then
 * only the scope check can refuse it; the signature itself is right. (Real clients cannot be made
 * to sign a wrong terminator or a scope date that differs from X-Amz-Date.)
 *
 * Follows the published algorithm (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
 * canonical request → string to sign → HMAC chain over date, region, service and terminator.
 */
import { createHash, createHmac } from 'node:crypto';

/** The four parts of a credential scope (the access key id is the fifth, in front). */
export interface HandScope {
  date: string;
  region: string;
  service: string;
  terminator?: string;
}

export interface HandSignInput {
  method: string;
  /** Path as sent; keep it plain (letters, digits, `/`, `-`): it is used as the canonical URI. */
  path: string;
  /** Headers to send and sign (names in any case); must include `host`. */
  headers: Record<string, string>;
  body?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The `X-Amz-Date` header value, e.g. `20261129T100000Z`. */
  amzDate: string;
  scope: HandScope;
  /** Send this `Credential=` text instead of the one built from the scope (malformed ones). */
  credential?: string;
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');

/** `20261129T100000Z` for a Date. */
export function amzDateOf(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The headers of a request signed under `scope` (Authorization, X-Amz-Date, and the session token
 * when given), plus the input headers.
 *
 * @example
 * const headers = handSign({ method: 'POST', path: '/', headers: { host }, body, ...creds,
 *   amzDate: amzDateOf(new Date()), scope: { date: '20261129', region: 'eu-west-1', service: 'sts' } });
 */
export function handSign(input: HandSignInput): Record<string, string> {
  const body = input.body ?? '';
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
  headers['x-amz-date'] = input.amzDate;
  if (input.sessionToken !== undefined) headers['x-amz-security-token'] = input.sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = [
    input.method,
    input.path,
    '',
    ...names.map((n) => `${n}:${headers[n]!.trim()}`),
    '',
    names.join(';'),
    sha256(body),
  ].join('\n');
  const terminator = input.scope.terminator ?? 'aws4_request';
  const scope = `${input.scope.date}/${input.scope.region}/${input.scope.service}/${terminator}`;
  const stringToSign = ['AWS4-HMAC-SHA256', input.amzDate, scope, sha256(canonical)].join('\n');
  const kDate = hmac(`AWS4${input.secretAccessKey}`, input.scope.date);
  const kSigning = hmac(hmac(hmac(kDate, input.scope.region), input.scope.service), terminator);
  const signature = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  const credential = input.credential ?? `${input.accessKeyId}/${scope}`;
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}
