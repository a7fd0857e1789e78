/**
 * Path and query parameters at the edge (lib/http/params.ts): malformed path ids are 404 and bad
 * query parameters 400 before the handler runs, the checker accepts only the JSON Schema subset it
 * implements, and it agrees with Ajv on every schema it is given.
 */

import { Ajv } from 'ajv';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, NotFoundError, type VendError } from '../../../lib/domain/errors';
import { routeParams as checkOnly, withHttp } from '../../../lib/http';
import {
  checkParams,
  compileParams,
  compileRouteParams,
  type ParamSchema,
  param,
  routeParams,
  type StringParam,
} from '../../../lib/http/params';
import { ulid } from '../../../lib/ids';
import { createLog, type LogTarget } from '../../../lib/log';
import fixture from './fixtures/post-credentials.json';

const REQUEST = 'GET /v1/requests/{id}';
const LIST = 'GET /v1/requests';
const table = compileRouteParams({
  [REQUEST]: routeParams({ path: { id: param.id('request') } }),
  [LIST]: routeParams({
    query: {
      status: param.oneOf(['pending', 'approved'], 'a request status'),
      cursor: param.text('^[A-Za-z0-9_-]{1,64}$', 64, 'the cursor of a previous page'),
    },
  }),
});

const ID = ulid(new Date('2026-11-29T10:00:00Z'));

function refusal(route: string, event: { pathParameters?: unknown; queryStringParameters?: unknown }) {
  try {
    checkParams(table, route, event);
  } catch (e) {
    return e as VendError;
  }
  return undefined;
}

/** Ids an attacker or a broken client puts in a path. */
const HOSTILE_IDS: [string, string][] = [
  ['10 kB', 'A'.repeat(10_240)],
  ['a NUL byte', `${ID.slice(0, 25)}\u0000`],
  ['a NUL byte alone', '\u0000'],
  ['path traversal', '../..'],
  ['encoded traversal', '..%2F..'],
  ['non-ASCII', '部署🔥'],
  ['a ULID with a non-ASCII look-alike', `${ID.slice(0, 25)}Ａ`],
  ['lower case', ID.toLowerCase()],
  ['25 characters', ID.slice(0, 25)],
  ['27 characters', `${ID}0`],
  ['a letter ULIDs never use (U)', `${ID.slice(0, 25)}U`],
  ['empty', ''],
  ['a lone surrogate', `${ID.slice(0, 25)}\ud800`],
];

describe('path parameters', () => {
  it('a ULID passes', () => {
    expect(refusal(REQUEST, { pathParameters: { id: ID } })).toBeUndefined();
  });

  it.each(HOSTILE_IDS)('an id that is %s → 404 not_found, the value not echoed', (_, id) => {
    const err = refusal(REQUEST, { pathParameters: { id } });

    expect(err).toBeInstanceOf(NotFoundError);
    expect(err?.status).toBe(404);
    expect(err?.detail).toBe('not found: the path must carry a request id (a 26-character ULID)');
  });

  it('a missing path parameter, or one the route does not have → 404', () => {
    expect(refusal(REQUEST, {})).toBeInstanceOf(NotFoundError);
    expect(refusal(REQUEST, { pathParameters: { id: ID, other: 'x' } })).toBeInstanceOf(NotFoundError);
    expect(refusal(LIST, { pathParameters: { id: ID } })).toBeInstanceOf(NotFoundError);
  });

  it('a route not in the table → 404 (fail closed)', () => {
    expect(refusal('GET /v1/nowhere', {})?.detail).toBe('no such route');
    expect(refusal(undefined as unknown as string, {})).toBeInstanceOf(NotFoundError);
  });
});

describe('query parameters', () => {
  it('known parameters with good values, empty values and none at all pass', () => {
    expect(refusal(LIST, { queryStringParameters: { status: 'pending', cursor: 'abc' } })).toBeUndefined();
    expect(refusal(LIST, { queryStringParameters: { status: '' } })).toBeUndefined();
    expect(refusal(LIST, {})).toBeUndefined();
  });

  it.each([
    [
      'an unknown parameter',
      { limit: '5' },
      'unknown query parameter "limit"; this route takes status, cursor',
    ],
    [
      'a word not in the set',
      { status: 'maybe' },
      'query parameter "status" must be one of pending, approved',
    ],
    ['a repeated parameter (joined with a comma)', { status: 'pending,approved' }, '"status"'],
    ['a 10 kB value', { cursor: 'x'.repeat(10_240) }, 'at most 64 characters'],
    ['a NUL byte', { cursor: 'ab\u0000' }, 'must be the cursor of a previous page'],
    ['non-ASCII', { cursor: 'é' }, 'must be the cursor of a previous page'],
    ['a hostile parameter name', { '\u0000../x': '1' }, 'unknown query parameter "…"'],
  ])('%s → 400 invalid_request naming the parameter, not the value', (_, query, message) => {
    const err = refusal(LIST, { queryStringParameters: query });

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err?.detail).toContain(message);
    for (const v of Object.values(query)) if (v.length > 3) expect(err?.detail).not.toContain(v);
  });

  it('a route that takes none refuses any', () => {
    const none = compileRouteParams({ 'GET /v1/health': routeParams({}) });

    expect(() => checkParams(none, 'GET /v1/health', { queryStringParameters: { x: '1' } })).toThrow(
      'unknown query parameter "x"; this route takes none',
    );
  });
});

