/** The local STS emulator (Query protocol): AssumeRole and GetCallerIdentity. */
export { assumeRole, PACKED_BUDGET_BYTES, packedPolicyPercent } from './assume-role';
export * from './errors';
export { createStsHandler, type StsHandlerOptions } from './handler';
export { type IssuedSession, type IssuedSessionLog, issuedSessionsOf } from './issued';
export { parseQueryRequest, scalarList, structList } from './query';
export { type AssumeRoleParams, readAssumeRoleParams } from './validate';
