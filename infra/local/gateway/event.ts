/**
 * Builds the Lambda event exactly as API Gateway HTTP APIs do (payload format 2.0), and the Lambda
 * context the handler gets.
 *
 * Choices, each matching what HTTP APIs do (docs/local-stack.md has the list):
 * - `headers`: names lowercased, repeated headers joined with `,`; the `cookie` header moves to
 *   `cookies` (split on `;`); `x-forwarded-for`, `x-forwarded-port`, `x-forwarded-proto` and
 *   `x-amzn-trace-id` are added.
 * - `queryStringParameters`, `pathParameters`, `body`, `cookies` are absent when empty.
 *   Repeated query parameters are joined with `,`.
 * - The body is passed as text only for text content types (`text/*`, JSON, XML, JavaScript);
 *   everything else, `application/x-www-form-urlencoded` (Slack) and a missing content type
 *   included, arrives base64-encoded with `isBase64Encoded: true`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { FunctionDef } from './serverless';

/** The authorizer block of `requestContext`, per authorizer type. */
export type EventAuthorizer =
  | {
      iam: {
        accessKey: string;
        accountId: string;
        callerId: string;
        cognitoIdentity: null;
        principalOrgId: null;
        userArn: string;
        userId: string;
      };
    }
  | { jwt: { claims: Record<string, string>; scopes: string[] | null } };

/** The event of payload format 2.0 with the authorizer variants the gateway produces. */
export type HttpApiEvent = Omit<APIGatewayProxyEventV2, 'requestContext'> & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & { authorizer?: EventAuthorizer };
};

/** What {@link buildEvent} needs from the request. */
export interface EventInput {
  method: string;
  /** Path as sent, without query. */
  path: string;
  /** Raw query string without `?`. */
  query: string;
  /** Lowercased header names; repeated headers already joined with `,`. */
  headers: Record<string, string>;
  body: Buffer;
  sourceIp: string;
  /** Local port the request came in on, for `x-forwarded-port`. */
  port: number;
  routeKey: string;
  pathParameters: Record<string, string>;
  authorizer?: EventAuthorizer;
  apiId: string;
  accountId: string;
  requestId: string;
  now: Date;
}

const TEXT_TYPES =
  /^(text\/[^;]+|application\/(([\w.+-]+\+)?json|([\w.+-]+\+)?xml|javascript|ecmascript))(\s*;.*)?$/i;

/** True when API Gateway would pass a body of this content type as text (not base64). */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPES.test(contentType.trim());
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** `12/Mar/2020:19:03:58 +0000`, the CLF time API Gateway puts in `requestContext.time`. */
export function clfTime(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** An HTTP API request id: 16 characters, base64-ish, ending in `=` (e.g. `JKJaXmPLvHcESHA=`). */
export function newRequestId(): string {
  return `${randomBytes(11).toString('base64').slice(0, 15).replace(/[+/]/g, 'A')}=`;
}

/** `Root=1-<epoch hex>-<24 hex>`, the X-Ray trace header API Gateway adds. */
function traceId(now: Date): string {
  return `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

function joinedQuery(query: string): Record<string, string> | undefined {
  if (!query) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    out[k] = k in out ? `${out[k]},${v}` : v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Builds the payload-2.0 event for one request.
 *
 * @example buildEvent({ method: 'GET', path: '/v1/health', query: '', headers: { host: 'x' }, … }).routeKey
 */
export function buildEvent(input: EventInput): HttpApiEvent {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(input.headers)) {
    if (name === 'cookie') {
      cookies = value.split(/;\s*/).filter((c) => c !== '');
      continue;
    }
    headers[name] = value;
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${input.sourceIp}`
    : input.sourceIp;
  headers['x-forwarded-port'] = String(input.port);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= traceId(input.now);
  const host = input.headers.host ?? `127.0.0.1:${input.port}`;
  const domainName = host.replace(/:\d+$/, '');
  const contentType = input.headers['content-type'];
  const hasBody = input.body.length > 0;
  const asText = hasBody && isTextContentType(contentType);
  const queryStringParameters = joinedQuery(input.query);
  return {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.path,
    rawQueryString: input.query,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: input.accountId,
      apiId: input.apiId,
      ...(input.authorizer ? { authorizer: input.authorizer } : {}),
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: input.method.toUpperCase(),
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: input.sourceIp,
        userAgent: input.headers['user-agent'] ?? '',
      },
      requestId: input.requestId,
      routeKey: input.routeKey,
      stage: '$default',
      time: clfTime(input.now),
      timeEpoch: input.now.getTime(),
    },
    ...(Object.keys(input.pathParameters).length > 0 ? { pathParameters: { ...input.pathParameters } } : {}),
    ...(hasBody ? { body: asText ? input.body.toString('utf8') : input.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !asText,
  } as HttpApiEvent;
}

/**
 * A Lambda context for one invocation: names from serverless.yml, the remaining time counted from
 * the function's timeout.
 */
export function lambdaContext(
  fn: FunctionDef,
  opts: { region: string; accountId: string; nowMs: () => number },
): Context {
  const deadline = opts.nowMs() + fn.timeoutSeconds * 1000;
  const awsRequestId = randomUUID();
  const day = new Date(opts.nowMs()).toISOString().slice(0, 10).replace(/-/g, '/');
  const unsupported = (): never => {
    throw new Error(
      'the local gateway supports async handlers only; return a promise instead of calling done/succeed/fail',
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${opts.region}:${opts.accountId}:function:${fn.name}`,
    memoryLimitInMB: String(fn.memorySize),
    awsRequestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - opts.nowMs()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