describe('the schema subset', () => {
  it('refuses at load any keyword it does not implement, an unanchored pattern, an unbounded string', () => {
    const with_ = (p: Partial<StringParam> & Record<string, unknown>): ParamSchema => ({
      type: 'object',
      properties: { x: { type: 'string', maxLength: 4, description: 'x', ...p } as StringParam },
      required: [],
      additionalProperties: false,
    });

    expect(() => compileParams(with_({ format: 'date-time' }))).toThrow(
      'unsupported schema keyword "format"',
    );
    expect(() => compileParams(with_({ pattern: '[a-z]+' }))).toThrow('anchor the pattern');
    expect(() => compileParams(with_({ maxLength: undefined }))).toThrow('maxLength is required');
    expect(() =>
      compileParams({ ...with_({}), additionalProperties: true } as unknown as ParamSchema),
    ).toThrow('additionalProperties: false');
  });

  it('counts length in code points, as JSON Schema does', () => {
    const check = compileParams(routeParams({ query: { q: param.text('^.*$', 2, 'two characters') } }).query);

    expect(check({ q: '🔥🔥' })).toBeUndefined(); // 4 UTF-16 units, 2 code points
    expect(check({ q: '🔥🔥🔥' })).toEqual({ name: 'q', why: 'length' });
  });
});

describe('agreement with Ajv', () => {
  const ajv = new Ajv({ strict: true, allErrors: false });
  const schemas: [string, ParamSchema][] = [
    ['id', routeParams({ path: { id: param.id('request') } }).path],
    ['oneOf', routeParams({ query: { s: param.oneOf(['open', 'signed-off'], 'a status') } }).query],
    [
      'text',
      routeParams({
        query: {
          caller: param.text('^[\\x21-\\x7e]{1,512}$', 512, 'a caller id'),
          limit: param.text('^[0-9]{1,4}$', 4, 'a number'),
        },
      }).query,
    ],
  ];
  const value = fc.oneof(
    fc.constantFrom(ID, ...HOSTILE_IDS.map(([, v]) => v), 'open', 'signed-off', '12', '99999', ''),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFGHJKMNPQRSTVWXYZ'), minLength: 24, maxLength: 28 }),
  );

  it.each(schemas)('%s: both accept and refuse the same parameter objects', (_, schema) => {
    const theirs = ajv.compile(schema);
    const ours = compileParams(schema);
    const names = [...Object.keys(schema.properties), 'other'];

    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 3 }), (params) => {
        expect(ours(params) === undefined).toBe(theirs(params));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('withHttp runs the check before the handler', () => {
  const quiet = createLog({ info: () => {}, warn: () => {}, error: () => {} } as unknown as LogTarget);
  const context = { awsRequestId: 'lambda-req-1' } as Context;

  it('a hostile id never reaches the handler; a good one does', async () => {
    const seen: string[] = [];
    const handler = withHttp(
      async ({ event }) => {
        seen.push(event.pathParameters?.id ?? '');
        return { body: {} };
      },
      { params: { [REQUEST]: checkOnly({ path: { id: param.id('request') } }) }, log: quiet },
    );
    const event = (id: string) =>
      ({
        ...structuredClone(fixture),
        routeKey: REQUEST,
        body: undefined,
        pathParameters: { id },
      }) as unknown as APIGatewayProxyEventV2;

    const bad = await Promise.all(HOSTILE_IDS.map(([, id]) => handler(event(id), context)));
    const good = await handler(event(ID), context);

    expect(bad.map((r) => r.statusCode)).toEqual(HOSTILE_IDS.map(() => 404));
    expect(bad.map((r) => JSON.parse(r.body ?? '{}').code)).toEqual(HOSTILE_IDS.map(() => 'not_found'));
    expect(good.statusCode).toBe(200);
    expect(seen).toEqual([ID]);
  });

  it('exposes its table, so a test can hold every route of serverless.yml to one', () => {
    const params = { [LIST]: checkOnly({}) };

    expect(withHttp(async () => ({}), { params }).params).toBe(params);
  });
});
