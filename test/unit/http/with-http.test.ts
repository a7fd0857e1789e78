import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  AuditUnavailableError,
  ConflictError,
  NotEntitledError,
  RateLimitedError,
  UpstreamUnavailableError,
} from '../../../lib/domain/errors';
import { compileBodySchema, type HttpResult, jsonObjectBody, routeParams, withHttp } from '../../../lib/http';
import { createLog, LOG_FIELDS, type LogTarget } from '../../../lib/log';
import fixture from './fixtures/post-credentials.json';

interface VendBody {
  entitlement: string;
  durationSeconds?: number;
}

// Compiled once, as a function module would at load.
const vendBody = compileBodySchema<VendBody>({
  type: 'object',
  additionalProperties: false,
  required: ['entitlement'],
  properties: {
    entitlement: { type: 'string', minLength: 1, maxLength: 64 },
    durationSeconds: { type: 'integer', minimum: 900, maximum: 3600, nullable: true },
  },
});

interface Approve {
  comment?: string;
}
const approveBody = compileBodySchema<Approve>({
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { comment: { type: 'string', maxLength: 100, nullable: true } },
});

const context = { awsRequestId: 'lambda-req-1' } as Context;

// The fixture's route key; these specs are about the body and errors, not parameters (./params.test.ts).
const PARAMS = { 'POST /v1/service/credentials': routeParams({}) };

function event(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return { ...(structuredClone(fixture) as APIGatewayProxyEventV2), ...overrides };
}

function recorder() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const target = {
    info: (message: string, fields: Record<string, unknown>) =>
      lines.push({ level: 'info', message, fields }),
    warn: (message: string, fields: Record<string, unknown>) =>
      lines.push({ level: 'warn', message, fields }),
    error: (message: string, fields: Record<string, unknown>) =>
      lines.push({ level: 'error', message, fields }),
  } as unknown as LogTarget;
  return { lines, log: createLog(target) };
}

function vendHandler(impl: (body: VendBody) => Promise<HttpResult>) {
  const { lines, log } = recorder();
  const calls: VendBody[] = [];
  const handler = withHttp<VendBody>(
    async ({ body, annotate }) => {
      calls.push(body);
      annotate({ entitlement: body.entitlement, callerId: 'arn:aws:iam::111122223333:role/CICDDeployRole' });
      return impl(body);
    },
    { route: 'POST /v1/service/credentials', params: PARAMS, schema: vendBody, bodyLimitBytes: 1024, log },
  );
  return { handler, calls, lines };
}

function problemOf(body: string | undefined): Record<string, unknown> {
  return JSON.parse(body ?? 'null') as Record<string, unknown>;
}

