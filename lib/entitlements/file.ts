/**
 * The entitlements file (`entitlements.yaml`, schema infra/entitlements.schema.json, guide
 * docs/entitlements.md): read with positions, every entry validated by the domain's own
 * `parseEntitlement` (the code the service runs on every read), so the file and the service can
 * never disagree about what is valid.
 *
 * Primary course of {@link readEntitlementsText}:
 * 1. parse the YAML with positions; refuse unknown top-level keys;
 * 2. per entry: read the `externalId` reference (`{ env: NAME }`, `{ ssm: /path }`, or a literal
 *    string, only in files marked `local: true`), then `parseEntitlement` with a placeholder for
 *    a reference; a domain error becomes a problem at the field's `file:line:column`;
 * 3. refuse duplicate ids;
 * 4. when the target roles are known (the local world, or `--roles`), refuse a ceiling wider than
 *    the role's own permissions (lib/iam `checkContainment`) and a role that is not vend-managed.
 *
 * Nothing here resolves a secret: {@link resolveExternalIds} does, at sync time only.
 */
import { readFile } from 'node:fs/promises';
import { parseEntitlement } from '../domain/entitlement';
import { EntitlementConfigError } from '../domain/errors';
import type { Entitlement } from '../domain/types';
import { checkContainment, type Policy, PolicyValidationError, parsePolicy, type Statement } from '../iam';
import type { RoleDocument } from '../trust/roles';
import { fieldPath, type PathSegment, type Position, parseSource, SourceSyntaxError } from './source';

/** Where an entitlement's ExternalId comes from. Only `literal` holds the value itself. */
export type ExternalIdRef =
  | { kind: 'literal'; value: string }
  | { kind: 'env'; name: string }
  | { kind: 'ssm'; name: string };

/** One problem in the file. Errors fail validation; warnings are printed only. */
export interface Problem {
  severity: 'error' | 'warning';
  position: Position;
  entitlement?: string;
  field?: string;
  message: string;
}

/** One entry of the file, validated. `entitlement.externalId` is a placeholder for references. */
export interface FileEntitlement {
  entitlement: Entitlement;
  externalId?: ExternalIdRef;
  position: Position;
}

/** The file, read and checked. `entitlements` holds the entries that passed. */
export interface EntitlementsFile {
  file: string;
  /** `local: true`: a demo/local file; literal ExternalIds are allowed. */
  local: boolean;
  entitlements: FileEntitlement[];
  problems: Problem[];
}

/** Options of {@link readEntitlementsText}. */
export interface ReadOptions {
  /** The target roles, when known: ceilings are checked against their permissions. */
  roles?: readonly RoleDocument[];
}

/** The file cannot be read at all. */
export class EntitlementsFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EntitlementsFileError';
  }
}

/** An ExternalId reference has no value where it points (never quotes a value). */
export class ExternalIdResolutionError extends Error {
  constructor(
    readonly entitlement: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`entitlement "${entitlement}": ${message}`, options);
    this.name = 'ExternalIdResolutionError';
  }
}

const TOP_KEYS = ['$schema', 'version', 'local', 'entitlements'];
// A valid ExternalId that stands in for a reference during validation. Never written anywhere.
const PLACEHOLDER = 'vend-external-id-reference';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const SSM_NAME = /^\/[\w.\-/]{1,1010}$/;
const MANAGED_TAG = 'vend:managed';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads and checks an entitlements file from its text.
 *
 * @example
 * const f = readEntitlementsText(text, 'entitlements.yaml', { roles });
 * for (const p of f.problems) console.error(`${p.position.file}:${p.position.line}: ${p.message}`);
 */
