/**
 * Numeric and lexical limits the domain rules share, each with where it comes from. Kept in one
 * dependency-free file so every rule module can import them without importing each other.
 */

/** STS's floor for DurationSeconds (fact sheet §1). */
export const MIN_DURATION_SECONDS = 900;

/**
 * The role-chaining cap. vend's broker runs as a Lambda execution role, i.e. a role session, so every
 * AssumeRole it makes is role chaining, and STS refuses more than one hour for chained sessions
 * ("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining").
 */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

/** Entitlement ids: lower-case letters, digits and dashes, 2–63 characters, not starting with a dash. */
export const ENTITLEMENT_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** STS's plaintext limit for inline session policies (the documented 2,048 characters). */
export const SESSION_POLICY_MAX_CHARS = 2048;

/** RoleSessionName and SourceIdentity: 2–64 characters of `[\w+=,.@-]` (ASCII word characters). */
export const STS_NAME = /^[A-Za-z0-9_+=,.@-]{2,64}$/;

/** Session tags: at most 50; key 1–128, value 0–256 characters of this class (fact sheet §1). */
export const STS_TAG_CHAR = /[\p{L}\p{Z}\p{N}_.:/=+\-@]/u;
export const STS_TAG_KEY_MAX = 128;
export const STS_TAG_VALUE_MAX = 256;

/**
 * How long after approval (or a break-glass grant) the requester has to pick credentials up, on top
 * of the duration asked for. Without it a 15-minute request would be unusable a second after
 * approval: STS's floor is 900 s, and the window would already have less than that left. No session
 * outlives the window, and none is longer than the duration asked for.
 */
export const GRANT_PICKUP_SECONDS = 300;
