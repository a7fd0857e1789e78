/**
 * Shapes of the vend API as the CLI reads them (CONTRACT §4). The credential shapes come from
 * openapi.yaml (lib/api, generated); the rest are still the CLI's own, looser reading of the API.
 */
import type { Credentials, VendResponse } from '../api/types';

/** STS credentials as vend returns them; the vend response body (200 of the credential routes). */
export type { Credentials, VendResponse };

/** The vend request body. */
export interface VendBody {
  entitlement: string;
  durationSeconds?: number;
  policy?: unknown;
  reason?: string;
}

/** An entitlement as listed (`GET /v1/entitlements`, `GET /v1/service/entitlements`). */
export interface ListedEntitlement {
  id: string;
  description?: string;
  roleArn: string;
  maxDurationSeconds: number;
  defaultDurationSeconds?: number;
  approval?: { approvals: number; approverGroups: string[] };
  breakGlass?: { maxDurationSeconds: number };
  access?: { use: boolean; request: boolean; breakGlass: boolean };
}

/**
 * An access request (`/v1/requests…`). The contract fixes the routes, not every field, so the CLI
 * reads what it needs and shows the rest with `--json`.
 */
export interface AccessRequest {
  id: string;
  entitlement: string;
  /** pending | approved | denied | cancelled | expired (and possibly more). */
  status: string;
  requester?: unknown;
  reason?: string;
  ticket?: string;
  durationSeconds?: number;
  breakGlass?: boolean;
  /** One per approver decision (lib/domain/request.ts `Vote`). */
  votes?: { approverId?: string; label?: string; decision?: string; at?: string; comment?: string }[];
  approvalsRequired?: number;
  createdAt?: string;
  /** When a pending request lapses. */
  expiresAt?: string;
  /** The grant window, once approved. */
  grantStart?: string;
  grantEnd?: string;
  [key: string]: unknown;
}

/** One audit record as `GET /v1/audit` lists it (lib/domain/audit.ts). */
export interface AuditEntry {
  id: string;
  time: string;
  decision: string;
  auditId?: string;
  reasonCode?: string;
  caller?: { id?: string; kind?: string; label?: string };
  entitlement?: string;
  accessKeyId?: string;
  [key: string]: unknown;
}
