/**
 * STS response bodies exactly as fact sheet §2 shows them: `text/xml`, the 2011-06-15 namespace,
 * the request id both in the `x-amzn-RequestId` header and in the body, a `Date` header always.
 */
import type { RawResponse } from '../types';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<Name>value</Name>` for each defined entry, in order. */
export function xmlFields(fields: Array<[string, string | number | undefined]>): string {
  return fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
    .join('');
}

function headers(requestId: string, now: Date): Record<string, string> {
  return { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, date: now.toUTCString() };
}

/** `<{action}Response><{action}Result>…</…Result><ResponseMetadata>…</…></…Response>`. */
export function successXml(
  action: string,
  resultInnerXml: string,
  requestId: string,
  now: Date,
): RawResponse {
  const body =
    `<${action}Response xmlns="${STS_XMLNS}">\n` +
    `  <${action}Result>${resultInnerXml}</${action}Result>\n` +
    `  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>\n` +
    `</${action}Response>\n`;
  return { status: 200, headers: headers(requestId, now), body };
}

/** The Query-protocol error document botocore and smithy parse (`Error` + top-level `RequestId`). */
export function errorXml(
  status: number,
  code: string,
  message: string,
  requestId: string,
  now: Date,
  type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
): RawResponse {
  const body =
    `<ErrorResponse xmlns="${STS_XMLNS}">\n` +
    `  <Error>${xmlFields([
      ['Type', type],
      ['Code', code],
      ['Message', message],
    ])}</Error>\n` +
    `  <RequestId>${requestId}</RequestId>\n` +
    `</ErrorResponse>\n`;
  return { status, headers: headers(requestId, now), body };
}
