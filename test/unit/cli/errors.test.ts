import { describe, expect, it } from 'vitest';
import {
  ApiResponseError,
  AuthError,
  describeError,
  EXIT,
  networkReason,
  problemToError,
  RefusedError,
  UnavailableError,
} from '../../../lib/cli/errors';

const problem = (status: number, code: string, detail = 'detail text', extra = {}) =>
  new ApiResponseError(
    status,
    {
      type: `https://vend.dev/problems/${code}`,
      title: code,
      status,
      code,
      detail,
      requestId: 'req-1',
      ...extra,
    },
    undefined,
    undefined,
  );

describe('problemToError', () => {
  it('approval_required names the command to ask for access', () => {
    const e = problemToError(problem(403, 'approval_required'), { entitlement: 'prod-admin' });

    expect(e).toBeInstanceOf(RefusedError);
    expect(e.message).toBe(
      'not entitled to prod-admin without approval; ask for it with: vend request prod-admin --reason "…"',
    );
    expect(e.exitCode).toBe(EXIT.refused);
  });

  it('not_entitled points at vend entitlements and keeps the server detail', () => {
    const e = problemToError(problem(403, 'not_entitled', 'no rule lets alice use prod-deploy'), {
      entitlement: 'prod-deploy',
    });

    expect(e.message).toBe(
      'not entitled to prod-deploy: no rule lets alice use prod-deploy; see what you may use with: vend entitlements',
    );
  });

  it('other 4xx problems pass the detail and request id through with exit 1', () => {
    const e = problemToError(
      problem(400, 'duration_out_of_range', 'durationSeconds must be between 900 and 3600'),
    );

    expect(e.message).toBe('durationSeconds must be between 900 and 3600 (request id req-1)');
    expect(e.exitCode).toBe(1);
  });

  it('an expired VEND_TOKEN says so (exit 3)', () => {
    const e = problemToError(new ApiResponseError(401, undefined, 'Unauthorized', undefined), {
      mode: 'person',
      tokenSource: 'VEND_TOKEN',
      tokenExpiresAt: 1000,
      now: new Date(2_000_000),
    });

    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toMatch(/^the token in VEND_TOKEN has expired/);
  });

  it('an expired login asks to log in again', () => {
    const e = problemToError(new ApiResponseError(401, undefined, 'Unauthorized', undefined), {
      mode: 'person',
      tokenSource: 'login',
    });

    expect(e.message).toMatch(/run vend login$/);
  });

  it('a refused signature on a service route is an auth error naming the AWS profile', () => {
    const e = problemToError(new ApiResponseError(403, undefined, 'Forbidden', undefined), {
      mode: 'service',
    });

    expect(e.exitCode).toBe(EXIT.auth);
    expect(e.message).toMatch(/AWS_PROFILE/);
  });

  it('429 and 503 are "unavailable" with the Retry-After', () => {
    const limited = problemToError(
      new ApiResponseError(429, { code: 'rate_limited', detail: 'slow down' }, undefined, '7'),
    );
    const down = problemToError(
      new ApiResponseError(
        503,
        { code: 'upstream_unavailable', detail: 'STS is unavailable' },
        undefined,
        '2',
      ),
    );

    expect(limited).toBeInstanceOf(UnavailableError);
    expect(limited.message).toBe('rate limited: slow down; try again in 7 s');
    expect(down.exitCode).toBe(EXIT.unavailable);
    expect(down.message).toMatch(/try again in 2 s/);
  });

  it('collapses a multi-line detail into one line', () => {
    expect(problemToError(problem(400, 'invalid_request', 'a\nb\n  c')).message).toBe(
      'a b c (request id req-1)',
    );
  });
});

describe('networkReason and describeError', () => {
  it("reads the code from fetch's cause", () => {
    const e = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });

    expect(networkReason(e)).toBe('connection refused');
  });

  it('reports an unknown error by its first line only, exit 1', () => {
    const e = new Error('boom\n    at secret (file.ts:1:1)');

    expect(describeError(e)).toEqual({ message: 'boom', exitCode: 1 });
  });
});

describe('networkReason without a code', () => {
  it('uses the innermost message', () => {
    expect(networkReason(new TypeError('fetch failed', { cause: new Error('bad port') }))).toBe('bad port');
  });
});
