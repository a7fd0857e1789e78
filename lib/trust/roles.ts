/**
 * IAM roles as `vend lint-trust` and `vend entitlements validate` read them: ARN, trust policy,
 * permission policies, tags. Three sources, one shape:
 *
 * - files (YAML or JSON), in any of these layouts:
 *   - vend's world layout (infra/local/world/world.yaml): `roles: [{arn, trustPolicy, policies,
 *     managedPolicyArns, tags, maxSessionDuration}]` plus `managedPolicies: [{arn, document}]`;
 *   - `aws iam get-account-authorization-details` output (`RoleDetailList`, `Policies`);
 *   - `aws iam get-role` output (`{ "Role": … }`), trust policy only;
 * - a world directory (every `*.yaml` in it, merged, as the local stack loads it);
 * - the local stack's IAM (`GET <awsUrl>/_local/iam/roles`, same layout as the world).
 *
 * Documents are kept raw (unparsed): the linter parses them itself so that a policy it cannot read
 * becomes a finding, not a crash.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSource, type SourceFile } from '../entitlements/source';

/** One role, with where it was read from. */
export interface RoleDocument {
  arn: string;
  account: string;
  name: string;
  trustPolicy: unknown;
  /** Inline policies and the documents of attached managed policies that the source defines. */
  policies: { name: string; document: unknown }[];
  /** Attached managed policies whose documents the source does not hold (e.g. AWS-managed ones). */
  unresolvedPolicyArns: string[];
  tags: Record<string, string>;
  maxSessionDuration?: number;
  /** `file:line` (or the endpoint URL) the role was read from. */
  source: string;
}

/** The roles could not be read: names the source. */
export class RoleSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoleSourceError';
  }
}

const ROLE_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/(?:[\u0021-\u007E]+\/)*([\w+=,.@-]{1,64})$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** IAM hands documents URL-encoded in some APIs; the CLI decodes them, raw API output does not. */
function decodeDocument(doc: unknown): unknown {
  if (typeof doc !== 'string') return doc;
  const text = doc.trim().startsWith('{') ? doc : decodeURIComponent(doc);
  try {
    return JSON.parse(text);
  } catch {
    return doc;
  }
}

function tagMap(tags: unknown): Record<string, string> {
  if (Array.isArray(tags)) {
    const out: Record<string, string> = {};
    for (const t of tags) if (isRecord(t) && typeof t.Key === 'string') out[t.Key] = String(t.Value ?? '');
    return out;
  }
  if (isRecord(tags)) return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
  return {};
}

function roleBase(arn: string, where: string): Pick<RoleDocument, 'arn' | 'account' | 'name'> {
  const m = ROLE_ARN.exec(arn);
  if (!m) throw new RoleSourceError(`${where}: '${arn.slice(0, 200)}' is not an IAM role ARN`);
  return { arn, account: m[2]!, name: m[3]! };
}

