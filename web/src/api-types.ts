/**
 * The API's shapes as the console reads them: the types generated from openapi.yaml
 * (`npm run gen:api`, lib/api/), so the app and the API are described once. Type-only imports:
 * nothing of lib/ reaches the bundle.
 */
export type {
  AccessRequest,
  AuditPage,
  AuditRecord,
  ConsoleResponse,
  Credentials,
  Entitlement,
  RequestStatus,
  Review,
  Session as LiveSession,
  VendResponse,
  Vote,
} from '../../lib/api/types';

/**
 * A refusal as the app shows it: an RFC 9457 problem, or what is known of an answer that was not
 * one (a gateway `{message}`, a network failure: `status` 0).
 */
export interface Problem {
  status: number;
  title?: string;
  detail?: string;
  code?: string;
  requestId?: string;
}
