/**
 * Request-body validation at the edge.
 *
 * One Ajv instance per process; each function compiles its schema ONCE at module load with
 * {@link compileBodySchema} (compiling is the expensive part, validating is cheap), and the body type
 * is tied to the schema through Ajv's `JSONSchemaType<T>`, so the schema and the TypeScript type
 * cannot drift apart silently.
 */
import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { InvalidRequestError } from '../domain/errors';

// strict: unknown keywords in a schema are a programming error and should fail at load, not be
// ignored. No type coercion: "900" is not 900 in a JSON API. Made on the first compile, so a
// function that compiles no schema does not pay Ajv's import and setup at cold start.
let ajv: Ajv | undefined;

/** A compiled validator: returns the body typed as `T`, or throws {@link InvalidRequestError}. */
export interface BodyValidator<T> {
  (body: unknown): T;
  /** The schema it was compiled from (for docs and OpenAPI). */
  readonly schema: JSONSchemaType<T>;
}

/**
 * Compiles a JSON Schema once. Call at module scope.
 *
 * @example
 * interface Approve { comment?: string }
 * const approveBody = compileBodySchema<Approve>({
 *   type: 'object', additionalProperties: false, required: [],
 *   properties: { comment: { type: 'string', maxLength: 1000, nullable: true } },
 * });
 * approveBody({ comment: 'ok' }); // typed Approve
 * approveBody({ comment: 1 });   // throws InvalidRequestError('body/comment must be string')
 */
export function compileBodySchema<T>(schema: JSONSchemaType<T>): BodyValidator<T> {
  ajv ??= new Ajv({ strict: true, allErrors: false, coerceTypes: false, useDefaults: false });
  const validate = ajv.compile<T>(schema);
  const validator = (body: unknown): T => {
    if (validate(body)) return body;
    throw new InvalidRequestError(describe(validate.errors?.[0]));
  };
  return Object.assign(validator, { schema });
}

/**
 * Turns Ajv's first error into a caller-safe sentence. Ajv's messages describe the schema
 * ("must be <= 3600"), never the value sent, so nothing the caller sent is echoed back.
 */
function describe(error: ErrorObject | undefined): string {
  if (!error) return 'the request body is invalid';
  const where = `body${error.instancePath}`;
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty;
    return `${where} has an unknown property "${safeName(extra)}"`;
  }
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    return `${where} must have the property "${safeName(missing)}"`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

// A property name is caller input; echo it only when it looks like an identifier, and briefly.
function safeName(name: string | undefined): string {
  return name && /^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : '…';
}

// "A JSON object" needs no schema engine: a hand check keeps Ajv out of the functions that only
// need this (measured: 15–25 ms of cold start and ~130 KiB of bundle, docs/benchmarks.md).
const anyObject: BodyValidator<Record<string, unknown>> = Object.assign(
  (body: unknown): Record<string, unknown> => {
    if (body !== null && typeof body === 'object' && !Array.isArray(body))
      return body as Record<string, unknown>;
    throw new InvalidRequestError('body must be object');
  },
  { schema: { type: 'object', required: [] } as unknown as JSONSchemaType<Record<string, unknown>> },
);

/**
 * A validator that only insists the body is a JSON object, for routes whose field rules live in the
 * domain (which names the offending field and audits the refusal). Compiled once, shared.
 *
 * @example
 * withHttp(handler, { route: 'POST /v1/credentials', schema: jsonObjectBody() });
 * // '[]' or '"x"' → 400 invalid_request 'body must be object'
 */
export function jsonObjectBody(): BodyValidator<Record<string, unknown>> {
  return anyObject;
}
