/**
 * openapi.yaml against the code it describes, without a stack: every route of serverless.yml is
 * documented with the authentication its authorizer enforces and exactly the parameters its function
 * checks; every schema compiles (JSON Schema 2020-12, strict); the problem codes are the domain's; and
 * lib/api/openapi.d.ts is what `npm run gen:api` makes of the file today. (What the routes answer is
 * held to it by test/e2e/openapi.test.ts.)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createConfig, lint } from '@redocly/openapi-core';
import Ajv2020 from 'ajv/dist/2020';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROBLEM_STATUS } from '../../../lib/domain/errors';
import type { HttpHandler, RouteParamTable } from '../../../lib/http';
import { openApi, openApiOperations } from '../../support/openapi';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

interface HttpApiEvent {
  method: string;
  path: string;
  authorizer?: { type?: string; name?: string };
}
interface Fn {
  handler: string;
  events?: { httpApi?: HttpApiEvent }[];
}

const functions = (
  parse(await readFile(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    functions: Record<string, Fn>;
  }
).functions;

/** Every httpApi route of serverless.yml: its key, its function module and its authorizer. */
const routes = Object.values(functions).flatMap((fn) =>
  (fn.events ?? []).flatMap((e) =>
    e.httpApi
      ? [
          {
            key: `${e.httpApi.method.toUpperCase()} ${e.httpApi.path}`,
            module: fn.handler.replace(/\.handler$/, ''),
            authorizer: e.httpApi.authorizer,
          },
        ]
      : [],
  ),
);

const operations = new Map(openApiOperations().map((o) => [o.key, o]));
const tables = new Map<string, RouteParamTable>();

beforeAll(async () => {
  // The function modules read their configuration at load; nothing here reaches a store.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.VEND_ENTITLEMENTS_TABLE ??= 'vend-test-entitlements';
  process.env.VEND_AUDIT_TABLE ??= 'vend-test-audit';
  process.env.VEND_REQUESTS_TABLE ??= 'vend-test-requests';
  process.env.VEND_LIMITS_TABLE ??= 'vend-test-limits';
  process.env.VEND_LOG_LEVEL ??= 'ERROR';
  for (const module of new Set(routes.map((r) => r.module))) {
    const mod = (await import(`${root}${module}.ts`)) as { handler: HttpHandler };
    tables.set(module, mod.handler.params);
  }
});

/** The security requirement a serverless.yml authorizer means. */
function securityFor(route: (typeof routes)[number]): Record<string, string[]>[] {
  if (route.authorizer?.type === 'aws_iam') return [{ sigv4: [] }];
  if (route.authorizer?.name) return [{ [route.authorizer.name]: [] }];
  if (route.key.includes(' /v1/slack/')) return [{ slackSignature: [] }];
  return [];
}

describe('openapi.yaml covers serverless.yml', () => {
  it('there are routes to check', () => {
    expect(routes.length).toBeGreaterThanOrEqual(17);
  });

  it('documents every route of serverless.yml', () => {
    const missing = routes.map((r) => r.key).filter((k) => !operations.has(k));

    expect(missing, 'routes in serverless.yml that openapi.yaml does not document').toEqual([]);
  });

  it('documents no other route, except those issue 15 adds (marked as such)', () => {
    const served = new Set(routes.map((r) => r.key));
    const extra = [...operations.values()].filter((o) => !served.has(o.key));

    for (const o of extra) {
      expect(o.operation.description ?? '', `${o.key} is in openapi.yaml only`).toMatch(/Added by issue 15/);
    }
  });

  it.each(routes.map((r) => [r.key, r] as const))(
    '%s: the security its authorizer enforces',
    (key, route) => {
      expect(operations.get(key)?.operation.security).toEqual(securityFor(route));
    },
  );

  it.each(routes.map((r) => [r.key, r] as const))(
    '%s: exactly the parameters its function checks, with the same schema',
    (key, route) => {
      const table = tables.get(route.module)?.[key];
      const o = operations.get(key);
      const pathItem = openApi().paths[o?.path ?? ''] as { parameters?: Record<string, unknown>[] };
      const documented = [...(pathItem.parameters ?? []), ...(o?.operation.parameters ?? [])].map((p) => {
        const ref = p.$ref as string | undefined;
        return ref ? (openApi().components.parameters[ref.split('/').pop() ?? ''] ?? {}) : p;
      });
      const shape = (where: 'path' | 'query') =>
        Object.fromEntries(
          Object.entries(table?.[where].properties ?? {}).map(([name, { description: _, ...schema }]) => [
            name,
            { in: where, required: where === 'path', schema },
          ]),
        );

      expect(table, `${route.module}.ts declares no params for ${key}`).toBeDefined();
      expect(
        Object.fromEntries(
          documented.map((p) => [p.name, { in: p.in, required: p.required === true, schema: p.schema }]),
        ),
      ).toEqual({ ...shape('path'), ...shape('query') });
    },
  );
});