describe('withHttp: success', () => {
  it('hands the handler the validated body and answers JSON with no-store and the request id', async () => {
    const { handler, calls } = vendHandler(async (body) => ({ body: { echoed: body.entitlement } }));

    const res = await handler(event(), context);

    expect(calls).toEqual([{ entitlement: 'prod-s3-read', durationSeconds: 900 }]);
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['Content-Type']).toBe('application/json');
    expect(res.headers?.['Cache-Control']).toBe('no-store');
    expect(res.headers?.['X-Request-Id']).toBe('req-fixture-0001');
    expect(JSON.parse(res.body ?? '')).toEqual({ echoed: 'prod-s3-read' });
  });

  it('decodes a base64 body before parsing it', async () => {
    const { handler, calls } = vendHandler(async () => ({ statusCode: 201, body: {} }));
    const raw = JSON.stringify({ entitlement: 'staging-deploy' });

    const res = await handler(
      event({ body: Buffer.from(raw).toString('base64'), isBase64Encoded: true }),
      context,
    );

    expect(res.statusCode).toBe(201);
    expect(calls).toEqual([{ entitlement: 'staging-deploy' }]);
  });

  it('reads Content-Type whatever its header-name case', async () => {
    const { handler, calls } = vendHandler(async () => ({ body: {} }));

    const res = await handler(
      event({ headers: { 'CONTENT-TYPE': 'application/json; charset=utf-8' } }),
      context,
    );

    expect(res.statusCode).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it('validates an absent body as {} so optional-only bodies need none', async () => {
    const seen: Approve[] = [];
    const handler = withHttp<Approve>(
      async ({ body }) => {
        seen.push(body);
        return { statusCode: 204 };
      },
      { route: 'POST /v1/requests/{id}/approve', params: PARAMS, schema: approveBody, log: recorder().log },
    );

    const res = await handler(event({ body: undefined, headers: {} }), context);

    expect(res.statusCode).toBe(204);
    expect(res.body).toBeUndefined();
    expect(res.headers?.['Cache-Control']).toBe('no-store');
    expect(seen).toEqual([{}]);
  });

  it('falls back to the Lambda request id when API Gateway gave none', async () => {
    const { handler } = vendHandler(async () => ({ body: {} }));
    const e = event();
    (e.requestContext as { requestId?: string }).requestId = undefined;

    const res = await handler(e, context);

    expect(res.headers?.['X-Request-Id']).toBe('lambda-req-1');
  });
});

describe('withHttp: malformed requests', () => {
  it('answers invalid JSON with 400 problem+json and does not echo the body', async () => {
    const { handler, calls } = vendHandler(async () => ({ body: {} }));

    const res = await handler(event({ body: '{"entitlement": "prod-s3-read", oops' }), context);

    expect(res.statusCode).toBe(400);
    expect(res.headers?.['Content-Type']).toBe('application/problem+json');
    expect(problemOf(res.body)).toEqual({
      type: 'https://vend.dev/problems/invalid_request',
      title: 'Invalid request',
      status: 400,
      detail: 'the request body is not valid JSON',
      code: 'invalid_request',
      requestId: 'req-fixture-0001',
    });
    expect(res.body).not.toContain('oops');
    expect(calls).toHaveLength(0);
  });

  it('answers a non-JSON content type with 400 invalid_request', async () => {
    const { handler } = vendHandler(async () => ({ body: {} }));

    const res = await handler(event({ headers: { 'content-type': 'text/plain' } }), context);

    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).detail).toBe('Content-Type must be application/json');
  });

  it('answers a schema violation with 400 naming the field, not the value', async () => {
    const { handler } = vendHandler(async () => ({ body: {} }));

    const res = await handler(
      event({ body: JSON.stringify({ entitlement: 'prod-s3-read', durationSeconds: 99999 }) }),
      context,
    );

    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).detail).toBe('body/durationSeconds must be <= 3600');
    expect(res.body).not.toContain('99999');
  });

  it('answers an unknown property with 400', async () => {
    const { handler } = vendHandler(async () => ({ body: {} }));

    const res = await handler(
      event({ body: JSON.stringify({ entitlement: 'x', roleArn: 'arn:aws:iam::1:role/x' }) }),
      context,
    );

    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).detail).toBe('body has an unknown property "roleArn"');
  });

  it('answers an oversized body with 413 before parsing it', async () => {
    const { handler, calls } = vendHandler(async () => ({ body: {} }));
    // Invalid JSON as well: the size check must win, proving it runs before the parser.
    const big = `{"entitlement":"${'a'.repeat(2000)}`;

    const res = await handler(event({ body: big }), context);

    expect(res.statusCode).toBe(413);
    expect(problemOf(res.body).code).toBe('payload_too_large');
    expect(res.headers?.['Cache-Control']).toBe('no-store');
    expect(calls).toHaveLength(0);
  });

  it('applies the limit to a base64 body', async () => {
    const { handler } = vendHandler(async () => ({ body: {} }));
    const raw = JSON.stringify({ entitlement: 'a'.repeat(2000) });

    const res = await handler(
      event({ body: Buffer.from(raw).toString('base64'), isBase64Encoded: true }),
      context,
    );

    expect(res.statusCode).toBe(413);
  });

  it('accepts a body of exactly the limit', async () => {
    const { handler } = vendHandler(async () => ({ body: {} }));
    const prefix = '{"entitlement":"';
    const body = `${prefix}${'a'.repeat(1024 - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(body)).toBe(1024);

    const res = await handler(event({ body }), context);

    // The schema caps entitlement at 64 characters, so 400 (not 413) proves the size check passed.
    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).detail).toBe('body/entitlement must NOT have more than 64 characters');
  });
});

describe('withHttp: errors from the use case', () => {
  it.each([
    [new NotEntitledError('prod-admin'), 403, 'not_entitled'],
    [new ConflictError('request r1 is already approved'), 409, 'conflict'],
    [new AuditUnavailableError('the audit log could not be written'), 503, 'audit_unavailable'],
  ])('maps %s to its status and code', async (error, status, code) => {
    const { handler } = vendHandler(async () => {
      throw error;
    });

    const res = await handler(event(), context);

    expect(res.statusCode).toBe(status);
    expect(problemOf(res.body)).toMatchObject({
      type: `https://vend.dev/problems/${code}`,
      status,
      code,
      detail: error.detail,
      requestId: 'req-fixture-0001',
    });
    expect(res.headers?.['Cache-Control']).toBe('no-store');
    expect(res.headers?.['Retry-After']).toBeUndefined();
  });

  it('sends Retry-After for upstream_unavailable', async () => {
    const { handler } = vendHandler(async () => {
      throw new UpstreamUnavailableError('STS is throttling; retry later', 7);
    });

    const res = await handler(event(), context);

    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('7');
  });

  it('sends Retry-After for rate_limited, rounding fractions up', async () => {
    const { handler } = vendHandler(async () => {
      throw new RateLimitedError('too many vends', 2.2);
    });

    const res = await handler(event(), context);

    expect(res.statusCode).toBe(429);
    expect(res.headers?.['Retry-After']).toBe('3');
  });

  it('turns an unknown error into a generic 500 that leaks nothing', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const { handler, lines } = vendHandler(async () => {
      throw new Error(`boom: SecretAccessKey=${secret} ExternalId=prod-s3-ext-19c2`);
    });

    const res = await handler(event(), context);

    expect(res.statusCode).toBe(500);
    expect(problemOf(res.body)).toEqual({
      type: 'https://vend.dev/problems/internal_error',
      title: 'Internal error',
      status: 500,
      detail: 'An unexpected error occurred. Quote the requestId if you report it.',
      code: 'internal_error',
      requestId: 'req-fixture-0001',
    });
    expect(res.body).not.toContain('boom');
    expect(res.headers?.['Cache-Control']).toBe('no-store');
    const logged = JSON.stringify(lines);
    expect(logged).toContain('boom');
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain('prod-s3-ext-19c2');
  });

  it("never shows a VendError's cause to the caller", async () => {
    const cause = new Error('SessionToken=IQoJb3JpZ2luX2VjEXAMPLE ExternalId=prod-s3-ext-19c2');
    const { handler } = vendHandler(async () => {
      throw new UpstreamUnavailableError('STS is unavailable; retry later', 2, { cause });
    });

    const res = await handler(event(), context);

    expect(res.body).not.toContain('IQoJb3JpZ2luX2VjEXAMPLE');
    expect(res.body).not.toContain('prod-s3-ext-19c2');
    expect(problemOf(res.body).detail).toBe('STS is unavailable; retry later');
  });

  it('turns a handler result that cannot be serialised into a 500, still no-store', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const { handler } = vendHandler(async () => ({ body: circular }));

    const res = await handler(event(), context);

    expect(res.statusCode).toBe(500);
    expect(res.headers?.['Cache-Control']).toBe('no-store');
    expect(res.headers?.['Content-Type']).toBe('application/problem+json');
  });
});

