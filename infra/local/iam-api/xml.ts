/**
 * IAM Query-protocol response bodies (botocore's IAM model: protocol `query`, namespace
 * `https://iam.amazonaws.com/doc/2010-05-08/`): `text/xml`, the request id both in the
 * `x-amzn-RequestId` header and in the body, a `Date` header always. Lists are `<member>` items.
 * An operation without output (DeletePolicyVersion) answers only its `ResponseMetadata`.
 */
import { xmlEscape, xmlFields } from '../sts/xml';
import type { RawResponse } from '../types';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

export { xmlEscape, xmlFields };

function headers(requestId: string, now: Date): Record<string, string> {
  return { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, date: now.toUTCString() };
}

/** `<{action}Response><{action}Result>…</…Result>?<ResponseMetadata>…</…></…Response>`. */
export function iamSuccessXml(
  action: string,
  resultInnerXml: string | undefined,
  requestId: string,
  now: Date,
): RawResponse {
  const result =
    resultInnerXml === undefined ? '' : `  <${action}Result>${resultInnerXml}</${action}Result>\n`;
  const body =
    `<${action}Response xmlns="${IAM_XMLNS}">\n` +
    result +
    `  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>\n` +
    `</${action}Response>\n`;
  return { status: 200, headers: headers(requestId, now), body };
}

/** The Query-protocol error document (`Error` + top-level `RequestId`), IAM namespace. */
export function iamErrorXml(
  status: number,
  code: string,
  message: string,
  requestId: string,
  now: Date,
): RawResponse {
  const body =
    `<ErrorResponse xmlns="${IAM_XMLNS}">\n` +
    `  <Error>${xmlFields([
      ['Type', status >= 500 ? 'Receiver' : 'Sender'],
      ['Code', code],
      ['Message', message],
    ])}</Error>\n` +
    `  <RequestId>${requestId}</RequestId>\n` +
    `</ErrorResponse>\n`;
  return { status, headers: headers(requestId, now), body };
}