describe('openapi.yaml is sound', () => {
  it("is a valid OpenAPI 3.1 document by Redocly's recommended-strict rules (structure, refs, security, tags)", async () => {
    const config = await createConfig({ extends: ['recommended-strict'] });

    const problems = await lint({ ref: join(root, 'openapi.yaml'), config });

    expect(problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`)).toEqual([]);
  });

  it('is OpenAPI 3.1 and every schema compiles as JSON Schema 2020-12 (strict), every $ref resolves', () => {
    const doc = openApi();
    const ajv = new Ajv2020({ strict: true });
    ajv.addFormat('date-time', true).addFormat('uri', true);
    const rewrite = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(rewrite)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v).map(([k, x]) => [
                k,
                k === '$ref' && typeof x === 'string'
                  ? x.replace('#/components/schemas/', 'defs#/$defs/')
                  : rewrite(x),
              ]),
            )
          : v;
    ajv.addSchema({ $id: 'defs', $defs: rewrite(doc.components.schemas) as object });
    const schemas: unknown[] = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'schema') schemas.push(x);
          else collect(x);
        }
      }
    };
    collect(doc.paths);
    collect(doc.components.responses);
    collect(doc.components.headers);
    collect(doc.components.parameters);

    expect(doc.openapi).toBe('3.1.0');
    for (const name of Object.keys(doc.components.schemas))
      expect(ajv.getSchema(`defs#/$defs/${name}`)).toBeDefined();
    for (const s of schemas) expect(() => ajv.compile(rewrite(s) as object)).not.toThrow();
    const refs = JSON.stringify(doc).match(/"#\/components\/[^"]+"/g) ?? [];
    for (const ref of refs) {
      const [, kind, name] = JSON.parse(ref).split('/').slice(1) as [string, string, string];
      expect((doc.components as Record<string, Record<string, unknown>>)[kind]?.[name], ref).toBeDefined();
    }
  });

  it('the problem codes are the domain codes plus internal_error, each response naming codes of its own status', () => {
    const doc = openApi();
    const codes = (doc.components.schemas.ProblemCode as { enum: string[] }).enum;

    expect([...codes].sort()).toEqual([...Object.keys(PROBLEM_STATUS), 'internal_error'].sort());
    for (const [name, response] of Object.entries({
      ...doc.components.responses,
      ForbiddenProblem: {
        content: { 'application/problem+json': { schema: doc.components.schemas.ForbiddenProblem } },
      },
    })) {
      const schema = response.content?.['application/problem+json']?.schema as
        | {
            allOf?: {
              properties?: { status?: { const: number }; code?: { const?: string; enum?: string[] } };
            }[];
          }
        | undefined;
      const narrowed = schema?.allOf?.[1]?.properties;
      if (!narrowed) continue;
      const status = narrowed.status?.const;
      const named = narrowed.code?.enum ?? (narrowed.code?.const ? [narrowed.code.const] : []);
      expect(named.length, name).toBeGreaterThan(0);
      for (const code of named) {
        const expected =
          code === 'internal_error' ? 500 : PROBLEM_STATUS[code as keyof typeof PROBLEM_STATUS];
        expect(expected, `${name}: ${code}`).toBe(status);
      }
    }
  });

  it('every 429 carries Retry-After', () => {
    for (const { key, operation } of openApiOperations()) {
      const r = operation.responses['429'];
      if (!r) continue;
      const response = r.$ref ? openApi().components.responses[r.$ref.split('/').pop() ?? ''] : r;
      const header = response?.headers?.['Retry-After'];
      const resolved = header?.$ref
        ? openApi().components.headers[header.$ref.split('/').pop() ?? '']
        : header;
      expect(resolved?.required, key).toBe(true);
    }
  });
});

describe('lib/api/openapi.d.ts', () => {
  it('is what `npm run gen:api` generates from openapi.yaml today', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vend-openapi-'));
    try {
      const out = join(dir, 'openapi.d.ts');
      await run(
        process.execPath,
        [join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.yaml', '-o', out],
        {
          cwd: root,
        },
      );

      expect(
        await readFile(join(root, 'lib/api/openapi.d.ts'), 'utf8'),
        'run `npm run gen:api` and commit',
      ).toBe(await readFile(out, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
