/**
 * The session policy vend sends with AssumeRole. A caller may only **narrow** what an entitlement
 * grants: the requested policy must be valid, every Allow statement must fit inside the entitlement's
 * ceiling, and the result must meet STS's size and charset limits (fact sheet §1).
 *
 * What is sent:
 * - no requested policy, a ceiling: the ceiling itself;
 * - no requested policy, no ceiling: nothing (the role's own permissions apply);
 * - a requested policy: its statements (Allows and Denies as written) followed by the ceiling's Deny
 *   statements, so a ceiling Deny can never be dropped by a caller who omits it.
 *
 * Pure: the only "outside" call is a SHA-256 digest (node:crypto, no I/O), and it can be injected.
 */
import { createHash } from 'node:crypto';
import { checkContainment, PolicyValidationError, parsePolicy } from '../iam';
import type { Policy } from '../iam/types';
import { InvalidRequestError, PolicyExceedsCeilingError, PolicyTooLargeError } from './errors';
import { SESSION_POLICY_MAX_CHARS } from './limits';

export { SESSION_POLICY_MAX_CHARS } from './limits';

/**
 * A requested policy string longer than this is refused before it is even parsed: it could never
 * minify below {@link SESSION_POLICY_MAX_CHARS} without absurd whitespace, and parsing is not free.
 */
export const RAW_POLICY_MAX_CHARS = 32_768;

// The Policy parameter's modelled pattern `[\u0009\u000A\u000D\u0020-\u00FF]+` (fact sheet §1),
// as a loop: a regex with control characters in it is hard to read and lint rejects it.
function stsPolicyCharsetOk(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!(c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0xff))) return false;
  }
  return true;
}

/** What {@link buildSessionPolicy} returns: both absent when no session policy is needed. */
export interface SessionPolicy {
  /** Minified JSON for AssumeRole's `Policy` parameter. */
  policy?: string;
  /** Lower-case hex SHA-256 of `policy`, for the audit record. */
  hash?: string;
}

/** Input of {@link buildSessionPolicy}. */
export interface SessionPolicyInput {
  /** The caller's scope-down policy, as a JSON string or an already-parsed object. */
  requested?: string | object;
  /** The entitlement's ceiling (already validated at load). */
  ceiling?: object;
  /** Digest function; defaults to SHA-256 hex. */
  hash?: (text: string) => string;
}

/** SHA-256 of a string, lower-case hex. @example `sha256Hex('') // 'e3b0c442…'` */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Why a policy text cannot be sent to STS, or `undefined` when it can.
 * @example `stsPolicyTextProblem('{"Statement":[]}') // undefined`
 */
export function stsPolicyTextProblem(text: string): 'charset' | 'size' | undefined {
  if (!stsPolicyCharsetOk(text)) return 'charset';
  if (text.length > SESSION_POLICY_MAX_CHARS) return 'size';
  return undefined;
}

/**
 * Build the session policy for one vend.
 *
 * @throws InvalidRequestError invalid JSON, not an object, not a valid session policy, or characters STS refuses
 * @throws PolicyTooLargeError the minified result exceeds 2,048 characters
 * @throws PolicyExceedsCeilingError an Allow statement reaches outside the ceiling (the first one is named)
 * @example
 * ```ts
 * const { policy, hash } = buildSessionPolicy({
 *   requested: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject',
 *     Resource: 'arn:aws:s3:::my-prod-data-bucket/reports/*' }] },
 *   ceiling: entitlement.ceiling,
 * });
 * ```
 */
export function buildSessionPolicy(input: SessionPolicyInput): SessionPolicy {
  const digest = input.hash ?? sha256Hex;
  const ceilingDoc = input.ceiling as Record<string, unknown> | undefined;

  if (input.requested === undefined) {
    if (ceilingDoc === undefined) return {};
    const text = JSON.stringify(ceilingDoc);
    checkText(text, 'the entitlement ceiling');
    return { policy: text, hash: digest(text) };
  }

  const requestedDoc = toDocument(input.requested);
  const requested = parseRequested(requestedDoc);
  if (requested.version !== '2012-10-17' && hasPolicyVariable(requestedDoc)) {
    // The combined policy is sent as 2012-10-17 (the ceiling's Denies may rely on variables); a
    // 2008-10-17 document's `${…}` is literal text, so sending it under 2012 would change its meaning.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: names IAM policy-variable syntax, not a template
    throw new InvalidRequestError('policy uses ${…} policy variables: declare "Version": "2012-10-17"');
  }

  let ceilingDenies: Record<string, unknown>[] = [];
  if (ceilingDoc !== undefined) {
    // The ceiling was validated at load; a failure here is a deployment fault and surfaces as a 500.
    const ceiling = parsePolicy(ceilingDoc, 'session', 'ceiling');
    refuseNegatedAllows(requested);
    const allows: Policy = {
      ...requested,
      statements: requested.statements.filter((s) => s.effect === 'Allow'),
    };
    const result = checkContainment(allows, ceiling);
    if (!result.ok) {
      // The evaluator's message names the statement and the exact action/resource pair (or the
      // ceiling condition) that falls outside, which is more precise than rebuilding it here.
      const violation: { statement: number; sid?: string; action?: string; resource?: string } = {
        statement: result.statement,
      };
      if (result.sid !== undefined) violation.sid = result.sid;
      if (result.action !== undefined) violation.action = result.action;
      if (result.resource !== undefined) violation.resource = result.resource;
      throw new PolicyExceedsCeilingError(`session policy ${result.message}`, violation);
    }
    ceilingDenies = rawStatements(ceilingDoc).filter((s) => s.Effect === 'Deny');
  }

  const own = rawStatements(requestedDoc);
  const sids = new Set(own.map((s) => s.Sid).filter((x): x is string => typeof x === 'string'));
  const appended = ceilingDenies.map((s) => renameSid(s, sids));
  const doc = {
    Version: '2012-10-17',
    Statement: [...own, ...appended],
  };
  const text = JSON.stringify(doc);
  checkText(text, 'the session policy');
  return { policy: text, hash: digest(text) };
}

