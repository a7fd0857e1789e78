/**
 * The OAuth clients the local issuer knows for the authorization-code flow. A real identity provider
 * only redirects to URIs registered for a client (RFC 6749 §3.1.2.2, OAuth 2.0 Security BCP §4.1.3:
 * exact string match), and only lets registered browser origins read its token responses; the local
 * issuer does the same, so the web console is tested against a provider that refuses what a real one
 * refuses. Clients are public (no secret, PKCE required): a page in a browser cannot keep a secret.
 *
 * The device flow (`vend login`) is not gated by this registry: it has no redirect to protect, and
 * `vend login --client-id` must keep working against the local issuer.
 */

/** One registered public client of the authorization-code flow. */
export interface PublicClient {
  clientId: string;
  /** Exact redirect URIs (compared as strings, never as prefixes or patterns). */
  redirectUris: readonly string[];
}

/** The web console's client id (issue 16). */
export const WEB_CONSOLE_CLIENT_ID = 'vend-web';

/** A client registration is malformed; the message says which URI and why. */
export class ClientRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientRegistrationError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const CLIENT_ID_SHAPE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The web console's registration for a gateway URL: the app is served at the gateway's root, so
 * `<apiUrl>/` is its redirect URI, and the same port under `localhost` too (a different browser
 * origin, so a different URI; RFC 8252 §8.3 prefers `127.0.0.1`, people type `localhost`).
 *
 * @example webConsoleClient('http://127.0.0.1:4000').redirectUris // ['http://127.0.0.1:4000/', 'http://localhost:4000/']
 */
export function webConsoleClient(apiUrl: string, extraRedirectUris: readonly string[] = []): PublicClient {
  const root = new URL('/', apiUrl);
  const uris = [root.href];
  if (root.hostname === '127.0.0.1')
    uris.push(`${root.protocol}//localhost${root.port ? `:${root.port}` : ''}/`);
  return { clientId: WEB_CONSOLE_CLIENT_ID, redirectUris: [...new Set([...uris, ...extraRedirectUris])] };
}

/**
 * Checks one redirect URI as a provider does at registration: absolute, no fragment (RFC 6749
 * §3.1.2), https unless the host is a loopback address (RFC 8252 §7.3, local development only).
 */
function checkRedirectUri(clientId: string, uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientRegistrationError(`client ${clientId}: redirect URI '${uri}' is not an absolute URL`);
  }
  if (url.hash || uri.includes('#'))
    throw new ClientRegistrationError(`client ${clientId}: redirect URI '${uri}' must not have a fragment`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)))
    throw new ClientRegistrationError(
      `client ${clientId}: redirect URI '${uri}' must use https (http only on a loopback host)`,
    );
  if (url.username || url.password)
    throw new ClientRegistrationError(`client ${clientId}: redirect URI '${uri}' must not carry credentials`);
}

/**
 * The registered clients: exact redirect URIs per client, and the browser origins allowed to call
 * the token endpoint (the origins of those redirect URIs: where the app that receives the code runs).
 *
 * @example
 * const clients = new ClientRegistry([webConsoleClient('http://127.0.0.1:4000')]);
 * clients.allowsRedirect('vend-web', 'http://127.0.0.1:4000/') // true
 * clients.allowsOrigin('http://127.0.0.1:4000') // true
 */
export class ClientRegistry {
  readonly #clients = new Map<string, PublicClient>();

  constructor(clients: readonly PublicClient[] = []) {
    for (const c of clients) this.register(c);
  }

  /** Adds or replaces a client; throws {@link ClientRegistrationError} for a malformed one. */
  register(client: PublicClient): void {
    if (!CLIENT_ID_SHAPE.test(client.clientId))
      throw new ClientRegistrationError(`client id '${client.clientId}' must be 1-64 of A-Za-z0-9._-`);
    if (client.redirectUris.length === 0)
      throw new ClientRegistrationError(`client ${client.clientId}: at least one redirect URI is required`);
    for (const uri of client.redirectUris) checkRedirectUri(client.clientId, uri);
    this.#clients.set(client.clientId, { clientId: client.clientId, redirectUris: [...client.redirectUris] });
  }

  get(clientId: string): PublicClient | undefined {
    return this.#clients.get(clientId);
  }

  /** True when `redirectUri` is, character for character, one the client registered. */
  allowsRedirect(clientId: string, redirectUri: string): boolean {
    return this.#clients.get(clientId)?.redirectUris.includes(redirectUri) ?? false;
  }

  /** True when a page at `origin` may read the issuer's answers (CORS). */
  allowsOrigin(origin: string): boolean {
    for (const c of this.#clients.values()) {
      if (c.redirectUris.some((uri) => new URL(uri).origin === origin)) return true;
    }
    return false;
  }
}
