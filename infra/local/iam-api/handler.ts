/**
 * The IAM Query API of the local AWS endpoint, for the calls vend's revocation adapter makes on a
 * target role's deny list (docs/revocation.md): `GetPolicy`, `GetPolicyVersion`,
 * `ListPolicyVersions`, `CreatePolicyVersion` (with `SetAsDefault`) and `DeletePolicyVersion`.
 * IAM speaks the same Query protocol as STS (botocore's model: API version 2010-05-08, signing
 * name `iam`), so requests reach this handler by the service in their SigV4 credential scope
 * ({@link isIamRequest}), not by path.
 *
 * Primary course of every call:
 *  1. verify SigV4 (`iam`) against the IAM store (the same failures as STS);
 *  2. `Action`/`Version`: unknown → `InvalidAction`; missing → `MissingAction`;
 *  3. the parameters against the model (`ValidationError`), the ARN's shape (`InvalidInput`);
 *  4. authorisation, before existence as IAM does it: IAM has no resource-based policy for managed
 *     policies, so a policy of another account is `AccessDenied` whatever the caller's own policies
 *     say; otherwise the caller's identity ∩ permissions boundary ∩ session policies must allow
 *     `iam:<Action>` on the policy ARN (lib/iam through {@link IamStore.authorizeKey});
 *  5. the operation on the store's versioned policies (infra/local/iam/policies.ts): `NoSuchEntity`,
 *     `MalformedPolicyDocument`, `LimitExceeded`, `DeleteConflict`; a change is persisted at once
 *     and is in effect for the very next decision (a boundary's new default version applies to
 *     every session of its role).
 * Documents are answered URL-encoded (RFC 3986), as IAM does; botocore decodes them, the JS SDK
 * hands them over as they are.
 */
import { randomUUID } from 'node:crypto';
import type { EvaluationResult } from '../../../lib/iam/types';
import { IamFaultError, type ManagedPolicyRecord, type PolicyVersionRecord } from '../iam/policies';
import type { IamStore } from '../iam/store';
import { verifySigV4 } from '../sigv4/verify';
import { parseQueryRequest, type QueryParams } from '../sts/query';
import type { KeyRecord, RawRequest, RawResponse } from '../types';
import { iamErrorXml, iamSuccessXml, xmlFields } from './xml';

export const IAM_API_VERSION = '2010-05-08';

/** The IAM actions the local endpoint implements. */
export const IAM_ACTIONS = [
  'GetPolicy',
  'GetPolicyVersion',
  'ListPolicyVersions',
  'CreatePolicyVersion',
  'DeletePolicyVersion',
] as const;
type IamAction = (typeof IAM_ACTIONS)[number];
const WRITES = new Set<IamAction>(['CreatePolicyVersion', 'DeletePolicyVersion']);

const SCOPE_IN_HEADER = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/;

/** STS's actions: a request naming one is STS's to answer (and refuse), whatever its scope says. */
const STS_ACTIONS = new Set([
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'AssumeRoot',
  'DecodeAuthorizationMessage',
  'GetAccessKeyInfo',
  'GetCallerIdentity',
  'GetDelegatedAccessToken',
  'GetFederationToken',
  'GetSessionToken',
  'GetWebIdentityToken',
]);

/**
 * True when the request is signed for the `iam` service (Authorization header or presigned
 * `X-Amz-Credential`) and does not name an STS action: that is how IAM is told from STS when both
 * are reached at one endpoint URL (`AWS_ENDPOINT_URL`), since both speak the Query protocol on
 * `POST /`. An STS action signed for `iam` goes to STS, which refuses the scope as AWS's STS does
 * (`Credential should be scoped to correct service: 'sts'.`).
 *
 * @example isIamRequest(raw) // true for `aws iam get-policy …` through AWS_ENDPOINT_URL
 */
export function isIamRequest(req: RawRequest): boolean {
  const m = SCOPE_IN_HEADER.exec(req.headers.authorization ?? '');
  const service = m ? m[1] : new URLSearchParams(req.query).get('X-Amz-Credential')?.split('/')[3];
  if (service !== 'iam') return false;
  return !STS_ACTIONS.has(parseQueryRequest(req).get('Action') ?? '');
}

const POLICY_ARN = /^arn:aws:iam::(\d{12}|aws):policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
const VERSION_ID = /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/;
const VERSION_ID_PATTERN = 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the model's pattern allows tab, LF and CR.
const DOCUMENT_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;
const DOCUMENT_PATTERN = '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+';

