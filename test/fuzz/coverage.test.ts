/**
 * The fuzz covers every HTTP route of serverless.yml: a route added without a fuzz fails here.
 * The fuzzed routes are read from the fuzz files' route tables (`method: '…', path: '…'`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));

function serverlessRoutes(): string[] {
  // CloudFormation tags (!Ref, !GetAtt) are not needed here; only the route table is read.
  const doc = parse(readFileSync(`${root}serverless.yml`, 'utf8'), { logLevel: 'error' }) as {
    functions: Record<string, { events?: { httpApi?: { method: string; path: string } }[] }>;
  };
  return Object.values(doc.functions)
    .flatMap((f) => f.events ?? [])
    .flatMap((e) => (e.httpApi ? [`${e.httpApi.method.toUpperCase()} ${e.httpApi.path}`] : []))
    .sort();
}

function fuzzedRoutes(): string[] {
  const out = new Set<string>();
  for (const file of readdirSync(here).filter((f) => f.endsWith('-routes.test.ts'))) {
    const text = readFileSync(`${here}${file}`, 'utf8');
    for (const m of text.matchAll(/method: '(GET|POST|PUT|DELETE|PATCH)', path: '([^']+)'/g))
      out.add(`${m[1]} ${m[2]}`);
  }
  return [...out].sort();
}

describe('fuzz coverage', () => {
  it('every HTTP route of serverless.yml has a fuzz, and every fuzzed route exists', () => {
    const routes = serverlessRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(17);
    expect(fuzzedRoutes()).toEqual(routes);
  });
});
