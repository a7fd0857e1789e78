/**
 * Reads serverless.yml for the local API Gateway and the local stack: the service's HTTP API routes
 * and authorizers, its functions (handler, timeout, environment) and its DynamoDB tables, with
 * Serverless Framework variables resolved for local use. The same file deploys to AWS with osls, so
 * there is exactly one route table.
 *
 * Supported variables (anything else is a {@link ServerlessConfigError} naming it):
 * - `${self:path.to.value}` (the file itself, resolved recursively), `${env:NAME}`,
 *   `${opt:stage}` / `${opt:region}`, `${sls:stage}`, `${sls:instanceId}`, `${aws:region}`,
 *   `${aws:accountId}`, nested variables (`${self:custom.${sls:stage}.x}`), and fallbacks
 *   (`${env:X, self:custom.y, 'literal', 42}`: the first source that resolves wins).
 * - CloudFormation placeholders such as `${AWS::Region}` inside `!Sub` are left alone, as the
 *   framework leaves them for CloudFormation.
 * - CloudFormation short-form tags (`!Ref`, `!GetAtt`, `!Sub`, `!Join`, …) parse to their long form;
 *   in function environments `!Ref <table>` becomes the table name and `!GetAtt <table>.Arn` a
 *   local table ARN. Other intrinsics in environments are refused.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** serverless.yml cannot be used locally: names the element and what is wrong. */
export class ServerlessConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerlessConfigError';
  }
}

/** How a route is authorised. */
export type RouteAuth =
  | { type: 'none' }
  | { type: 'aws_iam' }
  | {
      type: 'jwt';
      name: string;
      issuer: string;
      audience: string[];
      identitySource: string;
      scopes?: string[];
    };

/** A JWT authorizer from `provider.httpApi.authorizers`. */
export interface JwtAuthorizer {
  name: string;
  issuer: string;
  audience: string[];
  /** The header that carries the token, lowercased (`authorization`). */
  identityHeader: string;
  identitySource: string;
}

export interface FunctionDef {
  /** The key under `functions:`. */
  key: string;
  /** Deployed name: `<service>-<stage>-<key>` unless `name:` is set. */
  name: string;
  /** `functions/health.handler` */
  handler: string;
  timeoutSeconds: number;
  memorySize: number;
  /** provider.environment merged with the function's own, intrinsics resolved. */
  environment: Record<string, string>;
}

export interface RouteDef {
  /** `GET /v1/health`, `ANY /{proxy+}`, or `$default`. */
  routeKey: string;
  /** Upper-case method or `ANY`. */
  method: string;
  /** `/v1/requests/{id}`; `$default` has none. */
  path?: string;
  functionKey: string;
  auth: RouteAuth;
}

export interface TableDef {
  logicalId: string;
  /** CreateTable input as written under Properties (TableName resolved). */
  properties: Record<string, unknown> & { TableName: string };
}

export interface ServiceDef {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  /** The directory of serverless.yml: handlers are resolved against it. */
  rootDir: string;
  functions: Map<string, FunctionDef>;
  routes: RouteDef[];
  authorizers: Map<string, JwtAuthorizer>;
  tables: TableDef[];
  /** The resolved document, for anything else a caller needs. */
  config: Record<string, unknown>;
}

export interface LoadOptions {
  /** Values for `${env:…}`; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** `--stage` (`${opt:stage}`); undefined as when no flag is given. */
  stage?: string;
  /** `--region` (`${opt:region}`). */
  region?: string;
  /** `${aws:accountId}`; the local stack's shared-services account by default. */
  accountId?: string;
}

const CFN_FUNCTIONS = [
  'Ref',
  'GetAtt',
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'FindInMap',
  'ImportValue',
  'GetAZs',
  'Base64',
  'Condition',
  'Cidr',
];

/** yaml custom tags turning `!Ref X` into `{ Ref: 'X' }` etc., as CloudFormation reads them. */
const CFN_TAGS = CFN_FUNCTIONS.flatMap((fn) => {
  const key = fn === 'Ref' || fn === 'Condition' ? fn : `Fn::${fn}`;
  return [
    { tag: `!${fn}`, resolve: (v: string) => ({ [key]: fn === 'GetAtt' ? v.split('.') : v }) },
    {
      tag: `!${fn}`,
      collection: 'seq' as const,
      resolve: (seq: { toJSON(): unknown }) => ({ [key]: seq.toJSON() }),
    },
    {
      tag: `!${fn}`,
      collection: 'map' as const,
      resolve: (map: { toJSON(): unknown }) => ({ [key]: map.toJSON() }),
    },
  ];
});

