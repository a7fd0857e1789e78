/**
 * The local IAM store: the demo world (roles and their policies) plus every session issued, keyed
 * by access key id, and the versions of the managed policies (./policies.ts). It answers three
 * questions for the local stack: who holds this key ({@link IamStore.lookupAccessKey}), what may
 * this principal do ({@link IamStore.simulate}, {@link IamStore.authorizeKey}), and "issue a
 * session" ({@link IamStore.issueSession}, used by the STS emulator).
 *
 * Every decision about a session of a role applies the role's permissions boundary (its current
 * default version), as AWS does: that is how vend's per-session revocation (docs/revocation.md)
 * takes effect at once on the effective-permission check, on AssumeRole from the session and on
 * the federation endpoint.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { authorize, parsePolicy } from '../../../lib/iam';
import type {
  AuthorizationInput,
  EvaluationResult,
  Policy,
  PrincipalInfo,
  RequestContext,
} from '../../../lib/iam/types';
import type { KeyRecord } from '../types';
import { newAccessKeyId, newSecretAccessKey, newSessionToken } from './ids';
import { ManagedPolicies, type PersistedPolicy } from './policies';
import { loadWorld, type World, type WorldRole } from './world';

/** Base sessions model Lambda / CI environment credentials, which last 12 hours. */
const BASE_SESSION_SECONDS = 12 * 3600;
/** Expired sessions are kept this long so their use is answered ExpiredToken, not "invalid". */
const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

/** Session policies a session was issued with, as the caller passed them. */
export interface SessionPolicyInput {
  /** The inline `Policy` parameter, verbatim. */
  inline?: string;
  /** The `PolicyArns` parameter. */
  arns?: string[];
}

interface SessionRecord {
  key: KeyRecord;
  /** ISO 8601 issue time (`aws:TokenIssueTime`). */
  issuedAt: string;
  sessionPolicy?: SessionPolicyInput;
}

export interface IssueSessionInput {
  role: WorldRole;
  sessionName: string;
  durationSeconds: number;
  sourceIdentity?: string;
  /** All tags of the new session (inherited transitive tags included). */
  sessionTags?: Record<string, string>;
  transitiveTagKeys?: string[];
  /** Made from temporary credentials (role chaining). */
  chained: boolean;
  sessionPolicy?: SessionPolicyInput;
}

export interface SimulateInput {
  accessKeyId?: string;
  principalArn?: string;
  action: string;
  resource: string;
  context?: RequestContext;
}

/** A simulate call named no known principal. */
export class UnknownPrincipalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownPrincipalError';
  }
}

/** The state file exists but cannot be read as the store's JSON. */
export class StateFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateFileError';
  }
}

export function assumedRoleArn(role: WorldRole, sessionName: string): string {
  return `arn:aws:sts::${role.account}:assumed-role/${role.name}/${sessionName}`;
}

/**
 * One principal's side of a decision: who it is and the policies that bound it (identity, its
 * role's permissions boundary, its session policies).
 */
export interface CallerPolicies {
  principal: PrincipalInfo;
  identityPolicies: Policy[];
  permissionsBoundary?: Policy[];
  sessionPolicies?: Policy[];
}

/**
 * One principal's side of a decision: who it is and the policies that bound it (identity, its
 * role's permissions boundary, its session policies).
 */
export interface CallerPolicies {
  principal: PrincipalInfo;
  identityPolicies: Policy[];
  permissionsBoundary?: Policy[];
  sessionPolicies?: Policy[];
}

