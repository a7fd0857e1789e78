/**
 * The console's deployment settings, read once at start from `/config.json` on the app's own
 * origin: locally the gateway answers it from the stack (the issuer), in AWS a CloudFront Function
 * answers it from serverless.yml's values. Nothing here is secret; a missing or malformed value
 * stops the app with a message rather than guessing (fail closed).
 */

export interface WebConfig {
  /** The OIDC issuer (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  /** The public client id registered at the issuer for this app (`vend-web`). */
  clientId: string;
  /** Scopes asked for at sign-in. */
  scope: string;
  /** The group whose members may read the audit trail (the Audit page is shown to them only). */
  auditorsGroup: string;
}

/** `/config.json` is missing or not what the app needs. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 2048;

/** Reads and checks `/config.json`. */
export async function loadConfig(): Promise<WebConfig> {
  let raw: unknown;
  try {
    const res = await fetch('/config.json', { cache: 'no-store', credentials: 'omit' });
    if (!res.ok) throw new ConfigError(`/config.json answered ${res.status}`);
    raw = await res.json();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('/config.json could not be read');
  }
  const c = (raw ?? {}) as Record<string, unknown>;
  if (!str(c.issuer) || !str(c.clientId)) throw new ConfigError('/config.json lacks issuer or clientId');
  let issuer: URL;
  try {
    issuer = new URL(c.issuer);
  } catch {
    throw new ConfigError('/config.json: issuer is not a URL');
  }
  if (issuer.protocol !== 'https:' && !isLoopback(issuer))
    throw new ConfigError('/config.json: the issuer must use https (http only on a loopback address)');
  return {
    issuer: c.issuer,
    clientId: c.clientId,
    scope: str(c.scope) ? c.scope : 'openid profile email groups',
    auditorsGroup: str(c.auditorsGroup) ? c.auditorsGroup : 'auditors',
  };
}

/** http is allowed only for the local stack's loopback addresses (RFC 8252 §7.3). */
export function isLoopback(url: URL): boolean {
  return (
    url.protocol === 'http:' &&
    (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]')
  );
}
