/**
 * The shapes of the vend API the console reads (CONTRACT §4, docs/api.md). Only what the pages use;
 * every field the server may leave out is optional, so an older or newer server degrades to a
 * blank cell, never a crash.
 *
 * Debt: written by hand until `openapi.yaml` and its generated types (`npm run gen:api`, lib/api/)
 * are in the tree; then these become re-exports of the generated ones.
 */

export interface Credentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** 200 of `POST /v1/credentials` and `POST /v1/requests/{id}/credentials`. */
export interface VendResponse {
  credentials: Credentials;
  entitlement: string;
  roleArn: string;
  assumedRoleArn: string;
  sourceIdentity?: string;
  durationSeconds: number;
  auditId: string;
}

/** 200 of `POST /v1/console` and `POST /v1/requests/{id}/console`. */
export interface ConsoleResponse {
  url: string;
  expiresAt: string;
  entitlement: string;
  auditId: string;
  assumedRoleArn: string;
}

export interface Entitlement {
  id: string;
  description?: string;
  roleArn: string;
  maxDurationSeconds: number;
  defaultDurationSeconds?: number;
  approval?: { approvals: number; approverGroups: string[] };
  breakGlass?: { maxDurationSeconds: number };
  access: { use: boolean; request: boolean; breakGlass: boolean };
}

export interface Vote {
  approverId: string;
  label?: string;
  decision: 'approve' | 'deny';
  at: string;
  comment?: string;
}

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'cancelled' | 'expired';

export interface AccessRequest {
  id: string;
  entitlement: string;
  status: RequestStatus;
  requester: { id: string; label?: string; email?: string };
  reason: string;
  ticket?: string;
  durationSeconds: number;
  breakGlass: boolean;
  createdAt: string;
  expiresAt: string;
  approvalsRequired: number;
  votes: Vote[];
  decidedAt?: string;
  grantStart?: string;
  grantEnd?: string;
}

export interface Review {
  id: string;
  requestId: string;
  entitlement: string;
  requesterId: string;
  openedAt: string;
  status: 'open' | 'signed-off';
  signedOffBy?: string;
  at?: string;
}

/** One live session (`GET /v1/sessions`, issue 15). Field names as CONTRACT §4 lists them. */
export interface LiveSession {
  auditId: string;
  caller?: string | { id?: string; label?: string };
  entitlement?: string;
  roleArn?: string;
  role?: string;
  assumedRoleArn?: string;
  issuedAt?: string;
  issued?: string;
  expiresAt?: string;
  expiration?: string;
  expiry?: string;
  delivery?: string;
  revoked?: boolean;
}

export interface AuditRecord {
  id: string;
  time: string;
  decision: string;
  auditId?: string;
  reasonCode?: string;
  reasonDetail?: string;
  caller?: { id?: string; kind?: string; label?: string };
  entitlement?: string;
  roleArn?: string;
  durationSeconds?: number;
  accessKeyId?: string;
  expiration?: string;
  reason?: string;
  ticket?: string;
  comment?: string;
  requestStatus?: string;
  accessRequestId?: string;
  requestId?: string;
  sourceIp?: string;
}

/** 200 of `GET /v1/audit`. `sealedThrough`: the end of the latest signed digest (null before the first). */
export interface AuditPage {
  records: AuditRecord[];
  cursor?: string;
  sealedThrough?: string | null;
}

/** RFC 9457 problem+json, as every vend refusal is. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  requestId?: string;
}
