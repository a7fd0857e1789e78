/**
 * The vend API client. Two ways in (CONTRACT §4):
 * - **service** (CI, machines): requests are signed with SigV4 for `execute-api` using the ambient
 *   AWS credentials (the SDK's default provider chain) and go to `/v1/service/*`;
 * - **person**: `Authorization: Bearer <OIDC access token>` on the other `/v1/*` routes.
 * Answers other than 2xx become {@link ApiResponseError}; network failures become
 * {@link UnavailableError} naming VEND_URL. Nothing secret is put in an error.
 */
import { createHash } from 'node:crypto';
import type { AwsCredentialIdentity } from '@smithy/types';
import { ApiResponseError, AuthError, networkReason, type Problem, UnavailableError } from './errors';
import { type HttpAnswer, type HttpSend, httpSend } from './http';
import type { AccessRequest, AuditEntry, ListedEntitlement, VendBody, VendResponse } from './types';

/** How the client proves who it is. */
export type ClientAuth =
  | {
      kind: 'service';
      /** Resolves the AWS credentials to sign with (the default provider chain in the CLI). */
      credentials: () => Promise<AwsCredentialIdentity>;
      region: string;
    }
  | { kind: 'person'; token: string };

/** Options of {@link VendClient}. */
export interface VendClientOptions {
  /** The API base URL (VEND_URL). */
  baseUrl: string;
  auth: ClientAuth;
  /** The transport; default {@link httpSend} (node:http, not the global fetch: see lib/cli/http.ts). */
  fetch?: HttpSend;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
}

/** Query filters of `GET /v1/audit` (CONTRACT §4, issue 8). */
export interface AuditQuery {
  since?: string;
  until?: string;
  caller?: string;
  entitlement?: string;
  decision?: string;
  requestId?: string;
  cursor?: string;
}

/**
 * @example
 * const client = new VendClient({ baseUrl: 'http://127.0.0.1:4000', auth: { kind: 'person', token } });
 * const body = await client.vend({ entitlement: 'prod-readonly', durationSeconds: 900 });
 */
export class VendClient {
  private readonly base: URL;
  private readonly doFetch: HttpSend;

