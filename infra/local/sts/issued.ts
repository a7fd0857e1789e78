/**
 * The local STS's own record of every session it issued (AssumeRole answered with credentials),
 * in memory, per IAM store. AWS keeps this record as CloudTrail's `AssumeRole` events in the
 * target account; vend's audit trail is reconciled against it (docs/audit.md), and the fault
 * campaign (test/faults/campaign.test.ts) does the same against this one: every session STS issued
 * must have vend's intent record and either an issued record or an orphan listing.
 *
 * Only non-secret facts are kept: the AccessKeyId, never the secret key or session token.
 *
 * @example
 * const sessions = issuedSessionsOf(stack.store).list();
 * sessions[0].sessionTags['vend:audit-id']; // '01J…' (the vend audit id the session was tagged with)
 */
import type { IamStore } from '../iam/store';
import type { KeyRecord } from '../types';

/** One session STS issued, as CloudTrail would show its AssumeRole event. */
export interface IssuedSession {
  /** The new session's AccessKeyId (`ASIA…`). */
  accessKeyId: string;
  roleArn: string;
  assumedRoleArn: string;
  roleSessionName: string;
  sourceIdentity?: string;
  /** All tags of the session (inherited transitive tags included). */
  sessionTags: Record<string, string>;
  /** Who called AssumeRole. */
  callerArn: string;
  /** ISO time STS issued it. */
  issuedAt: string;
  expiration?: string;
}

/** The record of one store's STS. */
export interface IssuedSessionLog {
  /** Every session issued so far, in order. */
  list(): readonly IssuedSession[];
  /** Forgets every session (a test starting a fresh count). */
  clear(): void;
}

const logs = new WeakMap<IamStore, IssuedSession[]>();

/** The issued-session record of the STS emulator serving `store` (empty until it issues one). */
export function issuedSessionsOf(store: IamStore): IssuedSessionLog {
  return {
    list: () => [...(logs.get(store) ?? [])],
    clear: () => {
      logs.set(store, []);
    },
  };
}

/** Records a session the emulator just issued (called by the STS handler, once per AssumeRole answered). */
export function recordIssuedSession(store: IamStore, caller: KeyRecord, key: KeyRecord, now: Date): void {
  const list = logs.get(store) ?? [];
  logs.set(store, list);
  const p = key.principal;
  list.push({
    accessKeyId: key.accessKeyId,
    roleArn: p.roleArn ?? '',
    assumedRoleArn: p.arn,
    roleSessionName: p.sessionName ?? p.arn.split('/').at(-1) ?? '',
    ...(p.sourceIdentity !== undefined && { sourceIdentity: p.sourceIdentity }),
    sessionTags: { ...(p.sessionTags ?? {}) },
    callerArn: caller.principal.arn,
    issuedAt: now.toISOString(),
    ...(key.expiration !== undefined && { expiration: key.expiration }),
  });
}
