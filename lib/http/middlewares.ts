/**
 * The small custom middy middlewares vend needs beyond middy's own (header normaliser, JSON body
 * parser). Composed in one order by `withHttp` (./index.ts); exported for tests and for functions
 * with unusual needs (e.g. Slack's form-encoded bodies).
 *
 * Why not @middy/http-error-handler: it sets `Content-Type: application/json` on every error and has
 * no notion of problem documents or `Retry-After`, so {@link problemErrors} does the same job (expose
 * only known errors, generic 500 for the rest) in RFC 9457 form.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareObj, Request } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InvalidRequestError, PayloadTooLargeError, VendError } from '../domain/errors';
import { log as defaultLog, type LogFields, type VendLog } from '../log';
import { type CompiledRouteParams, checkParams } from './params';
import { NO_STORE_HEADERS, problemResponse, toProblem } from './problem';
import type { BodyValidator } from './validate';

/** 64 KiB: a vend body is an entitlement id, a duration, a reason and at most a 2 KB session policy. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** Per-request state shared by the middlewares and the handler. */
export interface RequestState {
  requestId: string;
  startedAt: number;
  /** Allow-listed fields the handler adds for the access log line (caller, entitlement, audit id). */
  logFields: Pick<LogFields, 'callerId' | 'entitlement' | 'auditId'>;
}

const states = new WeakMap<object, RequestState>();

/**
 * The state {@link problemErrors} attached to a request, keyed by the event object (middlewares
 * mutate the event in place, never replace it, and each invocation gets its own event).
 */
export function requestState(event: object): RequestState {
  const state = states.get(event);
  if (!state) throw new Error('problemErrors() must be the first middleware in the chain');
  return state;
}

