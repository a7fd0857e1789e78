/**
 * Every port in one import: what the use cases need from the outside, named after that need, with
 * the errors each may throw beside it. One module per bounded context:
 *
 * | module | ports |
 * |---|---|
 * | ./vend.ts, ./vend-errors.ts | `EntitlementStore`, `CredentialIssuer` and its errors, `RateLimitStore` |
 * | ./entitlements.ts | `EntitlementTable` (entitlements as code) |
 * | ./audit.ts | `AuditSink`, `AuditReader`, `DigestStore`, `AuditSigner` |
 * | ./requests.ts | `RequestStore`, `ReviewStore`, `RequestConflictError` |
 * | ./slack.ts | `SlackBindingStore`, `SlackDirectory`, `SlackNotifier`, `ReplayGuard` |
 * | ./sessions.ts | `SessionStore`, `RevocationLedger`, `DenyListPublisher`, `SigninTokenIssuer` (live sessions, revocation, console sign-in) |
 *
 * Ports import only the domain (and the pure Slack formats of lib/slack/); adapters implement them
 * and lib/wiring/ hands them to the use cases (docs/architecture.md).
 */
export * from './audit';
export * from './entitlements';
export * from './requests';
export * from './sessions';
export * from './slack';
export * from './vend';
export * from './vend-errors';
