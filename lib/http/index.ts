/**
 * The HTTP chain every vend function shares: `withHttp(handler, options)`.
 *
 * Order (before → handler → after/onError in reverse):
 * 1. {@link problemErrors}: request id, timing; on the way out JSON + `Cache-Control: no-store` on
 *    success, RFC 9457 problem+json on any error, one allow-listed access log line.
 * 2. @middy/http-header-normalizer: header names lower-cased, so `content-type` is one key.
 * 3. {@link pathAndQuery}: the route's path and query parameters against its schemas (./params.ts):
 *    404 for a malformed path id, 400 for a bad query parameter, before anything reads a store.
 * 4. {@link bodyLimit}: 413 before parsing; base64 bodies decoded.
 * 5. {@link jsonBody} (only with a `schema`): content type, middy's JSON parser, schema validation.
 * 6. the handler: gets the typed body and returns `{ statusCode?, body?, headers? }`.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type {
  APIGatewayEventRequestContextIAMAuthorizer,
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { VendError } from '../domain/errors';
import { log as defaultLog, type LogFields, type VendLog } from '../log';
import {
  bodyLimit,
  DEFAULT_BODY_LIMIT_BYTES,
  type HttpResult,
  jsonBody,
  pathAndQuery,
  problemErrors,
  requestState,
} from './middlewares';
import { compileRouteParams, type RouteParamTable } from './params';
import type { BodyValidator } from './validate';

export { personFrom, requestFacts } from './event-facts';
export { DEFAULT_BODY_LIMIT_BYTES, type HttpResult } from './middlewares';
export {
  type CompiledRouteParams,
  compileRouteParams,
  param,
  type RouteParams,
  type RouteParamTable,
  routeParams,
  type StringParam,
} from './params';
export { PROBLEM_TYPE_BASE, problemResponse, problemType, toProblem } from './problem';
export { type BodyValidator, compileBodySchema, jsonObjectBody } from './validate';

/**
 * The event vend's routes receive (HTTP API, payload 2.0): an IAM (SigV4) or JWT authorizer context,
 * or neither on public routes. The default event type of {@link withHttp}.
 */
export type HttpApiEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & {
    authorizer?: Partial<APIGatewayEventRequestContextIAMAuthorizer> &
      Partial<APIGatewayEventRequestContextJWTAuthorizer>;
  }
>;

/** What a handler wrapped by {@link withHttp} receives. */
export interface HttpRequest<TBody, TEvent extends APIGatewayProxyEventV2 = HttpApiEvent> {
  /** The API Gateway event (payload 2.0), header names lower-cased. Its `body` is the parsed body. */
  event: TEvent;
  /** The body, validated against the schema (`undefined` when the route has no schema). */
  body: TBody;
  /** API Gateway's request id (falls back to Lambda's); also returned as `X-Request-Id`. */
  requestId: string;
  context: Context;
  /** Adds allow-listed identifiers to this request's access log line. */
  annotate(fields: Pick<LogFields, 'callerId' | 'entitlement' | 'auditId'>): void;
}

/** Options of {@link withHttp}. */
export interface HttpOptions<TBody, TEvent extends APIGatewayProxyEventV2 = HttpApiEvent> {
  /** Route for logs, e.g. `POST /v1/service/credentials`; default: the event's `routeKey`. */
  route?: string;
  /** Compiled once at module load with `compileBodySchema`. Omit for routes without a body. */
  schema?: BodyValidator<TBody>;
  /**
   * The path and query parameters of every route this function serves, by route key as in
   * serverless.yml (`routeParams({})` for a route that takes none). Compiled once, here. Required:
   * an event whose route key is not in the table is answered 404 before the handler runs.
   */
  params: RouteParamTable;
  /** Default {@link DEFAULT_BODY_LIMIT_BYTES} (64 KiB). */
  bodyLimitBytes?: number;
  /** Tests inject a recorder; default is the process log (lib/log.ts). */
  log?: VendLog;
  /**
   * Called for a refusal raised by the chain itself, before the handler ran (413, not JSON, schema),
   * so routes that audit every decision can audit these too. Its own failure is logged, never
   * answered: the caller still gets the refusal.
   */
  onRefused?: (error: VendError, event: TEvent) => Promise<void>;
}

/** The Lambda handler {@link withHttp} returns; `params` is the route table it checks (for tests and docs). */
export type HttpHandler<TEvent extends APIGatewayProxyEventV2 = HttpApiEvent> = ((
  event: TEvent,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>) & { readonly params: RouteParamTable };

/**
 * Wraps a use-case handler in vend's HTTP chain.
 *
 * @example
 * const body = compileBodySchema<VendBody>(vendBodySchema); // module scope: compiled once
 * export const handler = withHttp(
 *   async ({ body, event, annotate }) => {
 *     annotate({ entitlement: body.entitlement });
 *     return { body: await vend.run(callerFrom(event), body) };
 *   },
 *   { schema: body, params: { 'POST /v1/service/credentials': routeParams({}) } },
 * );
 */
export function withHttp<TBody = undefined, TEvent extends APIGatewayProxyEventV2 = HttpApiEvent>(
  handler: (request: HttpRequest<TBody, TEvent>) => Promise<HttpResult>,
  options: HttpOptions<TBody, TEvent>,
): HttpHandler<TEvent> {
  const chain = middy<TEvent, HttpResult | APIGatewayProxyStructuredResultV2>();
  chain.use(problemErrors({ route: options.route, log: options.log }));
  // Registered second so its onError runs just before problemErrors' (middy unwinds in reverse).
  const handled = new WeakSet<object>();
  const onRefused = options.onRefused;
  if (onRefused) {
    const log = options.log ?? defaultLog;
    chain.use({
      onError: async (request) => {
        const error = request.error;
        if (!(error instanceof VendError) || handled.has(request.event as object)) return;
        try {
          await onRefused(error, request.event as TEvent);
        } catch (e) {
          log.error('refusal not recorded', {
            code: error.code,
            errorName: e instanceof Error ? e.name : typeof e,
          });
        }
      },
    });
  }
  chain.use(httpHeaderNormalizer());
  chain.use(pathAndQuery({ routes: compileRouteParams(options.params), route: options.route }));
  chain.use(bodyLimit({ limitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES }));
  if (options.schema) chain.use(jsonBody(options.schema));
  chain.handler(async (event, context) => {
    handled.add(event as object);
    const state = requestState(event);
    return handler({
      event,
      body: (options.schema ? event.body : undefined) as TBody,
      requestId: state.requestId,
      context,
      annotate: (fields) => {
        state.logFields = { ...state.logFields, ...fields };
      },
    });
  });
  return Object.assign(chain, { params: options.params }) as unknown as HttpHandler<TEvent>;
}
