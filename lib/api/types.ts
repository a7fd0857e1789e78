/**
 * The API's shapes by name, for clients (the CLI, the web console): aliases of the types generated
 * from openapi.yaml into ./openapi.d.ts (`npm run gen:api`; a spec fails when the committed file is
 * stale). Type-only: importing this module costs nothing at run time.
 *
 * @example
 * import type { VendResponse } from '../api/types';
 * const out = (await res.json()) as VendResponse;
 */
import type { components, operations, paths } from './openapi';

export type { components, operations, paths };

type Schemas = components['schemas'];

export type Problem = Schemas['Problem'];
export type ProblemCode = Schemas['ProblemCode'];
export type Health = Schemas['Health'];
export type VendBody = Schemas['VendBody'];
export type GrantVendBody = Schemas['GrantVendBody'];
export type Credentials = Schemas['Credentials'];
export type VendResponse = Schemas['VendResponse'];
export type ConsoleBody = Schemas['ConsoleBody'];
export type ConsoleResponse = Schemas['ConsoleResponse'];
export type Entitlement = Schemas['Entitlement'];
export type EntitlementList = Schemas['EntitlementList'];
export type AccessRequestBody = Schemas['AccessRequestBody'];
export type AccessRequest = Schemas['AccessRequest'];
export type RequestStatus = Schemas['RequestStatus'];
export type RequestList = Schemas['RequestList'];
export type Vote = Schemas['Vote'];
export type CommentBody = Schemas['CommentBody'];
export type Review = Schemas['Review'];
export type ReviewList = Schemas['ReviewList'];
export type Session = Schemas['Session'];
export type SessionList = Schemas['SessionList'];
export type RevokeBody = Schemas['RevokeBody'];
export type RevokeCallerBody = Schemas['RevokeCallerBody'];
export type RevokeCallerResult = Schemas['RevokeCallerResult'];
export type SessionRevocation = Schemas['SessionRevocation'];
export type AuditRecord = Schemas['AuditRecord'];
export type AuditPage = Schemas['AuditPage'];
