/**
 * Test helper: holds real HTTP answers to openapi.yaml, so the description cannot drift from what
 * the API does. `expectMatchesOpenApi(method, pathTemplate, status, response)` fails when the
 * operation, the status or the content type is not documented, when a required header is missing or
 * malformed, or when the body does not match its schema; every object schema in openapi.yaml is
 * closed (`additionalProperties: false`), so an undocumented field fails too.
 *
 * Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect), compiled with Ajv's 2020 build in strict
 * mode, once per schema. Failure messages name the path into the body and the rule, never a value:
 * a vend answer holds credentials, and the suite's leak scanner reads test output.
 *
 * @example
 * const res = await fetch(`${stack.apiUrl}/v1/health`);
 * const body = await expectMatchesOpenApi('GET', '/v1/health', 200, res); // { status: 'ok', version }
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { parse } from 'yaml';

/** openapi.yaml at the repository root. */
export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

const DEFS_ID = 'https://vend.dev/openapi.json';

type Json = Record<string, unknown>;

interface MediaType {
  schema?: Json;
}
interface HeaderObject {
  required?: boolean;
  schema?: Json;
  $ref?: string;
}
interface ResponseObject {
  $ref?: string;
  description?: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Json[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}
/** The parts of an OpenAPI 3.1 document the helpers read. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation | Json[]>>;
  components: {
    schemas: Record<string, Json>;
    responses: Record<string, ResponseObject>;
    headers: Record<string, HeaderObject>;
    parameters: Record<string, Json>;
    securitySchemes: Record<string, Json>;
  };
}

let doc: OpenApiDocument | undefined;

/** The parsed openapi.yaml (read once). */
export function openApi(): OpenApiDocument {
  doc ??= parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
  return doc;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Every operation as `METHOD /path/{template}`, in document order. */
export function openApiOperations(): { key: string; path: string; method: string; operation: Operation }[] {
  const out: { key: string; path: string; method: string; operation: Operation }[] = [];
  for (const [path, item] of Object.entries(openApi().paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Operation | undefined;
      if (operation) out.push({ key: `${method.toUpperCase()} ${path}`, path, method, operation });
    }
  }
  return out;
}

/** Rewrites `#/components/schemas/X` to the shared definitions, so each schema compiles on its own. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${DEFS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
        : rewriteRefs(v),
    ]),
  );
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(key: string, schema: Json): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv2020({ strict: true, allErrors: true });
    // Formats openapi.yaml uses (Ajv ships none; ajv-formats is not a dependency).
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:[^\s]*$/i);
    ajv.addSchema({ $id: DEFS_ID, $defs: rewriteRefs(openApi().components.schemas) as Json });
  }
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(rewriteRefs(schema) as Json);
    compiled.set(key, fn);
  }
  return fn;
}

function resolve<T extends { $ref?: string }>(obj: T, kind: 'responses' | 'headers' | 'parameters'): T {
  const prefix = `#/components/${kind}/`;
  if (!obj.$ref) return obj;
  if (!obj.$ref.startsWith(prefix)) throw new Error(`openapi.yaml: unexpected $ref ${obj.$ref}`);
  const target = (openApi().components[kind] as Record<string, T>)[obj.$ref.slice(prefix.length)];
  if (!target) throw new Error(`openapi.yaml: dangling $ref ${obj.$ref}`);
  return target;
}

/** The documented operation, or an error naming what is missing. */
export function operationOf(method: string, pathTemplate: string): Operation {
  const item = openApi().paths[pathTemplate];
  const operation = item?.[method.toLowerCase()] as Operation | undefined;
  if (!operation) throw new Error(`openapi.yaml documents no ${method.toUpperCase()} ${pathTemplate}`);
  return operation;
}

/** Statuses seen per operation (`METHOD /path` → statuses), for coverage assertions. */
export const validatedResponses = new Map<string, Set<number>>();

function errorsOf(fn: ValidateFunction): string {
  // The path, the rule and a field's name; never the offending value.
  return (fn.errors ?? [])
    .map((e) => {
      const field = (e.params as { additionalProperty?: string }).additionalProperty;
      return `  body${e.instancePath} ${e.message ?? ''}${field ? `: "${field}"` : ''}`;
    })
    .join('\n');
}

/**
 * Checks one HTTP answer against openapi.yaml and answers its parsed body (undefined when empty).
 *
 * @throws Error naming the undocumented operation, status, content type or header, or the body's
 *   schema violations (paths and rules, never values).
 */
export async function expectMatchesOpenApi(
  method: string,
  pathTemplate: string,
  status: number,
  response: Response,
): Promise<unknown> {
  const where = `${method.toUpperCase()} ${pathTemplate} → ${response.status}`;
  const text = await response.clone().text();
  if (response.status !== status) {
    // A problem document names what went wrong without any secret; anything else is not shown.
    const hint = /problem\+json/.test(response.headers.get('content-type') ?? '') ? `: ${text}` : '';
    throw new Error(`${where}: expected status ${status}${hint}`);
  }
  const operation = operationOf(method, pathTemplate);
  const declared = operation.responses[String(status)];
  if (!declared) throw new Error(`${where}: status ${status} is not documented for this operation`);
  const documented = resolve(declared, 'responses');

  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const content = documented.content;
  let body: unknown;
  if (!content) {
    if (text !== '') throw new Error(`${where}: a body is sent but none is documented`);
  } else {
    const media = content[contentType];
    if (!media) {
      throw new Error(
        `${where}: content type "${contentType}" is not documented (documented: ${Object.keys(content).join(', ')})`,
      );
    }
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${where}: the ${contentType} body is not JSON`);
    }
    const schema = media.schema ?? {};
    const fn = validator(`${where} ${contentType}`, schema);
    if (!fn(body)) throw new Error(`${where} (${contentType}) does not match openapi.yaml:\n${errorsOf(fn)}`);
  }

  for (const [name, declaredHeader] of Object.entries(documented.headers ?? {})) {
    const header = resolve(declaredHeader, 'headers');
    const value = response.headers.get(name);
    if (value === null) {
      if (header.required) throw new Error(`${where}: required header ${name} is missing`);
      continue;
    }
    if (header.schema) {
      const fn = validator(`header ${JSON.stringify(header.schema)}`, header.schema);
      if (!fn(value))
        throw new Error(`${where}: header ${name} does not match openapi.yaml:\n${errorsOf(fn)}`);
    }
  }

  const key = `${method.toUpperCase()} ${pathTemplate}`;
  const seen = validatedResponses.get(key) ?? new Set<number>();
  seen.add(status);
  validatedResponses.set(key, seen);
  return body;
}

/**
 * Checks a request body a test sent (and the API accepted) against the operation's documented
 * request body, so the description accepts what the API accepts.
 *
 * @throws Error when the operation takes no body of that content type, or the body does not match.
 */
export function expectRequestMatchesOpenApi(
  method: string,
  pathTemplate: string,
  body: unknown,
  contentType = 'application/json',
): void {
  const where = `${method.toUpperCase()} ${pathTemplate} request`;
  const media = operationOf(method, pathTemplate).requestBody?.content?.[contentType];
  if (!media) throw new Error(`${where}: no ${contentType} body is documented`);
  const fn = validator(`${where} ${contentType}`, media.schema ?? {});
  if (!fn(body)) throw new Error(`${where} does not match openapi.yaml:\n${errorsOf(fn)}`);
}