export function readEntitlementsText(text: string, file: string, opts: ReadOptions = {}): EntitlementsFile {
  const problems: Problem[] = [];
  let src: ReturnType<typeof parseSource>;
  try {
    src = parseSource(text, file);
  } catch (e) {
    if (!(e instanceof SourceSyntaxError)) throw e;
    return {
      file,
      local: false,
      entitlements: [],
      problems: [
        {
          severity: 'error',
          position: e.position,
          message: `not valid YAML: ${e.message.split(': ').slice(1).join(': ')}`,
        },
      ],
    };
  }
  const at = (path: PathSegment[]) => src.positionOf(path);
  const top = src.value;
  if (!isRecord(top) || !Array.isArray(top.entitlements)) {
    return {
      file,
      local: false,
      entitlements: [],
      problems: [
        { severity: 'error', position: at([]), message: 'expected a mapping with an "entitlements:" list' },
      ],
    };
  }
  for (const key of Object.keys(top)) {
    if (!TOP_KEYS.includes(key)) {
      problems.push({
        severity: 'error',
        position: at([key]),
        field: key,
        message: `${key} is not a known top-level key (allowed: ${TOP_KEYS.join(', ')})`,
      });
    }
  }
  if (top.local !== undefined && typeof top.local !== 'boolean') {
    problems.push({
      severity: 'error',
      position: at(['local']),
      field: 'local',
      message: 'local must be true or false',
    });
  }
  if (top.version !== undefined && top.version !== 1) {
    problems.push({
      severity: 'error',
      position: at(['version']),
      field: 'version',
      message: 'version must be 1',
    });
  }
  const local = top.local === true;
  const roles = opts.roles ? new Map(opts.roles.map((r) => [roleKey(r.arn), r])) : undefined;
  const seen = new Map<string, number>();
  const entitlements: FileEntitlement[] = [];

  for (const [i, raw] of (top.entitlements as unknown[]).entries()) {
    const base: PathSegment[] = ['entitlements', i];
    const problem = (
      field: string | undefined,
      message: string,
      severity: Problem['severity'] = 'error',
      id?: string,
    ) =>
      problems.push({
        severity,
        position: at(field === undefined ? base : [...base, ...fieldPath(field)]),
        ...(id !== undefined && { entitlement: id }),
        ...(field !== undefined && { field }),
        message,
      });
    if (!isRecord(raw)) {
      problem(undefined, 'an entitlement must be a mapping');
      continue;
    }
    const name = typeof raw.id === 'string' ? raw.id : '(unnamed)';

    const ref = externalIdRef(raw.externalId);
    if (typeof ref === 'string') {
      problem('externalId', `entitlement "${name}": externalId ${ref}`, 'error', name);
      continue;
    }
    if (ref?.kind === 'literal' && !local) {
      problem(
        'externalId',
        `entitlement "${name}": externalId is written in the file; reference it instead ({ ssm: /vend/<stage>/external-ids/${name} } or { env: NAME }), or mark a demo file "local: true"`,
        'error',
        name,
      );
    }

    let ent: Entitlement;
    try {
      ent = parseEntitlement(ref && ref.kind !== 'literal' ? { ...raw, externalId: PLACEHOLDER } : raw);
    } catch (e) {
      if (!(e instanceof EntitlementConfigError)) throw e;
      problem(e.field, e.message, 'error', e.entitlement);
      continue;
    }
    if (ref === undefined) {
      problem(
        'id',
        `entitlement "${ent.id}": no externalId; the target role's trust should require one (infra/templates/vend-target-role.yaml)`,
        'warning',
        ent.id,
      );
    }
    const first = seen.get(ent.id);
    if (first !== undefined) {
      problem(
        'id',
        `entitlement "${ent.id}": id is defined twice (first at line ${at(['entitlements', first]).line})`,
        'error',
        ent.id,
      );
      continue;
    }
    seen.set(ent.id, i);

    if (roles) {
      const role = roles.get(roleKey(ent.roleArn));
      if (!role) {
        problem(
          'roleArn',
          `entitlement "${ent.id}": role ${ent.roleArn} is not among the known roles`,
          'warning',
          ent.id,
        );
      } else {
        if (role.tags[MANAGED_TAG] !== 'true') {
          problem(
            'roleArn',
            `entitlement "${ent.id}": role ${ent.roleArn} is not tagged ${MANAGED_TAG}=true, so the broker may not assume it`,
            'error',
            ent.id,
          );
        }
        const wider = ent.ceiling ? ceilingWiderThanRole(ent.ceiling, role) : undefined;
        if (wider)
          problem(
            `ceiling.${wider.field}`,
            `entitlement "${ent.id}": ceiling ${wider.message}`,
            'error',
            ent.id,
          );
      }
    }
    entitlements.push({ entitlement: ent, ...(ref && { externalId: ref }), position: at(base) });
  }

  // Problems in file order, so the first line printed is the first to fix.
  problems.sort((a, b) => a.position.line - b.position.line || a.position.column - b.position.column);
  return { file, local, entitlements, problems };
}

/**
 * Reads and checks an entitlements file.
 * @throws EntitlementsFileError the file cannot be read
 * @example const f = await readEntitlementsFile('entitlements.yaml');
 */