  constructor(private readonly opts: VendClientOptions) {
    this.base = new URL(opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
    this.doFetch = opts.fetch ?? httpSend;
  }

  get mode(): 'service' | 'person' {
    return this.opts.auth.kind;
  }

  /** A non-secret name for who this client is, for cache keys: `aws:<AccessKeyId>` or the token's `iss#sub`. */
  async identity(): Promise<string> {
    const auth = this.opts.auth;
    if (auth.kind === 'service') return `aws:${(await this.resolveCredentials(auth)).accessKeyId}`;
    const claims = decodeJwtClaims(auth.token);
    if (typeof claims?.sub === 'string') return `oidc:${String(claims.iss ?? '')}#${claims.sub}`;
    // Not a JWT we can read: name it by a hash, never by any part of the token itself.
    return `token:${createHash('sha256').update(auth.token).digest('hex').slice(0, 32)}`;
  }

  /** `POST /v1/service/credentials` or `POST /v1/credentials`. */
  vend(body: VendBody): Promise<VendResponse> {
    return this.call('POST', this.mode === 'service' ? 'v1/service/credentials' : 'v1/credentials', body);
  }

  /** `GET /v1/service/entitlements` or `GET /v1/entitlements`. */
  async entitlements(): Promise<ListedEntitlement[]> {
    const out = await this.call<{ entitlements?: ListedEntitlement[] } | ListedEntitlement[]>(
      'GET',
      this.mode === 'service' ? 'v1/service/entitlements' : 'v1/entitlements',
    );
    return Array.isArray(out) ? out : (out.entitlements ?? []);
  }

  /** `POST /v1/requests`. */
  createRequest(body: {
    entitlement: string;
    durationSeconds?: number;
    reason: string;
    breakGlass?: boolean;
    ticket?: string;
  }): Promise<AccessRequest> {
    return this.person()
      .call<AccessRequest | { request: AccessRequest }>('POST', 'v1/requests', body)
      .then(unwrapRequest);
  }

  /** `GET /v1/requests/{id}`. */
  getRequest(id: string): Promise<AccessRequest> {
    return this.person()
      .call<AccessRequest | { request: AccessRequest }>('GET', `v1/requests/${encodeURIComponent(id)}`)
      .then(unwrapRequest);
  }

  /** `GET /v1/requests?status=&mine=`. */
  async listRequests(q: { status?: string; mine?: boolean }): Promise<AccessRequest[]> {
    const query: Record<string, string> = {};
    if (q.status) query.status = q.status;
    if (q.mine) query.mine = 'true';
    const out = await this.person().call<
      { requests?: AccessRequest[]; items?: AccessRequest[] } | AccessRequest[]
    >('GET', 'v1/requests', undefined, query);
    return Array.isArray(out) ? out : (out.requests ?? out.items ?? []);
  }

  /** `POST /v1/requests/{id}/approve` or `…/deny`. */
  decide(id: string, decision: 'approve' | 'deny', comment?: string): Promise<AccessRequest> {
    return this.person()
      .call<AccessRequest | { request: AccessRequest }>(
        'POST',
        `v1/requests/${encodeURIComponent(id)}/${decision}`,
        comment ? { comment } : {},
      )
      .then(unwrapRequest);
  }

  /** `POST /v1/requests/{id}/credentials`: vend inside an approved request's window. */
  requestCredentials(
    id: string,
    body: { durationSeconds?: number; policy?: unknown } = {},
  ): Promise<VendResponse> {
    return this.person().call('POST', `v1/requests/${encodeURIComponent(id)}/credentials`, body);
  }

  /** One page of `GET /v1/audit`. */
  async audit(q: AuditQuery): Promise<{ records: AuditEntry[]; cursor?: string }> {
    const query = Object.fromEntries(
      Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
    );
    const out = await this.person().call<{
      records?: AuditEntry[];
      items?: AuditEntry[];
      cursor?: string;
      nextCursor?: string;
    }>('GET', 'v1/audit', undefined, query);
    const cursor = out.cursor ?? out.nextCursor;
    return { records: out.records ?? out.items ?? [], ...(cursor ? { cursor } : {}) };
  }

  private person(): this {
    if (this.mode !== 'person') {
      throw new AuthError('this command is for people: run vend login (or set VEND_TOKEN) first');
    }
    return this;
  }

  private async resolveCredentials(
    auth: Extract<ClientAuth, { kind: 'service' }>,
  ): Promise<AwsCredentialIdentity> {
    try {
      return await auth.credentials();
    } catch (error) {
      const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      throw new AuthError(
        `no AWS credentials to sign with (${why}): set AWS_PROFILE or pass --aws-profile, or run vend login to act as a person`,
        { cause: error },
      );
    }
  }

  /** Sends one request and parses the JSON answer. */
  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
  ): Promise<T> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (text !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
    const auth = this.opts.auth;
    let sendHeaders: Record<string, string>;
    if (auth.kind === 'person') {
      sendHeaders = { ...headers, authorization: `Bearer ${auth.token}` };
    } else {
      const credentials = await this.resolveCredentials(auth);
      // Loaded when a request is signed: a cached credential-process answer never signs.
      const [{ SignatureV4 }, { Sha256 }] = await Promise.all([
        import('@smithy/signature-v4'),
        import('@aws-crypto/sha256-js'),
      ]);
      const signer = new SignatureV4({
        service: 'execute-api',
        region: auth.region,
        credentials,
        sha256: Sha256,
      });
      const q: Record<string, string> = {};
      for (const [k, v] of url.searchParams) q[k] = v;
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: q,
        headers: { host: url.host, ...headers },
        body: text,
      });
      sendHeaders = signed.headers as Record<string, string>;
    }
    let res: HttpAnswer;
    try {
      res = await this.doFetch(url, {
        method,
        headers: sendHeaders,
        body: text,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new UnavailableError(`cannot reach VEND_URL (${this.base.origin}): ${networkReason(error)}`, {
        cause: error,
      });
    }
    const raw = await res.text().catch(() => '');
    if (!res.ok) {
      let parsed: (Problem & { message?: unknown; Message?: unknown }) | undefined;
      try {
        parsed = JSON.parse(raw) as Problem & { message?: unknown };
      } catch {
        parsed = undefined;
      }
      const isProblem =
        parsed !== undefined &&
        typeof parsed === 'object' &&
        (typeof parsed.code === 'string' || typeof parsed.detail === 'string');
      const gatewayMessage =
        typeof parsed?.message === 'string'
          ? parsed.message
          : typeof parsed?.Message === 'string'
            ? parsed.Message
            : undefined;
      throw new ApiResponseError(
        res.status,
        isProblem ? parsed : undefined,
        gatewayMessage,
        res.headers.get('retry-after') ?? undefined,
      );
    }
    try {
      return JSON.parse(raw) as T;
    } catch {
      throw new UnavailableError(
        `VEND_URL (${this.base.origin}) did not answer JSON (HTTP ${res.status}): is it the vend API?`,
      );
    }
  }
}

function unwrapRequest(out: AccessRequest | { request: AccessRequest }): AccessRequest {
  const inner = (out as { request?: unknown }).request;
  return inner && typeof inner === 'object' ? (inner as AccessRequest) : (out as AccessRequest);
}

/** The claims of a JWT, read without verifying it (the server verifies); undefined if not a JWT. */
export function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
