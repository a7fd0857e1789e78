/**
 * Token minting for the local issuer, shared by the issuer's endpoints and `vend dev token` (which
 * mints offline from the persisted key).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from './keys';
import type { Person } from './people';

/** Default audience of person tokens (API Gateway's JWT authorizer `audience`). */
export const DEFAULT_AUDIENCE = 'vend';
/** Default lifetime of access and id tokens. */
export const DEFAULT_TTL_SECONDS = 3600;

/** Options for one token. */
export interface MintOptions {
  audience?: string;
  ttlSeconds?: number;
  /** Merged last: may override any standard claim (tests use it for expired or odd tokens). */
  extraClaims?: Record<string, unknown>;
}

/** The user is not one of the demo people. */
export class UnknownUserError extends Error {
  constructor(
    readonly user: string,
    known: readonly string[],
  ) {
    super(`unknown user '${user}': the local issuer knows ${known.join(', ')}`);
    this.name = 'UnknownUserError';
  }
}

/** The standard claims of a person token. */
export function personClaims(person: Person): Record<string, unknown> {
  return {
    sub: person.sub,
    email: person.email,
    email_verified: true,
    name: person.name,
    preferred_username: person.username,
    groups: [...person.groups],
  };
}

/**
 * Signs a person token: `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti` plus the person claims.
 *
 * @example await mintPersonToken({ key, issuer, person: alice, now: new Date() })
 */
export async function mintPersonToken(args: {
  key: SigningKey;
  issuer: string;
  person: Person;
  now: Date;
  defaultAudience?: string;
  options?: MintOptions;
}): Promise<string> {
  const { key, issuer, person, now, options = {} } = args;
  const iat = Math.floor(now.getTime() / 1000);
  const payload = {
    iss: issuer,
    aud: options.audience ?? args.defaultAudience ?? DEFAULT_AUDIENCE,
    iat,
    nbf: iat,
    exp: iat + (options.ttlSeconds ?? DEFAULT_TTL_SECONDS),
    jti: randomUUID(),
    ...personClaims(person),
    ...options.extraClaims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}