/** The model's constraint failures, every one at once (as STS's emulator lists them). */
class Validation {
  readonly issues: string[] = [];
  add(value: string | undefined, member: string, constraint: string): void {
    const shown = value === undefined ? 'null' : `'${value.length > 64 ? `${value.slice(0, 64)}…` : value}'`;
    this.issues.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`);
  }
  throwIfAny(): void {
    if (this.issues.length === 0) return;
    const n = this.issues.length;
    throw new IamFaultError(
      'ValidationError',
      400,
      `${n} validation error${n === 1 ? '' : 's'} detected: ${this.issues.join('; ')}`,
    );
  }
}

interface Params {
  policyArn: string;
  versionId?: string;
  document?: string;
  setAsDefault: boolean;
  maxItems?: number;
  marker?: string;
}

function readParams(action: IamAction, params: QueryParams): Params {
  const v = new Validation();
  const policyArn = params.get('PolicyArn');
  if (policyArn === undefined) v.add(undefined, 'policyArn', 'Member must not be null');
  else if (policyArn.length < 20)
    v.add(policyArn, 'policyArn', 'Member must have length greater than or equal to 20');
  else if (policyArn.length > 2048)
    v.add(policyArn, 'policyArn', 'Member must have length less than or equal to 2048');

  let versionId: string | undefined;
  if (action === 'GetPolicyVersion' || action === 'DeletePolicyVersion') {
    versionId = params.get('VersionId');
    if (versionId === undefined) v.add(undefined, 'versionId', 'Member must not be null');
    else if (!VERSION_ID.test(versionId))
      v.add(versionId, 'versionId', `Member must satisfy regular expression pattern: ${VERSION_ID_PATTERN}`);
  }
  let document: string | undefined;
  let setAsDefault = false;
  if (action === 'CreatePolicyVersion') {
    document = params.get('PolicyDocument');
    if (document === undefined) v.add(undefined, 'policyDocument', 'Member must not be null');
    else if (document.length === 0 || document.length > 131072)
      v.add(document, 'policyDocument', 'Member must have length between 1 and 131072');
    else if (!DOCUMENT_CHARS.test(document))
      v.add('…', 'policyDocument', `Member must satisfy regular expression pattern: ${DOCUMENT_PATTERN}`);
    const raw = params.get('SetAsDefault');
    if (raw !== undefined && raw !== 'true' && raw !== 'false')
      v.add(raw, 'setAsDefault', 'Member must be true or false');
    setAsDefault = raw === 'true';
  }
  let maxItems: number | undefined;
  let marker: string | undefined;
  if (action === 'ListPolicyVersions') {
    const raw = params.get('MaxItems');
    if (raw !== undefined) {
      maxItems = Number(raw);
      if (!/^\d+$/.test(raw) || maxItems < 1 || maxItems > 1000)
        v.add(raw, 'maxItems', 'Member must have value between 1 and 1000');
    }
    marker = params.get('Marker');
    if (marker !== undefined && !/^[\u0020-\u00FF]{1,320}$/.test(marker))
      v.add(marker, 'marker', 'Member must have length between 1 and 320');
  }
  v.throwIfAny();
  if (!POLICY_ARN.test(policyArn!))
    throw new IamFaultError('InvalidInput', 400, `ARN ${policyArn} is not valid.`);
  return {
    policyArn: policyArn!,
    setAsDefault,
    ...(versionId !== undefined && { versionId }),
    ...(document !== undefined && { document }),
    ...(maxItems !== undefined && { maxItems }),
    ...(marker !== undefined && { marker }),
  };
}

const LAYER_NAMES: Record<string, string> = {
  identity: 'identity-based policy',
  boundary: 'permissions boundary',
  session: 'session policy',
  scp: 'service control policy',
  resource: 'resource-based policy',
};

/** `User: … is not authorized to perform: iam:X on resource: policy <arn> because …` (IAM's wording). */
function accessDenied(caller: KeyRecord, action: string, arn: string, why: string): IamFaultError {
  return new IamFaultError(
    'AccessDenied',
    403,
    `User: ${caller.principal.arn} is not authorized to perform: ${action} on resource: policy ${arn} ${why}`,
  );
}

function denialReason(result: EvaluationResult, action: string): string {
  const layer = LAYER_NAMES[result.decidedBy ?? 'identity'] ?? 'identity-based policy';
  return result.decision === 'ExplicitDeny'
    ? `with an explicit deny in ${layer === 'identity-based policy' ? 'an' : 'a'} ${layer}`
    : `because no ${layer} allows the ${action} action`;
}

function authorizeCall(store: IamStore, caller: KeyRecord, action: IamAction, arn: string, sourceIp: string) {
  const iamAction = `iam:${action}`;
  const account = arn.split(':')[4]!;
  // IAM's only resource-based policy is a role's trust policy: no one reaches another account's
  // managed policies through the IAM API. AWS managed policies (account `aws`) are readable by all.
  const foreign = account === 'aws' ? WRITES.has(action) : account !== caller.principal.account;
  if (foreign)
    throw accessDenied(
      caller,
      iamAction,
      arn,
      `because no resource-based policy allows the ${iamAction} action`,
    );
  const result = store.authorizeKey(caller, {
    action: iamAction,
    resource: arn,
    context: { 'aws:SourceIp': sourceIp },
  });
  if (result.decision !== 'Allow')
    throw accessDenied(caller, iamAction, arn, denialReason(result, iamAction));
}

/** RFC 3986 percent-encoding, which botocore's `unquote` reverses. */
function urlEncode(document: string): string {
  return encodeURIComponent(document).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function policyXml(store: IamStore, r: ManagedPolicyRecord): string {
  const roles = [...store.world.roles.values()];
  const attachments = roles.filter((role) => role.managedPolicyArns.includes(r.arn)).length;
  const boundaries = roles.filter((role) => role.permissionsBoundaryArn === r.arn).length;
  return `<Policy>${xmlFields([
    ['PolicyName', r.name],
    ['PolicyId', r.policyId],
    ['Arn', r.arn],
    ['Path', r.path],
    ['DefaultVersionId', r.defaultVersionId],
    ['AttachmentCount', attachments],
    ['PermissionsBoundaryUsageCount', boundaries],
    ['IsAttachable', 'true'],
    ['CreateDate', r.createDate],
    ['UpdateDate', r.updateDate],
  ])}</Policy>`;
}

function versionXml(
  r: ManagedPolicyRecord,
  v: PolicyVersionRecord,
  withDocument: boolean,
  tag: string,
): string {
  return `<${tag}>${xmlFields([
    ['Document', withDocument ? urlEncode(v.document) : undefined],
    ['VersionId', v.versionId],
    ['IsDefaultVersion', String(v.versionId === r.defaultVersionId)],
    ['CreateDate', v.createDate],
  ])}</${tag}>`;
}

function perform(store: IamStore, action: IamAction, p: Params): string | undefined {
  const policies = store.policies;
  switch (action) {
    case 'GetPolicy':
      return policyXml(store, policies.require(p.policyArn));
    case 'GetPolicyVersion': {
      const v = policies.version(p.policyArn, p.versionId!);
      return versionXml(policies.require(p.policyArn), v, true, 'PolicyVersion');
    }
    case 'ListPolicyVersions': {
      const r = policies.require(p.policyArn);
      // Newest first; the marker is the index of the next item.
      const all = [...r.versions].reverse();
      const start = p.marker === undefined ? 0 : Number(p.marker);
      if (!Number.isInteger(start) || start < 0 || start > all.length)
        throw new IamFaultError('InvalidInput', 400, 'Invalid Marker.');
      const page = all.slice(start, start + (p.maxItems ?? 100));
      const next = start + page.length;
      return (
        `<Versions>${page.map((v) => versionXml(r, v, false, 'member')).join('')}</Versions>` +
        xmlFields([
          ['IsTruncated', String(next < all.length)],
          ['Marker', next < all.length ? String(next) : undefined],
        ])
      );
    }
    case 'CreatePolicyVersion': {
      const v = policies.create(p.policyArn, p.document!, p.setAsDefault);
      store.policiesChanged();
      return versionXml(policies.require(p.policyArn), v, false, 'PolicyVersion');
    }
    case 'DeletePolicyVersion':
      policies.delete(p.policyArn, p.versionId!);
      store.policiesChanged();
      return undefined;
  }
}

export interface IamHandlerOptions {
  now?: () => Date;
}

/**
 * Creates the IAM request handler.
 *
 * @example
 * const iam = createIamHandler(store);
 * if (isIamRequest(raw)) return iam(raw); // text/xml, IAM namespace
 */
export function createIamHandler(
  store: IamStore,
  opts: IamHandlerOptions = {},
): (req: RawRequest) => Promise<RawResponse> {
  const clock = opts.now ?? store.now;
  return async (req) => {
    const now = clock();
    const requestId = randomUUID();
    const params = parseQueryRequest(req);
    const action = params.get('Action') ?? '';
    // IAM is a global service signed for us-east-1 (its scope checks are the other services' own).
    const auth = verifySigV4(req, {
      service: 'iam',
      region: 'us-east-1',
      lookup: (id) => store.lookupAccessKey(id),
      now,
    });
    if (!auth.ok) return iamErrorXml(auth.status, auth.code, auth.message, requestId, now);
    if (action === '') return iamErrorXml(400, 'MissingAction', 'Missing Action', requestId, now);
    const version = params.get('Version');
    if (
      !(IAM_ACTIONS as readonly string[]).includes(action) ||
      (version !== undefined && version !== IAM_API_VERSION)
    ) {
      const msg = `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`;
      return iamErrorXml(400, 'InvalidAction', msg, requestId, now);
    }
    const op = action as IamAction;
    try {
      const p = readParams(op, params);
      authorizeCall(store, auth.key, op, p.policyArn, req.sourceIp);
      return iamSuccessXml(op, perform(store, op, p), requestId, now);
    } catch (err) {
      if (err instanceof IamFaultError) return iamErrorXml(err.status, err.code, err.message, requestId, now);
      return iamErrorXml(
        500,
        'ServiceFailure',
        'The request processing has failed because of an unknown error, exception or failure.',
        requestId,
        now,
      );
    }
  };
}