describe('withHttp: access log', () => {
  it('writes one line with allow-listed fields only, never the body or headers', async () => {
    const { handler, lines } = vendHandler(async () => ({
      body: { credentials: { SecretAccessKey: 'sekrit' } },
    }));

    await handler(
      event({ headers: { 'content-type': 'application/json', authorization: 'Bearer abc.def' } }),
      context,
    );

    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line?.fields).toMatchObject({
      requestId: 'req-fixture-0001',
      route: 'POST /v1/service/credentials',
      status: 200,
      entitlement: 'prod-s3-read',
      callerId: 'arn:aws:iam::111122223333:role/CICDDeployRole',
    });
    expect(Object.keys(line?.fields ?? {}).every((k) => (LOG_FIELDS as string[]).includes(k))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('sekrit');
    expect(JSON.stringify(lines)).not.toContain('Bearer');
  });

  it('drops fields outside the allow-list even when a caller forces them in', () => {
    const { lines, log } = recorder();

    log.info('x', { requestId: 'r', authorization: 'Bearer t' } as never);

    expect(lines[0]?.fields).toEqual({ requestId: 'r' });
  });
});

describe('jsonObjectBody', () => {
  it.each([['[]'], ['"text"'], ['42'], ['null']])('answers the non-object body %s with 400', async (raw) => {
    const handler = withHttp<Record<string, unknown>>(async ({ body }) => ({ body }), {
      route: 'POST /v1/credentials',
      params: PARAMS,
      schema: jsonObjectBody(),
      log: recorder().log,
    });

    const res = await handler(event({ body: raw }), context);

    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).detail).toBe('body must be object');
  });

  it('passes any object through untouched', async () => {
    const handler = withHttp<Record<string, unknown>>(async ({ body }) => ({ body }), {
      route: 'POST /v1/credentials',
      params: PARAMS,
      schema: jsonObjectBody(),
      log: recorder().log,
    });

    const res = await handler(event({ body: '{"entitlement":"x","extra":{"a":[1]}}' }), context);

    expect(JSON.parse(res.body ?? '')).toEqual({ entitlement: 'x', extra: { a: [1] } });
  });
});