export async function readEntitlementsFile(path: string, opts: ReadOptions = {}): Promise<EntitlementsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new EntitlementsFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: e,
    });
  }
  return readEntitlementsText(text, path, opts);
}

/** The reference, or a problem text (a string) when the value is not a valid form. */
function externalIdRef(value: unknown): ExternalIdRef | string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { kind: 'literal', value };
  if (!isRecord(value)) return 'must be { env: NAME }, { ssm: /path } or (local files only) a string';
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'env' && keys[0] !== 'ssm')) {
    return 'must have exactly one of env or ssm';
  }
  const name = value[keys[0]];
  if (keys[0] === 'env') {
    return typeof name === 'string' && ENV_NAME.test(name)
      ? { kind: 'env', name }
      : 'env must name an environment variable ([A-Za-z_][A-Za-z0-9_]*)';
  }
  return typeof name === 'string' && SSM_NAME.test(name)
    ? { kind: 'ssm', name }
    : 'ssm must be an absolute SSM parameter name such as /vend/prod/external-ids/prod-readonly';
}

function roleKey(arn: string): string {
  const m = /^arn:([\w-]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? `${m[1]}:${m[2]}:${m[3]}` : arn;
}

/**
 * Whether the ceiling grants something the role's own identity policies do not: then the
 * entitlement promises more than the role can give, which is a mistake in one of the two.
 */
function ceilingWiderThanRole(
  ceiling: Record<string, unknown>,
  role: RoleDocument,
): { field: string; message: string } | undefined {
  const statements: Statement[] = [];
  for (const p of role.policies) {
    try {
      for (const st of parsePolicy(p.document, 'identity', p.name).statements) {
        statements.push({ ...st, index: statements.length });
      }
    } catch (e) {
      if (!(e instanceof PolicyValidationError)) throw e;
    }
  }
  const rolePolicy: Policy = {
    name: `${role.name} permissions`,
    version: '2012-10-17',
    statements,
    kind: 'session',
  };
  const requested = parsePolicy(ceiling, 'session', 'ceiling');
  const fit = checkContainment(requested, rolePolicy);
  if (fit.ok) return undefined;
  const what = fit.action
    ? `action ${fit.action}`
    : fit.resource
      ? `resource ${fit.resource}`
      : 'a statement';
  const sid = fit.sid ? ` (Sid "${fit.sid}")` : '';
  return {
    field: `Statement[${fit.statement}]`,
    message: `Statement[${fit.statement}]${sid} is wider than role ${role.name}'s own permissions: ${what} is not granted by the role${
      role.unresolvedPolicyArns.length > 0
        ? ` (its attached ${role.unresolvedPolicyArns.join(', ')} were not read)`
        : ''
    }`,
  };
}

/** How references are resolved: environment, and SSM Parameter Store (SecureString, decrypted). */
export interface ExternalIdResolver {
  env(name: string): string | undefined;
  ssm(name: string): Promise<string>;
}

/**
 * The entitlements with their real ExternalIds, for sync. Each is validated again by the domain
 * (an ExternalId of the wrong shape in SSM is refused here, without quoting it).
 *
 * @throws ExternalIdResolutionError a reference has no value
 * @throws EntitlementConfigError a resolved value is not a valid ExternalId
 * @example const resolved = await resolveExternalIds(file.entitlements, { env: (n) => process.env[n], ssm });
 */
export async function resolveExternalIds(
  entries: readonly FileEntitlement[],
  resolver: ExternalIdResolver,
): Promise<Entitlement[]> {
  const out: Entitlement[] = [];
  for (const { entitlement, externalId } of entries) {
    if (!externalId || externalId.kind === 'literal') {
      out.push(entitlement);
      continue;
    }
    let value: string | undefined;
    if (externalId.kind === 'env') {
      value = resolver.env(externalId.name);
      if (value === undefined || value === '') {
        throw new ExternalIdResolutionError(
          entitlement.id,
          `externalId: environment variable ${externalId.name} is not set`,
        );
      }
    } else {
      try {
        value = await resolver.ssm(externalId.name);
      } catch (e) {
        throw new ExternalIdResolutionError(
          entitlement.id,
          `externalId: SSM parameter ${externalId.name} could not be read (${e instanceof Error ? e.name : 'error'})`,
          { cause: e },
        );
      }
    }
    out.push(parseEntitlement({ ...entitlement, externalId: value }));
  }
  return out;
}
