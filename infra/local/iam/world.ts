/**
 * Loads the demo world (accounts, roles, managed policies, profiles) from the YAML files of a world
 * directory. Every `*.yaml` file in the directory is read and merged, so a world can live in one
 * file (infra/local/world/world.yaml) or be split per account. Policies are parsed with lib/iam on
 * load: a typo fails at start instead of silently denying later.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PolicyValidationError, parsePolicy } from '../../../lib/iam';
import type { Policy } from '../../../lib/iam/types';

/** A role of the world, policies parsed. */
export interface WorldRole {
  arn: string;
  name: string;
  account: string;
  path: string;
  /** `AROA` + 17 characters, derived from the ARN so it is stable across restarts. */
  roleId: string;
  description?: string;
  maxSessionDuration: number;
  tags: Record<string, string>;
  trustPolicy: Policy;
  /** Inline policies, then the attached managed policies as the world file defines them (v1). */
  identityPolicies: Policy[];
  /** The inline policies alone. */
  inlinePolicies: Policy[];
  /** Attached managed policies, by ARN (the IAM store resolves their current default version). */
  managedPolicyArns: string[];
  /** The managed policy set as the role's permissions boundary, if any. */
  permissionsBoundaryArn?: string;
}

/** An IAM user: long-term `AKIA` keys are minted for it by the store (tests, hand trials). */
export interface WorldUser {
  arn: string;
  name: string;
  account: string;
  /** `AIDA` + 17 characters, derived from the ARN. */
  userId: string;
  tags: Record<string, string>;
  identityPolicies: Policy[];
}

export interface WorldManagedPolicy {
  arn: string;
  /** The name (last ARN segment) and the path (`/` or `/vend/`), as IAM reports them. */
  name: string;
  path: string;
  /** Compact JSON of the document, as a session policy it counts toward the packed size. */
  json: string;
  policy: Policy;
}

export interface WorldProfile {
  role: string;
  sessionName: string;
}

export interface World {
  accounts: Record<string, string>;
  roles: Map<string, WorldRole>;
  users: Map<string, WorldUser>;
  managedPolicies: Map<string, WorldManagedPolicy>;
  profiles: Map<string, WorldProfile>;
}

/** The world files are wrong: names the file and the element. */
export class WorldLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorldLoadError';
  }
}

const USER_ARN = /^arn:aws:iam::(\d{12}):user\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
const POLICY_ARN = /^arn:aws:iam::(\d{12}|aws):policy(\/(?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,128})$/;

/** Stable role id: `AROA` + 17 characters of base32(sha256(arn)), like IAM's unique ids. */
export function roleIdFor(arn: string): string {
  return uniqueId('AROA', `role:${arn}`);
}

/** Stable managed-policy id: `ANPA` + 17 characters, like IAM's `PolicyId`. */
export function policyIdFor(arn: string): string {
  return uniqueId('ANPA', `policy:${arn}`);
}

/** Stable user id: `AIDA` + 17 characters. */
export function userIdFor(arn: string): string {
  return uniqueId('AIDA', `user:${arn}`);
}

function uniqueId(prefix: string, seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha256').update(seed).digest();
  let id = prefix;
  for (let i = 0; i < 17; i++) id += alphabet[digest[i]! % 32];
  return id;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WorldLoadError(`${where}: expected a mapping`);
  }
  return value as Record<string, unknown>;
}

function policyOf(doc: unknown, kind: 'identity' | 'trust', name: string, where: string): Policy {
  try {
    return parsePolicy(doc as never, kind, name);
  } catch (err) {
    if (!(err instanceof PolicyValidationError)) throw err;
    // IAM would refuse the same document at CreateRole / PutRolePolicy: say so in IAM's words.
    const detail = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new WorldLoadError(
      `${where}: invalid ${kind} policy (MalformedPolicyDocument: ${err.iamMessage}): ${detail}`,
      { cause: err },
    );
  }
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  const rec = asRecord(value, where);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) out[k] = String(v);
  return out;
}

