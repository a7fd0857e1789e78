/**
 * Errors become HTTP here, and only here.
 *
 * A {@link VendError} becomes an RFC 9457 problem document with its own status, code and detail.
 * Anything else (a bug, an SDK fault nobody translated, a middy timeout) becomes a generic 500
 * `internal_error` whose detail says nothing about the cause: unknown errors may carry request
 * values, upstream messages or secrets, so none of their text reaches the caller. The log line for
 * such an error is the operator's way in (lib/log.ts scrubs it).
 *
 * Problem `type` URIs are `https://vend.dev/problems/<code>`; docs/errors.md describes each one.
 * The URI is an identifier first: clients switch on `code` (or `type`), never on `title`/`detail`.
 */
import { type ProblemCode, RateLimitedError, UpstreamUnavailableError, VendError } from '../domain/errors';

/** Base of every problem `type` URI; the code is appended. Stable: changing it breaks clients. */
export const PROBLEM_TYPE_BASE = 'https://vend.dev/problems/';

/** The code of the generic 500 (not in CONTRACT §4's table, because no caller can act on it). */
export const INTERNAL_ERROR_CODE = 'internal_error';

/** Seconds suggested in `Retry-After` when an error does not carry its own. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The RFC 9457 body vend sends. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode | typeof INTERNAL_ERROR_CODE;
  requestId: string;
}

/** An API Gateway (payload 2.0) result carrying a problem document. */
export interface ProblemResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers on every vend response, success or failure: credentials must never be cached. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

/** The problem `type` URI for a code, e.g. `https://vend.dev/problems/not_entitled`. */
export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + code;
}

/**
 * Maps any thrown value to a problem document.
 *
 * @example
 * toProblem(new NotEntitledError('prod-admin'), 'req-1').status // 403
 * toProblem(new Error('db password is hunter2'), 'req-1').detail // 'An unexpected error occurred…' (no leak)
 */
export function toProblem(error: unknown, requestId: string): ProblemDocument {
  if (error instanceof VendError) {
    return {
      type: problemType(error.code),
      title: error.title,
      status: error.status,
      detail: error.detail,
      code: error.code,
      requestId,
    };
  }
  return {
    type: problemType(INTERNAL_ERROR_CODE),
    title: 'Internal error',
    status: 500,
    detail: 'An unexpected error occurred. Quote the requestId if you report it.',
    code: INTERNAL_ERROR_CODE,
    requestId,
  };
}

/** `Retry-After` in whole seconds for errors the caller should retry, else undefined. */
export function retryAfterSeconds(error: unknown): number | undefined {
  if (error instanceof RateLimitedError || error instanceof UpstreamUnavailableError) {
    const seconds = Math.ceil(error.retryAfterSeconds);
    return Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_RETRY_AFTER_SECONDS;
  }
  return undefined;
}

/**
 * The full HTTP response for a thrown value: problem+json body, no-store, `Retry-After` where
 * {@link retryAfterSeconds} says so, and the request id echoed as `X-Request-Id`.
 */
export function problemResponse(error: unknown, requestId: string): ProblemResponse {
  const problem = toProblem(error, requestId);
  const headers: Record<string, string> = {
    ...NO_STORE_HEADERS,
    'Content-Type': 'application/problem+json',
    'X-Request-Id': requestId,
  };
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  return { statusCode: problem.status, headers, body: JSON.stringify(problem) };
}
