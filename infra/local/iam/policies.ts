/**
 * Customer managed policies with versions, as IAM keeps them (IAM User Guide, "Versioning IAM
 * policies"): a policy starts at `v1`; `CreatePolicyVersion` adds `v<n+1>` (ids are never reused,
 * even after a delete) and may make it the default, the one version in effect wherever the policy
 * is attached; at most five versions are stored (`LimitExceeded`); the default version cannot be
 * deleted (`DeleteConflict`); a document is at most 6,144 characters, whitespace not counted.
 *
 * The local IAM store owns one {@link ManagedPolicies}; vend's revocation deny lists
 * (`policy/vend/vend-revocations-<Role>`, docs/revocation.md) live here, so a new default version
 * takes effect on the very next decision about a session of the role whose boundary it is.
 */
import { parsePolicy } from '../../../lib/iam';
import type { Policy } from '../../../lib/iam/types';
import { policyIdFor, type WorldManagedPolicy } from './world';

/** IAM's quota of stored versions per managed policy. */
export const MAX_POLICY_VERSIONS = 5;
/** IAM's quota for a managed policy document, in characters without whitespace. */
export const MAX_MANAGED_POLICY_CHARS = 6144;

/** An IAM fault: `code` and `status` go on the wire (botocore's IAM model), `message` too. */
export class IamFaultError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'IamFaultError';
  }
}

export interface PolicyVersionRecord {
  versionId: string;
  /** The document exactly as it was submitted (IAM returns it so, URL-encoded). */
  document: string;
  createDate: string;
  policy: Policy;
}

export interface ManagedPolicyRecord {
  arn: string;
  name: string;
  path: string;
  policyId: string;
  createDate: string;
  updateDate: string;
  defaultVersionId: string;
  /** The number of the next version id; never decreases. */
  nextVersion: number;
  versions: PolicyVersionRecord[];
}

/** What the state file keeps of a policy that changed since the world defined it. */
export interface PersistedPolicy {
  arn: string;
  createDate: string;
  updateDate: string;
  defaultVersionId: string;
  nextVersion: number;
  versions: Array<{ versionId: string; document: string; createDate: string }>;
}

const noSuchPolicy = (arn: string) => new IamFaultError('NoSuchEntity', 404, `Policy ${arn} was not found.`);

/**
 * Parses a policy document as IAM's CreatePolicyVersion does: not JSON → "This policy contains
 * invalid Json"; a Principal → "should not specify a principal"; any other problem → "Syntax
 * errors in policy." naming the first issue; over the size quota → LimitExceeded.
 */
export function parseManagedPolicyDocument(document: string, name: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    throw new IamFaultError('MalformedPolicyDocument', 400, 'This policy contains invalid Json');
  }
  if (document.replace(/\s/g, '').length > MAX_MANAGED_POLICY_CHARS) {
    throw new IamFaultError(
      'LimitExceeded',
      409,
      `Cannot exceed quota for PolicySize: ${MAX_MANAGED_POLICY_CHARS}`,
    );
  }
  const statements = (doc as { Statement?: unknown } | null)?.Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  if (
    list.some((st) => st !== null && typeof st === 'object' && ('Principal' in st || 'NotPrincipal' in st))
  ) {
    throw new IamFaultError(
      'MalformedPolicyDocument',
      400,
      'Policy document should not specify a principal.',
    );
  }
  try {
    return parsePolicy(doc, 'identity', name);
  } catch (err) {
    const first = (err as { issues?: Array<{ path: string; message: string }> }).issues?.[0];
    throw new IamFaultError(
      'MalformedPolicyDocument',
      400,
      first ? `Syntax errors in policy. ${first.path}: ${first.message}` : 'Syntax errors in policy.',
    );
  }
}

const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The managed policies of the world, with their versions. */
export class ManagedPolicies {
  private readonly records = new Map<string, ManagedPolicyRecord>();

  constructor(
    world: Iterable<WorldManagedPolicy>,
    private readonly now: () => Date,
  ) {
    const created = isoSeconds(now());
    for (const mp of world) {
      this.records.set(mp.arn, {
        arn: mp.arn,
        name: mp.name,
        path: mp.path,
        policyId: policyIdFor(mp.arn),
        createDate: created,
        updateDate: created,
        defaultVersionId: 'v1',
        nextVersion: 2,
        versions: [{ versionId: 'v1', document: mp.json, createDate: created, policy: mp.policy }],
      });
    }
  }

