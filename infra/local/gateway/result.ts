/**
 * Turns what a handler returned into the HTTP response, as API Gateway HTTP APIs do for payload
 * format 2.0, and the gateway's own error answers.
 *
 * - An object with `statusCode` is a structured response: `headers`, `multiValueHeaders` (a 1.0 field
 *   that 2.0 does not document; accepted and appended so a handler written for 1.0 still works),
 *   `cookies` (one `set-cookie` each), `body`, `isBase64Encoded`.
 * - Anything else (a string, an object without `statusCode`) is 200 `application/json` with the
 *   value as the body: a string as is, anything else JSON-encoded.
 * - A malformed structured response (non-integer status, non-string body) is 500, as API Gateway
 *   answers a response it cannot map.
 */

/** A response the gateway sends. Header names lowercase; `set-cookie` may repeat. */
export interface GatewayResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** The handler's result could not be mapped. */
export class InvalidLambdaResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLambdaResponseError';
  }
}

/** An API Gateway-generated JSON error: `{"message":"…"}`. */
export function gatewayError(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): GatewayResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

const scalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * Maps a payload-2.0 handler result.
 *
 * @example mapResult({ statusCode: 201, body: '{}' }).status // 201
 */
export function mapResult(result: unknown): GatewayResponse {
  if (result === null || typeof result !== 'object' || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  const r = result as Record<string, unknown>;
  const status = r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new InvalidLambdaResponseError('statusCode must be an integer HTTP status');
  }
  const headers: Record<string, string | string[]> = {};
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object') throw new InvalidLambdaResponseError('headers must be an object');
    for (const [k, v] of Object.entries(r.headers)) {
      if (v === undefined || v === null) continue;
      if (!scalar(v)) throw new InvalidLambdaResponseError(`header ${k} must be a string, number or boolean`);
      headers[k.toLowerCase()] = String(v);
    }
  }
  if (r.multiValueHeaders && typeof r.multiValueHeaders === 'object') {
    for (const [k, vs] of Object.entries(r.multiValueHeaders)) {
      if (!Array.isArray(vs)) continue;
      const name = k.toLowerCase();
      const existing = headers[name];
      const values = [...(existing === undefined ? [] : [existing].flat()), ...vs.map(String)];
      headers[name] = name === 'set-cookie' ? values : values.join(',');
    }
  }
  if (r.cookies !== undefined) {
    if (!Array.isArray(r.cookies))
      throw new InvalidLambdaResponseError('cookies must be an array of strings');
    const existing = headers['set-cookie'];
    headers['set-cookie'] = [...(existing === undefined ? [] : [existing].flat()), ...r.cookies.map(String)];
  }
  let body = Buffer.alloc(0);
  if (r.body !== undefined && r.body !== null) {
    if (typeof r.body !== 'string') throw new InvalidLambdaResponseError('body must be a string');
    body = r.isBase64Encoded === true ? Buffer.from(r.body, 'base64') : Buffer.from(r.body);
  }
  if (body.length > 0 && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  return { status, headers, body };
}