/** Parses YAML with CloudFormation short-form tags understood. */
export function parseServerlessYaml(source: string): Record<string, unknown> {
  // biome-ignore lint/suspicious/noExplicitAny: yaml's tag types are wider than what we pass
  const doc = parseYaml(source, { customTags: CFN_TAGS as any }) as unknown;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ServerlessConfigError('serverless.yml must be a mapping');
  }
  return doc as Record<string, unknown>;
}

const VARIABLE = /\$\{([^${}]*)\}/; // innermost first: no `${` or `}` inside
const CFN_PLACEHOLDER = /^\s*(AWS::\w+|[A-Za-z0-9]+(\.[A-Za-z0-9]+)?)\s*$/; // ${AWS::Region}, ${MyTable.Arn}
const MAX_DEPTH = 20;

function getPath(root: unknown, address: string): unknown {
  if (address === '') return root;
  let node: unknown = root;
  for (const part of address.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Splits `a, 'b, c', d` on top-level commas. */
function splitSources(inner: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of inner) {
    if (quote) {
      if (ch === quote) quote = undefined;
      current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      out.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current.trim());
  return out;
}

/**
 * Resolves Serverless variables in a parsed serverless.yml.
 *
 * @example resolveVariables({ a: '${env:X, "d"}' }, {}).a // 'd'
 */
export function resolveVariables(
  raw: Record<string, unknown>,
  opts: LoadOptions = {},
): Record<string, unknown> {
  const env = opts.env ?? process.env;
  const accountId = opts.accountId ?? '222233334444';
  let stageCache: string | undefined;
  let regionCache: string | undefined;

  const fail = (where: string, message: string): never => {
    throw new ServerlessConfigError(`serverless.yml ${where}: ${message}`);
  };

  const stage = (depth: number): string => {
    stageCache ??= String(
      opts.stage ??
        resolveNode(
          raw.provider && (raw.provider as Record<string, unknown>).stage,
          'provider.stage',
          depth + 1,
        ) ??
        'dev',
    );
    return stageCache;
  };
  const region = (depth: number): string => {
    regionCache ??= String(
      opts.region ??
        resolveNode(
          raw.provider && (raw.provider as Record<string, unknown>).region,
          'provider.region',
          depth + 1,
        ) ??
        'us-east-1',
    );
    return regionCache;
  };

  function source(expr: string, where: string, depth: number): unknown {
    if (/^'.*'$|^".*"$/s.test(expr)) return expr.slice(1, -1);
    if (/^-?\d+(\.\d+)?$/.test(expr)) return Number(expr);
    if (expr === 'true' || expr === 'false') return expr === 'true';
    const colon = expr.indexOf(':');
    if (colon < 0) return fail(where, `unsupported variable source '${expr}'`);
    const type = expr.slice(0, colon).trim();
    const address = expr.slice(colon + 1).trim();
    switch (type) {
      case 'self':
        return resolveNode(getPath(raw, address), `self:${address}`, depth + 1);
      case 'env':
        return env[address] === '' ? undefined : env[address];
      case 'opt':
        if (address === 'stage') return opts.stage;
        if (address === 'region') return opts.region;
        return undefined;
      case 'sls':
        if (address === 'stage') return stage(depth);
        if (address === 'instanceId') return 'local';
        return fail(where, `unsupported variable sls:${address}`);
      case 'aws':
        if (address === 'region') return region(depth);
        if (address === 'accountId') return accountId;
        return fail(where, `unsupported variable aws:${address}`);
      default:
        return fail(
          where,
          `variable source '${type}:' is not supported by the local stack (supported: self, env, opt, sls, aws)`,
        );
    }
  }

  function resolveString(value: string, where: string, depth: number): unknown {
    if (depth > MAX_DEPTH) fail(where, 'variables nest too deeply (a cycle?)');
    let text = value;
    // Replace innermost variables first. A variable that is the whole string keeps its type.
    for (;;) {
      const m = VARIABLE.exec(text);
      if (!m) return text;
      const inner = m[1]!;
      if (CFN_PLACEHOLDER.test(inner)) {
        // CloudFormation's own ${…} (Fn::Sub): leave it, but keep scanning after it.
        const rest = text.slice(m.index + m[0].length);
        const resolvedRest = resolveString(rest, where, depth + 1);
        return text.slice(0, m.index + m[0].length) + String(resolvedRest);
      }
      let resolved: unknown;
      for (const s of splitSources(inner)) {
        resolved = source(s, where, depth);
        if (resolved !== undefined && resolved !== null) break;
      }
      if (resolved === undefined || resolved === null) {
        fail(where, `cannot resolve \${${inner}}: no source has a value`);
      }
      if (m[0] === text) return resolved;
      if (typeof resolved === 'object')
        fail(where, `\${${inner}} is an object and cannot be part of a string`);
      text = text.slice(0, m.index) + String(resolved) + text.slice(m.index + m[0].length);
    }
  }

  function resolveNode(node: unknown, where: string, depth = 0): unknown {
    if (typeof node === 'string') return resolveString(node, where, depth);
    if (Array.isArray(node)) return node.map((n, i) => resolveNode(n, `${where}[${i}]`, depth));
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [k, resolveNode(v, where ? `${where}.${k}` : k, depth)]),
      );
    }
    return node;
  }

  return resolveNode(raw, '') as Record<string, unknown>;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ServerlessConfigError(`serverless.yml ${where} must be a mapping`);
  return value as Record<string, unknown>;
}

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * Loads and interprets serverless.yml.
 *
 * @example const svc = loadServerless('serverless.yml', { env: { VEND_OIDC_ISSUER: 'http://127.0.0.1:4566/oidc' } });
 */