export class IamStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly parsedSessionPolicies = new Map<string, Policy[]>();
  /**
   * STS requests the endpoint received since start, by action, whatever their outcome (counted by
   * infra/local/sts/handler.ts before authentication). What a spec reads to prove that a refused
   * vend never reached STS.
   */
  readonly stsRequests = new Map<string, number>();
  /** The world's managed policies with their versions (IAM API: infra/local/iam-api). */
  readonly policies: ManagedPolicies;

  private constructor(
    readonly world: World,
    private readonly stateFile: string | undefined,
    readonly now: () => Date,
  ) {
    this.policies = new ManagedPolicies(world.managedPolicies.values(), now);
  }

  /**
   * Loads the world from `worldDir` and, when `stateFile` is given, the sessions issued by earlier
   * runs. Without a state file sessions live in memory only.
   *
   * @example
   * const store = await IamStore.open({ worldDir: 'infra/local/world', stateFile: '.vend/iam-state.json' });
   */
  static async open(opts: { worldDir: string; stateFile?: string; now?: () => Date }): Promise<IamStore> {
    const world = await loadWorld(opts.worldDir);
    const store = new IamStore(world, opts.stateFile, opts.now ?? (() => new Date()));
    if (opts.stateFile && existsSync(opts.stateFile)) store.loadState(opts.stateFile);
    return store;
  }

  /** The key's record, expired sessions included (the verifier reports those as ExpiredToken). */
  lookupAccessKey(accessKeyId: string): KeyRecord | undefined {
    return this.sessions.get(accessKeyId)?.key;
  }

  getRole(arn: string): WorldRole | undefined {
    return this.world.roles.get(arn);
  }

  /** A managed policy's default version (the one in effect), or undefined. */
  getManagedPolicy(arn: string): { arn: string; json: string; policy: Policy } | undefined {
    return this.policies.effectiveDocument(arn);
  }

  /**
   * Persists the state after a change made through {@link IamStore.policies} (the IAM API calls
   * this after CreatePolicyVersion and DeletePolicyVersion).
   */
  policiesChanged(): void {
    this.saveState();
  }

  profiles(): string[] {
    return [...this.world.profiles.keys()];
  }

  /**
   * Mints credentials for a profile of the world: a 12-hour session of the profile's role, as a
   * Lambda function or CI job holds them. An AssumeRole made with them is role chaining.
   */
  mintBaseSession(profile: string): KeyRecord {
    const p = this.world.profiles.get(profile);
    if (!p) throw new UnknownPrincipalError(`no profile '${profile}' in the world`);
    const role = this.world.roles.get(p.role)!;
    return this.issueSession({
      role,
      sessionName: p.sessionName,
      durationSeconds: BASE_SESSION_SECONDS,
      chained: false,
    });
  }

  /** Mints a long-term `AKIA` key for an IAM user of the world (AssumeRole from it is not chaining). */
  mintUserKey(userArn: string): KeyRecord {
    const user = this.world.users.get(userArn);
    if (!user) throw new UnknownPrincipalError(`no user ${userArn} in the world`);
    const key: KeyRecord = {
      accessKeyId: newAccessKeyId('AKIA'),
      secretAccessKey: newSecretAccessKey(),
      principal: { type: 'user', arn: user.arn, account: user.account, userId: user.userId },
    };
    this.sessions.set(key.accessKeyId, { key, issuedAt: this.now().toISOString() });
    this.saveState();
    return key;
  }

  /** Records a new session of `role` and returns its credentials. Persists when a state file is set. */
  issueSession(input: IssueSessionInput): KeyRecord {
    const now = this.now();
    const key: KeyRecord = {
      accessKeyId: newAccessKeyId('ASIA'),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: newSessionToken(),
      expiration: new Date(Math.floor(now.getTime() / 1000) * 1000 + input.durationSeconds * 1000)
        .toISOString()
        .replace('.000Z', 'Z'),
      principal: {
        type: 'role-session',
        arn: assumedRoleArn(input.role, input.sessionName),
        account: input.role.account,
        roleArn: input.role.arn,
        userId: `${input.role.roleId}:${input.sessionName}`,
        sessionName: input.sessionName,
        ...(input.sourceIdentity !== undefined && { sourceIdentity: input.sourceIdentity }),
        ...(input.sessionTags &&
          Object.keys(input.sessionTags).length > 0 && { sessionTags: input.sessionTags }),
        ...(input.transitiveTagKeys &&
          input.transitiveTagKeys.length > 0 && { transitiveTagKeys: input.transitiveTagKeys }),
        chained: input.chained,
      },
    };
    const record: SessionRecord = { key, issuedAt: now.toISOString() };
    if (
      input.sessionPolicy &&
      (input.sessionPolicy.inline !== undefined || input.sessionPolicy.arns?.length)
    ) {
      record.sessionPolicy = input.sessionPolicy;
    }
    this.sessions.set(key.accessKeyId, record);
    this.saveState();
    return key;
  }

  /** The role behind a key (sessions) or undefined. */
  roleOfKey(key: KeyRecord): WorldRole | undefined {
    return key.principal.roleArn ? this.world.roles.get(key.principal.roleArn) : undefined;
  }

  /** Identity policies that apply to the holder of `key` (managed ones at their default version). */
  identityPoliciesOf(key: KeyRecord): Policy[] {
    if (key.principal.type === 'user') return this.world.users.get(key.principal.arn)?.identityPolicies ?? [];
    const role = this.roleOfKey(key);
    return role ? this.rolePolicies(role) : [];
  }

  /** A role's identity policies: inline, then attached managed policies at their default version. */
  rolePolicies(role: WorldRole): Policy[] {
    const managed = role.managedPolicyArns
      .map((arn) => this.policies.effective(arn))
      .filter((p): p is Policy => p !== undefined);
    return [...role.inlinePolicies, ...managed];
  }

  /**
   * A role's permissions boundary at its current default version, or undefined when the role has
   * none. A boundary the store cannot resolve allows nothing (fail closed).
   */
  boundaryOfRole(role: WorldRole): Policy[] | undefined {
    if (role.permissionsBoundaryArn === undefined) return undefined;
    const p = this.policies.effective(role.permissionsBoundaryArn);
    return p ? [p] : [];
  }

  /** The permissions boundary that applies to the holder of `key` (its role's), if any. */
  boundaryOf(key: KeyRecord): Policy[] | undefined {
    const role = this.roleOfKey(key);
    return role ? this.boundaryOfRole(role) : undefined;
  }

  /**
   * The full evaluation for a request made with `key`: identity ∩ permissions boundary ∩ session
   * policies, explicit deny winning anywhere (fact sheet §5), in the key's principal context with
   * `req.context` over it.
   *
   * @example store.authorizeKey(key, { action: 'iam:GetPolicy', resource: arn }).decision
   */
  authorizeKey(
    key: KeyRecord,
    req: { action: string; resource: string; context?: RequestContext },
  ): EvaluationResult {
    return this.authorize(this.callerOf(key), {
      action: req.action,
      resource: req.resource,
      context: { ...this.principalContext(key), ...(req.context ?? {}) },
    });
  }

  /**
   * Whether the session of `key` is revoked: an explicit Deny that applies to every action and
   * resource (a probe of action `*` on `*`, which only `Action: "*"` / `NotAction` statements
   * match) is in force for it, in its boundary or its own policies. vend's deny list writes exactly
   * such statements (docs/revocation.md). Returns the deciding result, or undefined when not revoked.
   */
  revocationOf(key: KeyRecord): EvaluationResult | undefined {
    const r = this.authorizeKey(key, { action: '*', resource: '*' });
    return r.decision === 'ExplicitDeny' ? r : undefined;
  }

  /**
   * The session policies of a session as one set (inline policy plus managed PolicyArns), or
   * undefined when it was issued without any (then only the identity policies apply).
   */
  sessionPoliciesOf(key: KeyRecord): Policy[] | undefined {
    const record = this.sessions.get(key.accessKeyId);
    if (!record?.sessionPolicy) return undefined;
    const cached = this.parsedSessionPolicies.get(key.accessKeyId);
    if (cached) return cached;
    const policies: Policy[] = [];
    if (record.sessionPolicy.inline !== undefined) {
      policies.push(parsePolicy(record.sessionPolicy.inline, 'session', 'session-policy'));
    }
    for (const arn of record.sessionPolicy.arns ?? []) {
      const mp = this.policies.effective(arn);
      // A managed policy that vanished from the world allows nothing, which only narrows.
      if (mp) policies.push(mp);
    }
    this.parsedSessionPolicies.set(key.accessKeyId, policies);
    return policies;
  }

  /** `PrincipalInfo` for Principal matching. */
  principalInfo(key: KeyRecord): PrincipalInfo {
    const { type, arn, account, roleArn, service } = key.principal;
    return { type, arn, account, ...(roleArn && { roleArn }), ...(service && { service }) };
  }

  /**
   * The global condition keys every request by `key` carries (fact sheet §4): principal ARN (the
   * role ARN for sessions), account, tags (role tags, then session tags over them), user id,
   * source identity, time. `aws:SecureTransport` is `true` because AWS endpoints are TLS-only.
   */
  principalContext(key: KeyRecord, now: Date = this.now()): RequestContext {
    const p = key.principal;
    const role = this.roleOfKey(key);
    const user = p.type === 'user' ? this.world.users.get(p.arn) : undefined;
    const ctx: RequestContext = {
      'aws:PrincipalArn': p.roleArn ?? p.arn,
      'aws:PrincipalAccount': p.account,
      'aws:PrincipalType': p.type === 'role-session' ? 'AssumedRole' : p.type === 'user' ? 'User' : 'Account',
      'aws:userid': p.userId,
      'aws:CurrentTime': now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:SecureTransport': 'true',
    };
    if (user) ctx['aws:username'] = user.name;
    const tags = { ...(role?.tags ?? user?.tags ?? {}), ...(p.sessionTags ?? {}) };
    for (const [k, v] of Object.entries(tags)) ctx[`aws:PrincipalTag/${k}`] = v;
    if (p.sourceIdentity !== undefined) ctx['aws:SourceIdentity'] = p.sourceIdentity;
    const issuedAt = this.sessions.get(key.accessKeyId)?.issuedAt;
    if (issuedAt) ctx['aws:TokenIssueTime'] = issuedAt;
    return ctx;
  }

  /**
   * The one authorization decision of the local stack: the caller's identity policies, its session
   * policies (inline + managed, one set) and, for an `sts:` action on a role of the world, that
   * role's trust policy as the resource policy, in the AWS evaluation order of lib/iam's
   * `authorize`. The STS emulator's AssumeRole and the effective-permission check
   * (`POST /_local/iam/simulate`) both call this, so they cannot disagree: a same-account trust
   * policy naming the caller (or `{"AWS": "*"}`) admits it on its own, one naming only the account
   * needs an identity Allow too, and across accounts both must allow (docs/iam-evaluator.md).
   */
  authorize(
    caller: CallerPolicies,
    request: { action: string; resource: string; context: RequestContext },
  ): EvaluationResult {
    const role = request.action.toLowerCase().startsWith('sts:') ? this.getRole(request.resource) : undefined;
    const input: AuthorizationInput = {
      identityPolicies: caller.identityPolicies,
      ...(caller.permissionsBoundary !== undefined && { permissionsBoundary: caller.permissionsBoundary }),
      ...(caller.sessionPolicies !== undefined && { sessionPolicies: caller.sessionPolicies }),
      ...(role && {
        resourcePolicy: role.trustPolicy,
        sameAccount: role.account === caller.principal.account,
      }),
    };
    // The resource's tags are part of every request on it (aws:ResourceTag/*); explicit ones win.
    const context: RequestContext = {};
    for (const [k, v] of Object.entries(role?.tags ?? {})) context[`aws:ResourceTag/${k}`] = v;
    Object.assign(context, request.context);
    return authorize(input, { ...request, principal: caller.principal, context });
  }

  /** The caller side of {@link IamStore.authorize} for the holder of `key`. */
  callerOf(key: KeyRecord): CallerPolicies {
    const sessionPolicies = this.sessionPoliciesOf(key);
    const permissionsBoundary = this.boundaryOf(key);
    return {
      principal: this.principalInfo(key),
      identityPolicies: this.identityPoliciesOf(key),
      ...(permissionsBoundary !== undefined && { permissionsBoundary }),
      ...(sessionPolicies !== undefined && { sessionPolicies }),
    };
  }

  /**
   * The effective-permission check: for a session, the identity policies of its role intersected
   * with its role's permissions boundary and its session policies (inline + managed, one set),
   * explicit deny winning; for `sts:` actions on a role of the world, with that role's trust policy
   * too (see {@link IamStore.authorize}). A revoked session answers `ExplicitDeny`.
   *
   * @example
   * store.simulate({ accessKeyId: 'ASIA…', action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }).decision
   */
  simulate(input: SimulateInput): EvaluationResult & { principal: string } {
    let caller: CallerPolicies;
    let base: RequestContext;
    if (input.accessKeyId !== undefined) {
      const key = this.lookupAccessKey(input.accessKeyId);
      if (!key) throw new UnknownPrincipalError(`no key ${input.accessKeyId}`);
      caller = this.callerOf(key);
      base = this.principalContext(key);
    } else if (input.principalArn !== undefined) {
      const role = this.roleFromPrincipalArn(input.principalArn);
      if (!role) throw new UnknownPrincipalError(`no role for ${input.principalArn}`);
      const now = this.now();
      const principal: PrincipalInfo = input.principalArn.startsWith('arn:aws:sts::')
        ? { type: 'role-session', arn: input.principalArn, account: role.account, roleArn: role.arn }
        : {
            type: 'role-session',
            arn: assumedRoleArn(role, 'simulated'),
            account: role.account,
            roleArn: role.arn,
          };
      const permissionsBoundary = this.boundaryOfRole(role);
      caller = {
        principal,
        identityPolicies: this.rolePolicies(role),
        ...(permissionsBoundary !== undefined && { permissionsBoundary }),
      };
      base = {
        'aws:PrincipalArn': role.arn,
        'aws:PrincipalAccount': role.account,
        'aws:PrincipalType': 'AssumedRole',
        'aws:CurrentTime': now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
        'aws:SecureTransport': 'true',
      };
      for (const [k, v] of Object.entries(role.tags)) base[`aws:PrincipalTag/${k}`] = v;
    } else {
      throw new UnknownPrincipalError('simulate needs accessKeyId or principalArn');
    }
    const result = this.authorize(caller, {
      action: input.action,
      resource: input.resource,
      context: { ...base, ...(input.context ?? {}) },
    });
    return { ...result, principal: caller.principal.arn };
  }

  private roleFromPrincipalArn(arn: string): WorldRole | undefined {
    const direct = this.world.roles.get(arn);
    if (direct) return direct;
    const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
    if (!m) return undefined;
    return [...this.world.roles.values()].find((r) => r.account === m[1] && r.name === m[2]);
  }

  private loadState(file: string): void {
    let parsed: { version?: number; sessions?: SessionRecord[]; policies?: PersistedPolicy[] };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new StateFileError(`${file}: not a JSON state file`, { cause: err });
    }
    if (parsed.version !== 1 || !Array.isArray(parsed.sessions)) {
      throw new StateFileError(`${file}: unknown state file version`);
    }
    for (const record of parsed.sessions) this.sessions.set(record.key.accessKeyId, record);
    if (Array.isArray(parsed.policies)) this.policies.restore(parsed.policies);
  }

  /** Writes the sessions atomically (temp file + rename), dropping long-expired ones. */
  private saveState(): void {
    if (!this.stateFile) return;
    const cutoff = this.now().getTime() - KEEP_EXPIRED_MS;
    for (const [id, record] of this.sessions) {
      if (record.key.expiration && Date.parse(record.key.expiration) < cutoff) this.sessions.delete(id);
    }
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    const policies = this.policies.persisted();
    const state = {
      version: 1,
      sessions: [...this.sessions.values()],
      ...(policies.length > 0 && { policies }),
    };
    writeFileSync(tmp, JSON.stringify(state), {
      mode: 0o600,
    });
    renameSync(tmp, this.stateFile);
  }
}
