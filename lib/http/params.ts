/**
 * Path and query parameters at the edge. Every route declares, as a small JSON Schema, the path
 * parameters and query parameters it reads (`withHttp(handler, { params })`), and the shared chain
 * checks them before the handler runs, so no store is ever asked about a 10 kB id, a NUL byte or
 * `../..` (a DynamoDB key over its size limit is a ValidationException, which would surface as a
 * 5xx). What a client sees:
 *
 * - a path parameter without its shape → 404 `not_found`: the path names no resource, which is
 *   exactly what an unknown id answers, so a malformed id teaches a prober nothing new;
 * - a query parameter that is unknown, too long or malformed (repeated ones arrive joined with `,`
 *   and fail their shape) → 400 `invalid_request` naming the parameter and its rule, never echoing
 *   the value;
 * - a route key the function did not declare → 404 `not_found`: fail closed, so a route added to
 *   serverless.yml without its schema answers nothing (test/unit/http/route-params.test.ts checks
 *   every route of serverless.yml has one).
 *
 * Why not Ajv at run time: the schemas only need `type: string`, `minLength`, `maxLength`,
 * `pattern` and `enum`, and Ajv costs ~26 ms of cold start and 130 KiB of bundle
 * (docs/benchmarks.md), which no function pays today. {@link compileRouteParams} accepts exactly that
 * subset of JSON Schema and refuses any other keyword at load (as Ajv's strict mode would); the unit
 * test compiles every route's schema with Ajv too and checks that both agree on hostile inputs.
 */
import { InvalidRequestError, NotFoundError } from '../domain/errors';
import { ID_PATTERN } from '../ids';

/** One parameter: a string, bounded, of one shape. A JSON Schema (the subset above). */
export interface StringParam {
  type: 'string';
  /** In Unicode code points, as JSON Schema counts. Required: nothing unbounded reaches a store. */
  maxLength: number;
  minLength?: number;
  /** A JSON Schema pattern (Ajv compiles it with the `u` flag; so does this module). Anchor it. */
  pattern?: string;
  enum?: readonly string[];
  /** What the value is, for error messages and docs, e.g. `a request id (a 26-character ULID)`. */
  description: string;
}

/** The parameters of one location (path or query): an object of {@link StringParam}s, nothing else. */
export interface ParamSchema {
  type: 'object';
  properties: Readonly<Record<string, StringParam>>;
  required: readonly string[];
  additionalProperties: false;
}

/** The parameters one route reads. */
export interface RouteParams {
  path: ParamSchema;
  query: ParamSchema;
}

/** Route key as in serverless.yml (`GET /v1/requests/{id}`) → its parameters. */
export type RouteParamTable = Readonly<Record<string, RouteParams>>;

/**
 * The schemas of one route, from the parameters it reads. Path parameters are required (API Gateway
 * always sends them); query parameters are optional; anything not named is refused.
 *
 * @example
 * routeParams({ path: { id: param.id('request') } });
 * routeParams({ query: { status: param.oneOf(['open', 'signed-off'], 'a review status') } });
 * routeParams({}); // a route that takes no parameters at all
 */
export function routeParams(spec: {
  path?: Record<string, StringParam>;
  query?: Record<string, StringParam>;
}): RouteParams {
  const path = spec.path ?? {};
  return {
    path: { type: 'object', properties: path, required: Object.keys(path), additionalProperties: false },
    query: { type: 'object', properties: spec.query ?? {}, required: [], additionalProperties: false },
  };
}