/** What a vend handler returns: a status (default 200), a JSON-serialisable body, extra headers. */
export interface HttpResult {
  statusCode?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type HttpRequest = Request<APIGatewayProxyEventV2, unknown>;

function requestIdOf(request: HttpRequest): string {
  const fromGateway = request.event?.requestContext?.requestId;
  if (typeof fromGateway === 'string' && fromGateway) return fromGateway;
  const fromLambda = (request.context as { awsRequestId?: unknown } | undefined)?.awsRequestId;
  return typeof fromLambda === 'string' && fromLambda ? fromLambda : randomUUID();
}

/**
 * Outermost middleware: request id and timing (before), JSON serialisation and no-store headers
 * (after), problem+json for every error (onError), and one allow-listed access log line either way.
 * Register it FIRST so its after/onError run LAST.
 */
export function problemErrors(opts: { route?: string; log?: VendLog; now?: () => number }): MiddlewareObj {
  const log = opts.log ?? defaultLog;
  const now = opts.now ?? (() => performance.now());
  return {
    before: (request) => {
      states.set(request.event as object, {
        requestId: requestIdOf(request as HttpRequest),
        startedAt: now(),
        logFields: {},
      });
    },
    after: (request) => {
      const state = requestState(request.event as object);
      const result = (request.response ?? {}) as HttpResult;
      const statusCode = result.statusCode ?? 200;
      const response: APIGatewayProxyStructuredResultV2 = {
        statusCode,
        headers: {
          ...result.headers,
          ...NO_STORE_HEADERS,
          'X-Request-Id': state.requestId,
          ...(result.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(result.body === undefined ? {} : { body: JSON.stringify(result.body) }),
      };
      request.response = response;
      log.info('request', {
        ...state.logFields,
        requestId: state.requestId,
        route: opts.route ?? routeOf(request as HttpRequest),
        status: statusCode,
        durationMs: Math.round(now() - state.startedAt),
      });
    },
    onError: (request) => {
      // An error before problemErrors.before ran (impossible when registered first) still gets an id.
      const state = states.get(request.event as object) ?? {
        requestId: requestIdOf(request as HttpRequest),
        startedAt: now(),
        logFields: {},
      };
      const error: unknown = request.error;
      const response = problemResponse(error, state.requestId);
      request.response = response;
      const fields: LogFields = {
        ...state.logFields,
        requestId: state.requestId,
        route: opts.route ?? routeOf(request as HttpRequest),
        status: response.statusCode,
        code: toProblem(error, state.requestId).code,
        durationMs: Math.round(now() - state.startedAt),
      };
      if (!(error instanceof VendError)) {
        // Unknown: the operator needs something to go on; the caller got nothing. Scrubbed by log.
        log.error('request failed', { ...fields, ...describeError(error) });
      } else if (response.statusCode >= 500) {
        log.warn('request failed', { ...fields, ...describeError(error.cause, error.name) });
      } else {
        log.info('request', fields);
      }
    },
  };
}

function routeOf(request: HttpRequest): string | undefined {
  const key = request.event?.routeKey;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

function describeError(error: unknown, name?: string): Pick<LogFields, 'errorName' | 'errorMessage'> {
  if (error instanceof Error) {
    return { errorName: name ? `${name} <- ${error.name}` : error.name, errorMessage: error.message };
  }
  return name ? { errorName: name } : { errorName: typeof error };
}

/**
 * Checks the path and query parameters against the schemas of the event's route (./params.ts)
 * before anything else looks at them: 404 `not_found` for a path parameter without its shape or a
 * route not in the table, 400 `invalid_request` for a query parameter that is unknown, too long or
 * malformed. The route is the event's `routeKey` (API Gateway always sets it), else `route`.
 */
export function pathAndQuery(opts: {
  routes: ReadonlyMap<string, CompiledRouteParams>;
  route?: string | undefined;
}): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: (request) => {
      const key = request.event.routeKey;
      checkParams(opts.routes, typeof key === 'string' && key !== '' ? key : opts.route, request.event);
    },
  };
}

/**
 * Rejects bodies over `limitBytes` with 413 `payload_too_large` BEFORE anything parses them, and
 * decodes base64 bodies (API Gateway base64-encodes non-text content types) so later middlewares
 * see text. The limit applies to the decoded bytes.
 */
export function bodyLimit(opts: { limitBytes: number }): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: (request) => {
      const event = request.event;
      if (event.body === undefined || event.body === null || event.body === '') return;
      // Cheap pre-check on the encoded size so a huge base64 body is refused without decoding it.
      const encodedBytes = event.isBase64Encoded
        ? Math.floor((event.body.length * 3) / 4)
        : Buffer.byteLength(event.body);
      if (encodedBytes > opts.limitBytes + 2) throw tooLarge(encodedBytes, opts.limitBytes);
      if (event.isBase64Encoded) {
        const decoded = Buffer.from(event.body, 'base64');
        if (decoded.length > opts.limitBytes) throw tooLarge(decoded.length, opts.limitBytes);
        event.body = decoded.toString('utf8');
        event.isBase64Encoded = false;
      } else if (encodedBytes > opts.limitBytes) {
        throw tooLarge(encodedBytes, opts.limitBytes);
      }
    },
  };
}

function tooLarge(bytes: number, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the request body is about ${bytes} bytes; the limit is ${limit}`);
}

const JSON_MIME = /^application\/(.+\+)?json($|;.+)/i;

/**
 * Parses a JSON body with middy's parser and validates it with a compiled schema. An absent or empty
 * body is validated as `{}` so optional-only bodies (`{comment?}`) need no body at all, while a
 * schema with required properties still answers 400 naming the missing one. A present body must be
 * `application/json` (or `+json`); anything else is 400 `invalid_request`, as is malformed JSON.
 * middy's parser answers both with 415 and keeps the raw body in the error's cause; vend answers 400
 * (CONTRACT §4 has no 415) and drops that cause so the body can never reach a log.
 */
export function jsonBody<T>(validator: BodyValidator<T>): MiddlewareObj<APIGatewayProxyEventV2> {
  const parser = httpJsonBodyParser<APIGatewayProxyEventV2>();
  return {
    before: async (request) => {
      const event = request.event;
      // After parsing, `body` holds the validated object rather than the raw string.
      const parsed = event as unknown as { body?: unknown };
      if (event.body === undefined || event.body === null || event.body === '') {
        parsed.body = validator({});
        return;
      }
      const contentType = event.headers?.['content-type'];
      if (!contentType || !JSON_MIME.test(contentType)) {
        throw new InvalidRequestError('Content-Type must be application/json');
      }
      try {
        // middy's parser reads `content-type` after http-header-normalizer lower-cased it.
        await parser.before?.(request);
      } catch {
        throw new InvalidRequestError('the request body is not valid JSON');
      }
      parsed.body = validator(parsed.body);
    },
  };
}