  /** The record, or undefined. */
  get(arn: string): ManagedPolicyRecord | undefined {
    return this.records.get(arn);
  }

  /** The default version's parsed policy (what is in effect wherever the policy is attached). */
  effective(arn: string): Policy | undefined {
    const r = this.records.get(arn);
    return r?.versions.find((v) => v.versionId === r.defaultVersionId)?.policy;
  }

  /** The default version as the world format has it (`json` is the document text). */
  effectiveDocument(arn: string): { arn: string; json: string; policy: Policy } | undefined {
    const r = this.records.get(arn);
    const v = r?.versions.find((x) => x.versionId === r.defaultVersionId);
    return r && v ? { arn, json: v.document, policy: v.policy } : undefined;
  }

  /** @throws IamFaultError NoSuchEntity */
  require(arn: string): ManagedPolicyRecord {
    const r = this.records.get(arn);
    if (!r) throw noSuchPolicy(arn);
    return r;
  }

  /** @throws IamFaultError NoSuchEntity for the policy or the version */
  version(arn: string, versionId: string): PolicyVersionRecord {
    const v = this.require(arn).versions.find((x) => x.versionId === versionId);
    if (!v) {
      throw new IamFaultError(
        'NoSuchEntity',
        404,
        `Policy ${arn} version ${versionId} does not exist or is not attachable.`,
      );
    }
    return v;
  }

  /**
   * CreatePolicyVersion. Checks in IAM's order: the policy exists, the document is valid and within
   * the size quota, fewer than five versions are stored.
   *
   * @throws IamFaultError NoSuchEntity · MalformedPolicyDocument · LimitExceeded
   */
  create(arn: string, document: string, setAsDefault: boolean): PolicyVersionRecord {
    const r = this.require(arn);
    const versionId = `v${r.nextVersion}`;
    const policy = parseManagedPolicyDocument(document, arn);
    if (r.versions.length >= MAX_POLICY_VERSIONS) {
      throw new IamFaultError(
        'LimitExceeded',
        409,
        'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.',
      );
    }
    const created = isoSeconds(this.now());
    const v: PolicyVersionRecord = { versionId, document, createDate: created, policy };
    r.versions.push(v);
    r.nextVersion += 1;
    if (setAsDefault) {
      r.defaultVersionId = versionId;
      r.updateDate = created;
    }
    return v;
  }

  /** @throws IamFaultError NoSuchEntity · DeleteConflict (the default version) */
  delete(arn: string, versionId: string): void {
    const r = this.require(arn);
    this.version(arn, versionId);
    if (r.defaultVersionId === versionId) {
      throw new IamFaultError('DeleteConflict', 409, 'Cannot delete the default version of a policy.');
    }
    r.versions = r.versions.filter((v) => v.versionId !== versionId);
  }

  /** The policies that changed since the world defined them, for the state file. */
  persisted(): PersistedPolicy[] {
    return [...this.records.values()]
      .filter((r) => r.nextVersion > 2)
      .map((r) => ({
        arn: r.arn,
        createDate: r.createDate,
        updateDate: r.updateDate,
        defaultVersionId: r.defaultVersionId,
        nextVersion: r.nextVersion,
        versions: r.versions.map(({ versionId, document, createDate }) => ({
          versionId,
          document,
          createDate,
        })),
      }));
  }

  /**
   * Restores persisted versions over the world's. A policy the world no longer defines is dropped;
   * a version whose document no longer parses is dropped too (and if it was the default, the
   * policy keeps the world's v1), so a stale state file can never widen anything.
   */
  restore(saved: PersistedPolicy[]): void {
    for (const p of saved) {
      const r = this.records.get(p.arn);
      if (!r || !Array.isArray(p.versions)) continue;
      const versions: PolicyVersionRecord[] = [];
      for (const v of p.versions) {
        try {
          versions.push({ ...v, policy: parseManagedPolicyDocument(v.document, p.arn) });
        } catch {
          // dropped: see above
        }
      }
      if (!versions.some((v) => v.versionId === p.defaultVersionId)) continue;
      r.versions = versions;
      r.defaultVersionId = p.defaultVersionId;
      r.nextVersion = p.nextVersion;
      r.createDate = p.createDate;
      r.updateDate = p.updateDate;
    }
  }
}
