/**
 * Every HTTP route of serverless.yml declares its path and query parameters (lib/http/params.ts),
 * on the function that serves it, and every path parameter of the route is declared as one. The
 * real function modules are loaded and held to the one route table; a route added without its
 * schema fails here (and would answer 404 at run time, closed).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { HttpHandler, RouteParamTable } from '../../../lib/http';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Fn {
  handler: string;
  events?: { httpApi?: { method: string; path: string } }[];
}

// CloudFormation tags (!Ref, !GetAtt) are not needed here; only the function table is read.
const functions = (
  parse(readFileSync(`${root}serverless.yml`, 'utf8'), { logLevel: 'error' }) as {
    functions: Record<string, Fn>;
  }
).functions;

const httpFunctions = Object.entries(functions)
  .map(([name, fn]) => ({
    name,
    module: fn.handler.replace(/\.handler$/, ''),
    routes: (fn.events ?? []).flatMap((e) =>
      e.httpApi ? [{ key: `${e.httpApi.method.toUpperCase()} ${e.httpApi.path}`, path: e.httpApi.path }] : [],
    ),
  }))
  .filter((f) => f.routes.length > 0);

const tables = new Map<string, RouteParamTable>();
const handlers = new Map<string, HttpHandler>();

beforeAll(async () => {
  // The modules read their configuration at load; nothing here reaches a store or the network.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.VEND_ENTITLEMENTS_TABLE ??= 'vend-test-entitlements';
  process.env.VEND_AUDIT_TABLE ??= 'vend-test-audit';
  process.env.VEND_REQUESTS_TABLE ??= 'vend-test-requests';
  process.env.VEND_LIMITS_TABLE ??= 'vend-test-limits';
  process.env.VEND_LOG_LEVEL ??= 'ERROR';
  for (const f of httpFunctions) {
    const mod = (await import(`${root}${f.module}.ts`)) as { handler: HttpHandler };
    tables.set(f.name, mod.handler.params);
    handlers.set(f.name, mod.handler);
  }
});

describe('every route of serverless.yml has its parameter schemas', () => {
  it('there are routes to check', () => {
    expect(httpFunctions.flatMap((f) => f.routes).length).toBeGreaterThanOrEqual(17);
  });

  for (const f of httpFunctions) {
    it(`${f.name}: exactly its routes, each path parameter declared, every value bounded`, () => {
      const table = tables.get(f.name);

      expect(table, `${f.module}.ts declares no params`).toBeDefined();
      expect(Object.keys(table ?? {}).sort()).toEqual(f.routes.map((r) => r.key).sort());
      for (const r of f.routes) {
        const schema = table?.[r.key];
        const inPath = [...r.path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]).sort();
        expect(Object.keys(schema?.path.properties ?? {}).sort(), r.key).toEqual(inPath);
        expect([...(schema?.path.required ?? [])].sort(), r.key).toEqual(inPath);
        for (const p of [
          ...Object.values(schema?.path.properties ?? {}),
          ...Object.values(schema?.query.properties ?? {}),
        ]) {
          expect(p.maxLength, r.key).toBeLessThanOrEqual(4096);
        }
      }
    });
  }
});

describe('every route with a path id refuses a hostile id before its handler runs', () => {
  const hostile = ['A'.repeat(10_240), '\u0000', '../..', '部署🔥'];
  const withId = httpFunctions.flatMap((f) =>
    f.routes.filter((r) => r.path.includes('{id}')).map((r) => ({ fn: f.name, ...r })),
  );

  it('there are such routes', () => {
    expect(withId.map((r) => r.key)).toEqual(
      expect.arrayContaining([
        'GET /v1/requests/{id}',
        'POST /v1/requests/{id}/approve',
        'POST /v1/requests/{id}/deny',
        'POST /v1/requests/{id}/credentials',
        'POST /v1/requests/{id}/cancel',
        'POST /v1/reviews/{id}/sign-off',
      ]),
    );
  });

  for (const r of withId) {
    it(`${r.key}: 404 not_found for 10 kB, NUL, traversal and non-ASCII ids`, async () => {
      const handler = handlers.get(r.fn)!;
      const [method, path] = r.key.split(' ') as [string, string];
      const answers = await Promise.all(
        hostile.map((id) =>
          handler(
            {
              version: '2.0',
              routeKey: r.key,
              rawPath: path.replace('{id}', encodeURIComponent(id)),
              rawQueryString: '',
              headers: {},
              pathParameters: { id },
              isBase64Encoded: false,
              // No authorizer block: were the handler reached, it would refuse with 401 instead.
              requestContext: {
                requestId: 'req-params-1',
                http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
              },
            } as never,
            { awsRequestId: 'lambda-1' } as Context,
          ),
        ),
      );

      expect(answers.map((a) => a.statusCode)).toEqual(hostile.map(() => 404));
      expect(answers.map((a) => JSON.parse(a.body ?? '{}').code)).toEqual(hostile.map(() => 'not_found'));
    });
  }
});
