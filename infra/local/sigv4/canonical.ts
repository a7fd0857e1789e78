/**
 * The pieces of a SigV4 canonical request, rebuilt on the server side exactly as botocore
 * (`botocore/auth.py`) and @smithy/signature-v4 build them on the client side.
 */
import { createHash, createHmac } from 'node:crypto';

/** RFC 3986 encoding with only `A-Z a-z 0-9 - _ . ~` left as is (SigV4 "UriEncode"). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Percent-decoding that never throws: a malformed escape stays as written. */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Canonical URI for every service but S3: dot segments and empty segments removed, then the path
 * as sent (already encoded once by the client) encoded again. botocore (`_normalize_url_path` +
 * `quote(safe='/~')`) and smithy (`getCanonicalPath` + `escapeUri`) both double-encode.
 */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  const normalised = `/${segments.join('/')}${trailing}`;
  return normalised
    .split('/')
    .map((s) => uriEncode(s))
    .join('/');
}

/** Splits a raw query string into decoded pairs, in order. `a&b=` gives `[['a',''],['b','']]`. */
export function parseQueryPairs(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const k = eq === -1 ? pair : pair.slice(0, eq);
      const v = eq === -1 ? '' : pair.slice(eq + 1);
      return [safeDecode(k), safeDecode(v)];
    });
}

/** Canonical query string: every pair encoded, sorted by key then value, `exclude` left out. */
export function canonicalQuery(rawQuery: string, exclude: ReadonlySet<string> = new Set()): string {
  return parseQueryPairs(rawQuery)
    .filter(([k]) => !exclude.has(k))
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `name:value\n` per signed header, value trimmed and inner runs of spaces collapsed. */
export function canonicalHeaders(headers: Record<string, string>, signed: string[]): string {
  return signed.map((name) => `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** kSigning = HMAC chain over date, region, service and `aws4_request`. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export interface CanonicalParts {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  return [
    p.method.toUpperCase(),
    canonicalPath(p.path),
    p.query,
    canonicalHeaders(p.headers, p.signedHeaders),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}

/** Hex signature of a canonical request under the given scope. */
export function signCanonical(
  canonical: string,
  amzDate: string,
  scope: { date: string; region: string; service: string },
  secret: string,
): string {
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${scope.date}/${scope.region}/${scope.service}/aws4_request`,
    sha256Hex(canonical),
  ].join('\n');
  return createHmac('sha256', signingKey(secret, scope.date, scope.region, scope.service))
    .update(stringToSign)
    .digest('hex');
}