function toDocument(requested: string | object): Record<string, unknown> {
  let value: unknown = requested;
  if (typeof requested === 'string') {
    if (requested.length > RAW_POLICY_MAX_CHARS) {
      throw new PolicyTooLargeError(
        `policy is ${requested.length} characters; a session policy may be at most ${SESSION_POLICY_MAX_CHARS} (minified)`,
      );
    }
    try {
      value = JSON.parse(requested);
    } catch (e) {
      // The parser's message can quote the input; the caller knows what they sent, keep it short.
      throw new InvalidRequestError('policy is not valid JSON', { cause: e });
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidRequestError('policy must be a JSON object (an IAM policy document)');
  }
  return value as Record<string, unknown>;
}

function parseRequested(doc: Record<string, unknown>): Policy {
  try {
    return parsePolicy(doc, 'session', 'requested');
  } catch (e) {
    if (e instanceof PolicyValidationError) {
      const first = e.issues[0];
      const where = first ? `${first.path}: ${first.message}` : 'invalid policy';
      throw new InvalidRequestError(`policy is not a valid session policy: ${where}`, { cause: e });
    }
    throw e;
  }
}

// NotAction / NotResource in an Allow grants "everything except": against a ceiling that is always
// wider than intended, and refusing it keeps the error message about the caller's statement.
function refuseNegatedAllows(policy: Policy): void {
  for (const s of policy.statements) {
    if (s.effect !== 'Allow') continue;
    const element = s.notAction ? 'NotAction' : s.notResource ? 'NotResource' : undefined;
    if (element === undefined) continue;
    const violation: { statement: number; sid?: string } = { statement: s.index };
    if (s.sid !== undefined) violation.sid = s.sid;
    throw new PolicyExceedsCeilingError(
      `policy Statement[${s.index}]${s.sid ? ` (Sid ${s.sid})` : ''} uses ${element} in an Allow, which grants ` +
        `everything except what it lists and cannot fit inside the entitlement's ceiling; list what you need instead`,
      violation,
    );
  }
}

/**
 * True when a document contains a `${…}` policy variable anywhere (2008-10-17 treats it as text).
 * @example `hasPolicyVariable({ Statement: [{ Resource: 'arn:aws:s3:::b/${aws:username}/*' }] }) // true`
 */
export function hasPolicyVariable(doc: unknown): boolean {
  return JSON.stringify(doc).includes('${');
}

function rawStatements(doc: Record<string, unknown>): Record<string, unknown>[] {
  const st = doc.Statement;
  const list = Array.isArray(st) ? st : st === undefined ? [] : [st];
  return list.filter((s): s is Record<string, unknown> => s !== null && typeof s === 'object');
}

// Sids must be unique within a policy; a ceiling Deny whose Sid collides with the caller's is renamed
// (or loses its Sid) rather than making the combined policy invalid.
function renameSid(s: Record<string, unknown>, taken: Set<string>): Record<string, unknown> {
  if (typeof s.Sid !== 'string') return s;
  if (!taken.has(s.Sid)) {
    taken.add(s.Sid);
    return s;
  }
  const { Sid, ...rest } = s;
  const renamed = `Ceiling${Sid}`;
  if (taken.has(renamed)) return rest;
  taken.add(renamed);
  return { Sid: renamed, ...rest };
}

function checkText(text: string, what: string): void {
  const problem = stsPolicyTextProblem(text);
  if (problem === 'charset') {
    throw new InvalidRequestError(
      `${what} contains characters STS does not accept (only tab, LF, CR and U+0020–U+00FF)`,
    );
  }
  if (problem === 'size') {
    throw new PolicyTooLargeError(
      `${what} is ${text.length} characters minified${what === 'the session policy' ? ' (ceiling Deny statements included)' : ''}; STS accepts at most ${SESSION_POLICY_MAX_CHARS}`,
    );
  }
}