/** Builders for the parameter shapes vend uses. */
export const param = {
  /**
   * An id vend made (request, review, audit id): a ULID, 26 characters (lib/ids.ts).
   * @example param.id('request')
   */
  id(what: string): StringParam {
    return {
      type: 'string',
      minLength: 26,
      maxLength: 26,
      pattern: ID_PATTERN,
      description: `a ${what} id (a 26-character ULID)`,
    };
  },
  /**
   * One of a fixed set of words, or empty (an empty value means "not given").
   * @example param.oneOf(['true', 'false'], 'true or false')
   */
  oneOf(values: readonly string[], description: string): StringParam {
    return {
      type: 'string',
      maxLength: Math.max(0, ...values.map((v) => [...v].length)),
      enum: ['', ...values],
      description,
    };
  },
  /**
   * A bounded string of a shape; `pattern` must be anchored (`^…$`).
   * @example param.text('^[0-9]{1,4}$', 4, 'a whole number')
   */
  text(pattern: string, maxLength: number, description: string): StringParam {
    return { type: 'string', maxLength, pattern, description };
  },
};

/** Why a set of parameters was refused. */
export type ParamFault = { name: string; why: 'unknown' | 'missing' | 'type' | 'length' | 'shape' };

interface CompiledParam {
  min: number;
  max: number;
  re: RegExp | undefined;
  values: ReadonlySet<string> | undefined;
  schema: StringParam;
}

/** A compiled {@link ParamSchema}: the fault, or undefined when the parameters are fine. */
export type ParamCheck = (values: unknown) => ParamFault | undefined;

/** A compiled {@link RouteParams}. */
export interface CompiledRouteParams {
  schema: RouteParams;
  path: ParamCheck;
  query: ParamCheck;
}

const PARAM_KEYWORDS = new Set(['type', 'maxLength', 'minLength', 'pattern', 'enum', 'description']);
const OBJECT_KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties']);

function compileParam(where: string, p: StringParam): CompiledParam {
  for (const k of Object.keys(p)) {
    if (!PARAM_KEYWORDS.has(k)) throw new Error(`${where}: unsupported schema keyword "${k}"`);
  }
  if (p.type !== 'string') throw new Error(`${where}: parameters are strings`);
  if (!Number.isInteger(p.maxLength) || p.maxLength < 0) throw new Error(`${where}: maxLength is required`);
  if (p.pattern !== undefined && !(p.pattern.startsWith('^') && p.pattern.endsWith('$'))) {
    throw new Error(`${where}: anchor the pattern (^…$)`);
  }
  return {
    min: p.minLength ?? 0,
    max: p.maxLength,
    re: p.pattern === undefined ? undefined : new RegExp(p.pattern, 'u'),
    values: p.enum === undefined ? undefined : new Set(p.enum),
    schema: p,
  };
}

/** Unicode code points, counted only as far as needed to compare with `max`. */
function lengthWithin(s: string, min: number, max: number): boolean {
  // Each code point is one or two UTF-16 units: decide from s.length when that is enough.
  if (s.length > 2 * max || s.length < min) return false;
  if (s.length <= max && s.length >= 2 * min) return true;
  let n = 0;
  for (const _ of s) n++;
  return n >= min && n <= max;
}

/**
 * Compiles one {@link ParamSchema} (call at load).
 * @throws Error on a keyword outside the supported subset (a programming error)
 * @example compileParams(routeParams({ path: { id: param.id('request') } }).path)({ id: '../..' }) // { name: 'id', why: 'length' }
 */
export function compileParams(schema: ParamSchema, where = 'params'): ParamCheck {
  for (const k of Object.keys(schema)) {
    if (!OBJECT_KEYWORDS.has(k)) throw new Error(`${where}: unsupported schema keyword "${k}"`);
  }
  if (schema.type !== 'object' || schema.additionalProperties !== false) {
    throw new Error(`${where}: an object schema with additionalProperties: false`);
  }
  const props = new Map(
    Object.entries(schema.properties).map(([name, p]) => [name, compileParam(`${where}.${name}`, p)]),
  );
  for (const name of schema.required) {
    if (!props.has(name)) throw new Error(`${where}: required "${name}" is not a property`);
  }
  return (values) => {
    const given: Record<string, unknown> =
      values === undefined || values === null ? {} : (values as Record<string, unknown>);
    if (typeof given !== 'object' || Array.isArray(given)) return { name: '', why: 'type' };
    for (const name of schema.required) {
      if (!Object.hasOwn(given, name)) return { name, why: 'missing' };
    }
    for (const [name, value] of Object.entries(given)) {
      const p = props.get(name);
      if (p === undefined) return { name, why: 'unknown' };
      if (typeof value !== 'string') return { name, why: 'type' };
      if (!lengthWithin(value, p.min, p.max)) return { name, why: 'length' };
      if (p.values !== undefined && !p.values.has(value)) return { name, why: 'shape' };
      if (p.re !== undefined && !p.re.test(value)) return { name, why: 'shape' };
    }
    return undefined;
  };
}