export function loadServerless(file: string, opts: LoadOptions = {}): ServiceDef {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ServerlessConfigError(`cannot read ${file}`, { cause: error });
  }
  return interpretServerless(parseServerlessYaml(source), { ...opts, rootDir: dirname(file) });
}

/** {@link loadServerless} for an already-parsed document. */
export function interpretServerless(
  raw: Record<string, unknown>,
  opts: LoadOptions & { rootDir: string },
): ServiceDef {
  const config = resolveVariables(raw, opts);
  const service = typeof config.service === 'string' ? config.service : undefined;
  if (!service) throw new ServerlessConfigError('serverless.yml: `service` is missing');
  const provider = asRecord(config.provider, 'provider');
  const stage = String(opts.stage ?? provider.stage ?? 'dev');
  const region = String(opts.region ?? provider.region ?? 'us-east-1');
  const accountId = opts.accountId ?? '222233334444';

  const tables = Object.entries(
    asRecord(asRecord(config.resources, 'resources').Resources, 'resources.Resources'),
  )
    .filter(([, r]) => asRecord(r, 'resource').Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, r]) => {
      const properties = asRecord(
        asRecord(r, logicalId).Properties,
        `resources.Resources.${logicalId}.Properties`,
      );
      if (typeof properties.TableName !== 'string') {
        throw new ServerlessConfigError(
          `serverless.yml resources.Resources.${logicalId}: the local stack needs an explicit TableName`,
        );
      }
      return { logicalId, properties: properties as TableDef['properties'] };
    });
  const tableById = new Map(tables.map((t) => [t.logicalId, t]));

  const intrinsic = (value: unknown, where: string): string => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      return String(value);
    const obj = asRecord(value, where);
    if (typeof obj.Ref === 'string') {
      const table = tableById.get(obj.Ref);
      if (table) return table.properties.TableName;
      if (obj.Ref === 'AWS::Region') return region;
      if (obj.Ref === 'AWS::AccountId') return accountId;
    }
    const getAtt = obj['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn') {
      const table = tableById.get(String(getAtt[0]));
      if (table) return `arn:aws:dynamodb:${region}:${accountId}:table/${table.properties.TableName}`;
    }
    throw new ServerlessConfigError(
      `serverless.yml ${where}: this intrinsic function is not supported by the local stack`,
    );
  };
  const environment = (env: unknown, where: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(asRecord(env, where)).map(([k, v]) => [k, intrinsic(v, `${where}.${k}`)]),
    );

  const providerEnv = environment(provider.environment, 'provider.environment');
  const httpApi = asRecord(provider.httpApi, 'provider.httpApi');
  const authorizers = new Map<string, JwtAuthorizer>();
  for (const [name, a] of Object.entries(asRecord(httpApi.authorizers, 'provider.httpApi.authorizers'))) {
    const def = asRecord(a, `provider.httpApi.authorizers.${name}`);
    if (def.type !== undefined && def.type !== 'jwt') {
      throw new ServerlessConfigError(
        `serverless.yml provider.httpApi.authorizers.${name}: only JWT authorizers are supported locally (type: ${String(def.type)})`,
      );
    }
    const identitySource = String(def.identitySource ?? '$request.header.Authorization');
    const header = /^\$request\.header\.([\w-]+)$/.exec(identitySource)?.[1];
    if (!header)
      throw new ServerlessConfigError(
        `serverless.yml authorizer ${name}: identitySource must be $request.header.<Name>`,
      );
    if (typeof def.issuerUrl !== 'string' || !def.issuerUrl)
      throw new ServerlessConfigError(`serverless.yml authorizer ${name}: issuerUrl is required`);
    const audience = toList(def.audience);
    if (audience.length === 0)
      throw new ServerlessConfigError(`serverless.yml authorizer ${name}: audience is required`);
    authorizers.set(name, {
      name,
      issuer: def.issuerUrl,
      audience,
      identityHeader: header.toLowerCase(),
      identitySource,
    });
  }

  const defaultTimeout = Number(provider.timeout ?? 6);
  const defaultMemory = Number(provider.memorySize ?? 1024);
  const functions = new Map<string, FunctionDef>();
  const routes: RouteDef[] = [];
  for (const [key, f] of Object.entries(asRecord(config.functions, 'functions'))) {
    const fn = asRecord(f, `functions.${key}`);
    if (typeof fn.handler !== 'string' || !/^[^.]+(\.[^.]+)*\.[\w$]+$/.test(fn.handler)) {
      throw new ServerlessConfigError(
        `serverless.yml functions.${key}.handler must look like path/to/file.exportName`,
      );
    }
    functions.set(key, {
      key,
      name: typeof fn.name === 'string' ? fn.name : `${service}-${stage}-${key}`,
      handler: fn.handler,
      timeoutSeconds: Number(fn.timeout ?? defaultTimeout),
      memorySize: Number(fn.memorySize ?? defaultMemory),
      environment: { ...providerEnv, ...environment(fn.environment, `functions.${key}.environment`) },
    });
    const events = Array.isArray(fn.events) ? fn.events : [];
    events.forEach((e, i) => {
      const ev = asRecord(e, `functions.${key}.events[${i}]`);
      if (ev.httpApi === undefined) return;
      routes.push(routeOf(ev.httpApi, key, `functions.${key}.events[${i}].httpApi`, authorizers));
    });
  }
  const seen = new Set<string>();
  for (const r of routes) {
    if (seen.has(r.routeKey))
      throw new ServerlessConfigError(`serverless.yml: route ${r.routeKey} is declared twice`);
    seen.add(r.routeKey);
  }
  return {
    service,
    stage,
    region,
    accountId,
    rootDir: opts.rootDir,
    functions,
    routes,
    authorizers,
    tables,
    config,
  };
}

