/**
 * Slack users → people. A click in Slack is acted on as the person a stored binding names, found by
 * (workspace, Slack user id) and nothing else: never by email, which Slack users can change and
 * which two identity systems need not agree on.
 *
 * The binding stores the person's OIDC identity (issuer + subject). Their groups are **not** taken
 * from Slack (any workspace admin could otherwise grant approver rights): the binding store refreshes
 * `groups` from the identity provider's directory record for that subject, and approver rights are
 * then checked against the entitlement at click time like any other vote.
 */
import type { PersonCaller } from '../domain/types';

/** One Slack user's binding to an OIDC identity. */
export interface SlackBinding {
  /** Slack workspace id, `T…`. */
  teamId: string;
  /** Slack user id, `U…` or `W…`. */
  slackUserId: string;
  issuer: string;
  subject: string;
  /** For display only; never used to match. */
  email?: string;
  /** The person's groups as the identity provider last reported them (refreshed by the store). */
  groups: string[];
}

/**
 * Find the binding of a Slack user in a list (exact, case-sensitive match on team and user).
 * @example `findBinding(bindings, 'T0VENDLOCAL', 'U0BOB') // { issuer: '…/oidc', subject: 'bob', … }`
 */
export function findBinding(
  bindings: readonly SlackBinding[],
  teamId: string,
  slackUserId: string,
): SlackBinding | undefined {
  return bindings.find((b) => b.teamId === teamId && b.slackUserId === slackUserId);
}

/**
 * The person a binding names, as a {@link PersonCaller} for the domain rules.
 * @example `personFromBinding(binding) // { kind: 'person', issuer: '…/oidc', subject: 'bob', groups: ['security-approvers'], … }`
 */
export function personFromBinding(binding: SlackBinding): PersonCaller {
  const person: PersonCaller = {
    kind: 'person',
    issuer: binding.issuer,
    subject: binding.subject,
    groups: [...binding.groups],
  };
  if (binding.email !== undefined) person.email = binding.email;
  return person;
}

/** A stored binding is malformed. A data fault, not a caller's: answered as a generic failure. */
export class SlackBindingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackBindingError';
  }
}

/**
 * Validate a binding read from storage or config.
 * @throws SlackBindingError naming the field
 * @example `parseSlackBinding({ teamId: 'T0VENDLOCAL', slackUserId: 'U0BOB', issuer: 'http://127.0.0.1:4566/oidc', subject: 'bob', groups: [] })`
 */
export function parseSlackBinding(raw: unknown): SlackBinding {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SlackBindingError('a Slack binding must be an object');
  }
  const r = raw as Record<string, unknown>;
  const text = (field: string, pattern: RegExp): string => {
    const v = r[field];
    if (typeof v !== 'string' || !pattern.test(v))
      throw new SlackBindingError(`Slack binding: ${field} is malformed`);
    return v;
  };
  const binding: SlackBinding = {
    teamId: text('teamId', /^[TE][A-Z0-9]{2,31}$/),
    slackUserId: text('slackUserId', /^[UW][A-Z0-9]{2,31}$/),
    issuer: text('issuer', /^https?:\/\/\S{1,500}$/),
    subject: text('subject', /^\S{1,255}$/),
    groups: [],
  };
  if (r.email !== undefined) binding.email = text('email', /^\S{1,254}$/);
  if (r.groups !== undefined) {
    if (!Array.isArray(r.groups) || !r.groups.every((g) => typeof g === 'string' && g !== '')) {
      throw new SlackBindingError('Slack binding: groups must be a list of group names');
    }
    binding.groups = [...new Set(r.groups as string[])];
  }
  return binding;
}