/**
 * Compiles a route table once (at module load, through `withHttp`).
 * @example compileRouteParams({ 'GET /v1/requests/{id}': routeParams({ path: { id: param.id('request') } }) })
 */
export function compileRouteParams(table: RouteParamTable): ReadonlyMap<string, CompiledRouteParams> {
  return new Map(
    Object.entries(table).map(([route, schema]) => [
      route,
      {
        schema,
        path: compileParams(schema.path, `${route} path`),
        query: compileParams(schema.query, `${route} query`),
      },
    ]),
  );
}

/**
 * Checks one event's parameters against its route's schemas.
 *
 * @throws NotFoundError the route is not in the table, or a path parameter lacks its shape
 * @throws InvalidRequestError a query parameter is unknown, too long or malformed
 * @example
 * checkParams(compiled, 'GET /v1/requests/{id}', { pathParameters: { id: 'x'.repeat(10_000) } }); // throws NotFoundError
 */
export function checkParams(
  compiled: ReadonlyMap<string, CompiledRouteParams>,
  routeKey: string | undefined,
  event: { pathParameters?: unknown; queryStringParameters?: unknown },
): void {
  const route = routeKey === undefined ? undefined : compiled.get(routeKey);
  if (route === undefined) throw new NotFoundError('no such route');
  const pathFault = route.path(event.pathParameters);
  if (pathFault) {
    const p = route.schema.path.properties[pathFault.name];
    throw new NotFoundError(
      p ? `not found: the path must carry ${p.description}` : 'not found: no such path on this route',
    );
  }
  const queryFault = route.query(withoutPresignParams(event.queryStringParameters));
  if (queryFault) throw new InvalidRequestError(queryMessage(route.schema.query, queryFault));
}

/**
 * SigV4 query-string signing (a presigned URL) puts the signature in `X-Amz-*` query parameters.
 * The IAM authorizer has already checked them before any function runs, and API Gateway hands them
 * on to the function with the rest of the query; they are the signature's, not the route's, so the
 * route's own schema does not see them.
 */
const PRESIGN_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);

function withoutPresignParams(query: unknown): unknown {
  if (query === null || typeof query !== 'object') return query;
  const entries = Object.entries(query as Record<string, unknown>);
  if (!entries.some(([k]) => PRESIGN_PARAMS.has(k))) return query;
  return Object.fromEntries(entries.filter(([k]) => !PRESIGN_PARAMS.has(k)));
}

function queryMessage(schema: ParamSchema, fault: ParamFault): string {
  const name = safeName(fault.name);
  const p = schema.properties[fault.name];
  if (fault.why === 'unknown' || p === undefined) {
    const known = Object.keys(schema.properties);
    return `unknown query parameter "${name}"; this route takes ${known.length === 0 ? 'none' : known.join(', ')}`;
  }
  if (fault.why === 'length') {
    return `query parameter "${name}" must be ${p.description}, at most ${p.maxLength} characters`;
  }
  if (p.enum !== undefined) {
    const words = p.enum.filter((v) => v !== '');
    return `query parameter "${name}" must be one of ${words.join(', ')} (given once)`;
  }
  return `query parameter "${name}" must be ${p.description}`;
}

// A parameter name is caller input: echo it only when it looks like an identifier, and briefly.
function safeName(name: string): string {
  return /^[A-Za-z0-9_.-]{1,32}$/.test(name) ? name : '…';
}