function routeOf(
  value: unknown,
  functionKey: string,
  where: string,
  authorizers: Map<string, JwtAuthorizer>,
): RouteDef {
  let method: string;
  let path: string | undefined;
  let authorizer: unknown;
  if (typeof value === 'string') {
    if (value === '*') {
      return { routeKey: '$default', method: 'ANY', functionKey, auth: { type: 'none' } };
    }
    const m = /^(\S+)\s+(\/\S*)$/.exec(value.trim());
    if (!m) throw new ServerlessConfigError(`serverless.yml ${where}: expected 'METHOD /path' or '*'`);
    method = m[1]!;
    path = m[2]!;
  } else {
    const ev = asRecord(value, where);
    method = String(ev.method ?? '*');
    path = ev.path === undefined ? undefined : String(ev.path);
    authorizer = ev.authorizer;
    if (path === undefined) {
      if (method !== '*') throw new ServerlessConfigError(`serverless.yml ${where}: path is required`);
      return {
        routeKey: '$default',
        method: 'ANY',
        functionKey,
        auth: authOf(authorizer, where, authorizers),
      };
    }
  }
  const upper = method === '*' ? 'ANY' : method.toUpperCase();
  if (!/^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY)$/.test(upper)) {
    throw new ServerlessConfigError(`serverless.yml ${where}: unsupported method ${method}`);
  }
  if (!path.startsWith('/'))
    throw new ServerlessConfigError(`serverless.yml ${where}: path must start with /`);
  return {
    routeKey: `${upper} ${path}`,
    method: upper,
    path,
    functionKey,
    auth: authOf(authorizer, where, authorizers),
  };
}

function authOf(value: unknown, where: string, authorizers: Map<string, JwtAuthorizer>): RouteAuth {
  if (value === undefined || value === null) return { type: 'none' };
  const a = typeof value === 'string' ? { name: value } : asRecord(value, `${where}.authorizer`);
  if (a.type === 'aws_iam') return { type: 'aws_iam' };
  if (typeof a.name === 'string') {
    const jwt = authorizers.get(a.name);
    if (!jwt)
      throw new ServerlessConfigError(
        `serverless.yml ${where}.authorizer: no authorizer named ${a.name} in provider.httpApi.authorizers`,
      );
    const scopes = toList(a.scopes);
    return {
      type: 'jwt',
      name: jwt.name,
      issuer: jwt.issuer,
      audience: jwt.audience,
      identitySource: jwt.identityHeader,
      ...(scopes.length > 0 ? { scopes } : {}),
    };
  }
  throw new ServerlessConfigError(
    `serverless.yml ${where}.authorizer: expected { type: aws_iam } or { name: <authorizer> }`,
  );
}