/** Roles of one parsed file or world document, in any supported layout. */
export function rolesFromSource(src: SourceFile, managed = new Map<string, unknown>()): RoleDocument[] {
  const top = src.value;
  if (!isRecord(top)) throw new RoleSourceError(`${src.file}: expected a mapping of roles`);
  const line = (path: (string | number)[]) => `${src.file}:${src.positionOf(path).line}`;
  const out: RoleDocument[] = [];

  if (Array.isArray(top.roles) || Array.isArray(top.managedPolicies)) {
    for (const mp of (top.managedPolicies as unknown[]) ?? []) {
      if (isRecord(mp) && typeof mp.arn === 'string') managed.set(mp.arn, mp.document);
    }
    for (const [i, r] of ((top.roles as unknown[]) ?? []).entries()) {
      if (!isRecord(r)) throw new RoleSourceError(`${line(['roles', i])}: a role must be a mapping`);
      const policies = ((r.policies as unknown[]) ?? []).filter(isRecord).map((p, j) => ({
        name: String(p.name ?? `inline-${j}`),
        document: p.document,
      }));
      const unresolved: string[] = [];
      for (const ref of (r.managedPolicyArns as unknown[]) ?? []) {
        const doc = managed.get(String(ref));
        if (doc === undefined) unresolved.push(String(ref));
        else policies.push({ name: String(ref), document: doc });
      }
      out.push({
        ...roleBase(String(r.arn ?? ''), line(['roles', i])),
        trustPolicy: r.trustPolicy,
        policies,
        unresolvedPolicyArns: unresolved,
        tags: tagMap(r.tags),
        ...(r.maxSessionDuration !== undefined && { maxSessionDuration: Number(r.maxSessionDuration) }),
        source: line(['roles', i]),
      });
    }
    return out;
  }

  if (Array.isArray(top.RoleDetailList)) {
    for (const p of (top.Policies as unknown[]) ?? []) {
      if (!isRecord(p) || typeof p.Arn !== 'string') continue;
      const version = ((p.PolicyVersionList as unknown[]) ?? [])
        .filter(isRecord)
        .find((v) => v.IsDefaultVersion === true);
      if (version) managed.set(p.Arn, decodeDocument(version.Document));
    }
    for (const [i, r] of top.RoleDetailList.entries()) {
      if (!isRecord(r)) continue;
      const policies = ((r.RolePolicyList as unknown[]) ?? []).filter(isRecord).map((p) => ({
        name: String(p.PolicyName),
        document: decodeDocument(p.PolicyDocument),
      }));
      const unresolved: string[] = [];
      for (const a of ((r.AttachedManagedPolicies as unknown[]) ?? []).filter(isRecord)) {
        const doc = managed.get(String(a.PolicyArn));
        if (doc === undefined) unresolved.push(String(a.PolicyArn));
        else policies.push({ name: String(a.PolicyArn), document: doc });
      }
      out.push({
        ...roleBase(String(r.Arn ?? ''), line(['RoleDetailList', i])),
        trustPolicy: decodeDocument(r.AssumeRolePolicyDocument),
        policies,
        unresolvedPolicyArns: unresolved,
        tags: tagMap(r.Tags),
        ...(r.MaxSessionDuration !== undefined && { maxSessionDuration: Number(r.MaxSessionDuration) }),
        source: line(['RoleDetailList', i]),
      });
    }
    return out;
  }

  if (isRecord(top.Role)) {
    const r = top.Role;
    return [
      {
        ...roleBase(String(r.Arn ?? ''), line(['Role'])),
        trustPolicy: decodeDocument(r.AssumeRolePolicyDocument),
        policies: [],
        unresolvedPolicyArns: [],
        tags: tagMap(r.Tags),
        ...(r.MaxSessionDuration !== undefined && { maxSessionDuration: Number(r.MaxSessionDuration) }),
        source: line(['Role']),
      },
    ];
  }
  throw new RoleSourceError(
    `${src.file}: no roles found (expected "roles:", "RoleDetailList" or "Role"; see docs/trust.md)`,
  );
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new RoleSourceError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: e,
    });
  }
}

/**
 * Reads roles from files (any supported layout). Managed policies defined in one file resolve
 * references in the files after it.
 *
 * @example const roles = await loadRoleFiles(['roles.yaml', 'authz-details.json']);
 */
export async function loadRoleFiles(files: readonly string[]): Promise<RoleDocument[]> {
  const managed = new Map<string, unknown>();
  const out: RoleDocument[] = [];
  for (const file of files) out.push(...rolesFromSource(parseSource(await readText(file), file), managed));
  return out;
}

/**
 * Reads the roles of a world directory (every `*.yaml`/`*.yml`, in name order, as the local stack).
 * @example const roles = await loadWorldRoles('infra/local/world');
 */
export async function loadWorldRoles(dir: string): Promise<RoleDocument[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (e) {
    throw new RoleSourceError(`cannot read the world directory ${dir}`, { cause: e });
  }
  if (names.length === 0) throw new RoleSourceError(`${dir}: no world YAML files`);
  // Managed policies may be defined in any file, so read them all before resolving references.
  const sources = await Promise.all(
    names.map(async (n) => parseSource(await readText(join(dir, n)), join(dir, n))),
  );
  const managed = new Map<string, unknown>();
  for (const src of sources) {
    const top = src.value;
    if (isRecord(top) && Array.isArray(top.managedPolicies)) {
      for (const mp of top.managedPolicies)
        if (isRecord(mp) && typeof mp.arn === 'string') managed.set(mp.arn, mp.document);
    }
  }
  return sources.flatMap((src) =>
    isRecord(src.value) && Array.isArray(src.value.roles) ? rolesFromSource(src, managed) : [],
  );
}

/**
 * Reads the roles of a running local stack's IAM (`GET <awsUrl>/_local/iam/roles`). Local only:
 * real IAM is read with `aws iam get-account-authorization-details` and passed as a file.
 *
 * @example const roles = await fetchLocalRoles('http://127.0.0.1:4566');
 */
export async function fetchLocalRoles(
  awsUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<RoleDocument[]> {
  const url = new URL('/_local/iam/roles', awsUrl).toString();
  let body: unknown;
  try {
    const res = await fetchImpl(url);
    if (!res.ok) throw new RoleSourceError(`${url} answered HTTP ${res.status}`);
    body = await res.json();
  } catch (e) {
    if (e instanceof RoleSourceError) throw e;
    throw new RoleSourceError(`cannot read roles from ${url} (is the local stack running?)`, { cause: e });
  }
  const src: SourceFile = { file: url, value: body, positionOf: () => ({ file: url, line: 1, column: 1 }) };
  return rolesFromSource(src).map((r) => ({ ...r, source: `${url}#${r.arn}` }));
}