/** Reads and validates every `*.yaml` / `*.yml` file of `worldDir`. */
export async function loadWorld(worldDir: string): Promise<World> {
  const files = (await readdir(worldDir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) throw new WorldLoadError(`${worldDir}: no world YAML files`);
  const world: World = {
    accounts: {},
    roles: new Map(),
    users: new Map(),
    managedPolicies: new Map(),
    profiles: new Map(),
  };
  const rawProfiles: Array<[string, unknown, string]> = [];

  for (const file of files) {
    const where = join(worldDir, file);
    let doc: unknown;
    try {
      doc = parseYaml(await readFile(where, 'utf8'));
    } catch (err) {
      throw new WorldLoadError(`${where}: not valid YAML`, { cause: err });
    }
    if (doc === null || doc === undefined) continue;
    const top = asRecord(doc, where);
    Object.assign(world.accounts, stringMap(top.accounts, `${where} accounts`));

    for (const [i, raw] of ((top.managedPolicies as unknown[]) ?? []).entries()) {
      const at = `${where} managedPolicies[${i}]`;
      const mp = asRecord(raw, at);
      const arn = String(mp.arn ?? '');
      const pm = POLICY_ARN.exec(arn);
      if (!pm) throw new WorldLoadError(`${at}: arn '${arn}' is not a policy ARN`);
      if (world.managedPolicies.has(arn)) throw new WorldLoadError(`${at}: policy ${arn} is defined twice`);
      const policy = policyOf(mp.document, 'identity', arn, at);
      world.managedPolicies.set(arn, {
        arn,
        name: pm[3]!,
        path: pm[2]!,
        json: JSON.stringify(mp.document),
        policy,
      });
    }

    for (const [i, raw] of ((top.roles as unknown[]) ?? []).entries()) {
      const at = `${where} roles[${i}]`;
      const r = asRecord(raw, at);
      const arn = String(r.arn ?? '');
      const m = ROLE_ARN.exec(arn);
      if (!m) throw new WorldLoadError(`${at}: arn '${arn}' is not a role ARN`);
      if (world.roles.has(arn)) throw new WorldLoadError(`${at}: role ${arn} is defined twice`);
      const maxSessionDuration = Number(r.maxSessionDuration ?? 3600);
      if (!Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 || maxSessionDuration > 43200) {
        throw new WorldLoadError(`${at}: maxSessionDuration must be an integer in 3600..43200`);
      }
      const inlinePolicies: Policy[] = [];
      for (const [j, p] of ((r.policies as unknown[]) ?? []).entries()) {
        const pr = asRecord(p, `${at} policies[${j}]`);
        inlinePolicies.push(
          policyOf(pr.document, 'identity', String(pr.name ?? `inline-${j}`), `${at} policies[${j}]`),
        );
      }
      const definedPolicy = (ref: unknown): WorldManagedPolicy => {
        const mp = world.managedPolicies.get(String(ref));
        if (!mp)
          throw new WorldLoadError(
            `${at}: managed policy ${String(ref)} is not defined (define it before the role)`,
          );
        return mp;
      };
      const managed = ((r.managedPolicyArns as unknown[]) ?? []).map(definedPolicy);
      // A boundary is a managed policy too (IAM allows no inline boundary).
      const boundary = r.permissionsBoundary === undefined ? undefined : definedPolicy(r.permissionsBoundary);
      world.roles.set(arn, {
        arn,
        account: m[1]!,
        path: `/${m[2] ?? ''}`,
        name: m[3]!,
        roleId: roleIdFor(arn),
        description: r.description === undefined ? undefined : String(r.description),
        maxSessionDuration,
        tags: stringMap(r.tags, `${at} tags`),
        trustPolicy: policyOf(r.trustPolicy, 'trust', `${m[3]}-trust`, `${at} trustPolicy`),
        identityPolicies: [...inlinePolicies, ...managed.map((mp) => mp.policy)],
        inlinePolicies,
        managedPolicyArns: managed.map((mp) => mp.arn),
        ...(boundary && { permissionsBoundaryArn: boundary.arn }),
      });
    }
    for (const [i, raw] of ((top.users as unknown[]) ?? []).entries()) {
      const at = `${where} users[${i}]`;
      const u = asRecord(raw, at);
      const arn = String(u.arn ?? '');
      const m = USER_ARN.exec(arn);
      if (!m) throw new WorldLoadError(`${at}: arn '${arn}' is not a user ARN`);
      const identityPolicies: Policy[] = [];
      for (const [j, p] of ((u.policies as unknown[]) ?? []).entries()) {
        const pr = asRecord(p, `${at} policies[${j}]`);
        identityPolicies.push(
          policyOf(pr.document, 'identity', String(pr.name ?? `inline-${j}`), `${at} policies[${j}]`),
        );
      }
      world.users.set(arn, {
        arn,
        account: m[1]!,
        name: m[2]!,
        userId: userIdFor(arn),
        tags: stringMap(u.tags, `${at} tags`),
        identityPolicies,
      });
    }
    for (const [name, raw] of Object.entries(asRecord(top.profiles ?? {}, `${where} profiles`))) {
      rawProfiles.push([name, raw, `${where} profiles.${name}`]);
    }
  }

  for (const [name, raw, at] of rawProfiles) {
    const p = asRecord(raw, at);
    const role = String(p.role ?? '');
    if (!world.roles.has(role)) throw new WorldLoadError(`${at}: role ${role} is not defined`);
    const sessionName = String(p.sessionName ?? name);
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw new WorldLoadError(`${at}: invalid sessionName`);
    world.profiles.set(name, { role, sessionName });
  }
  return world;
}
