/**
 * Publishes a target role's deny list in its account (docs/revocation.md, "The exact API"): the
 * broker assumes the account's `vend/vend-revoker` role, naming who revokes as SourceIdentity (so
 * CloudTrail names them on every CreatePolicyVersion), then, with @aws-sdk/client-iam:
 * 1. `ListPolicyVersions`; while five versions are stored, `DeletePolicyVersion` of the oldest
 *    non-default one (a version only becomes default when it is created, so a non-default one is
 *    never needed again; one another writer deleted first is skipped);
 * 2. `CreatePolicyVersion` with the document and `SetAsDefault=true`. A `LimitExceeded` because
 *    another writer filled the fifth slot meanwhile is retried, a few times, after a short jitter.
 *
 * Which document wins when several writers publish at once is the use case's business (the
 * generation protocol of lib/usecases/sessions.ts); this adapter writes what it is given.
 *
 * Every failure is a 503 {@link RevocationUnavailableError}: the revocation is not done, and the
 * use case does not mark the session revoked. The revoker's credentials are kept for a few minutes
 * per account and revoker (they last 15), so a burst of revocations assumes the role once. The IAM
 * client is made per publication: its credentials are the revoker's, which differ per account and
 * per person revoking; revocations are rare enough that the cost does not matter.
 */
import {
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  IAMClient,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { UpstreamUnavailableError, VendError } from '../domain/errors';
import { accountOf, DenyListFullError, denyListArn, revokerRoleArn } from '../domain/revocation';
import type { CredentialIssuer, DenyListPublisher } from '../ports';

/** The deny list could not be written: the revocation did not happen (503 `upstream_unavailable`). */
export class RevocationUnavailableError extends UpstreamUnavailableError {
  constructor(detail: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(detail, retryAfterSeconds, options);
    this.name = 'RevocationUnavailableError';
  }
}

/** A summary of an IAM error that is safe to keep as a cause (IAM messages name ARNs, nothing secret). */
class IamFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatusCode: number | undefined,
  ) {
    super(message);
    this.name = 'IamFault';
  }
}

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Options of {@link IamDenyListPublisher}. */
export interface IamDenyListOptions {
  /** IAM's region (IAM is global; its endpoint is us-east-1 in the aws partition). */
  region?: string;
  /** How many times a version race is retried (default 6). */
  attempts?: number;
  /** Waits between those retries, before jitter (default 50 ms, doubling). */
  baseDelayMs?: number;
  now?: () => Date;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Builds the IAM client for a set of credentials (tests); default a real IAMClient. */
  iamClient?: (credentials: Creds) => Pick<IAMClient, 'send' | 'destroy'>;
}

const MAX_VERSIONS = 5;
/** Reuse the revoker's credentials while they have more than this left. */
const CREDENTIALS_MARGIN_MS = 5 * 60_000;

/**
 * {@link DenyListPublisher} through the account's revoker role and IAM.
 * @example
 * ```ts
 * const publisher = new IamDenyListPublisher(stsIssuer);
 * await publisher.publish({ roleArn, document, revokedBy: 'bob@example.com' });
 * ```
 */
export class IamDenyListPublisher implements DenyListPublisher {
  private readonly credentials = new Map<string, Creds>();
  private readonly region: string;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly iamClient: (credentials: Creds) => Pick<IAMClient, 'send' | 'destroy'>;

  constructor(
    private readonly sts: CredentialIssuer,
    options: IamDenyListOptions = {},
  ) {
    this.region = options.region ?? 'us-east-1';
    this.attempts = options.attempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.iamClient =
      options.iamClient ??
      ((c) =>
        new IAMClient({
          region: this.region,
          maxAttempts: 3,
          credentials: {
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            sessionToken: c.sessionToken,
          },
        }));
  }

  async publish(input: { roleArn: string; document: string; revokedBy: string }): Promise<void> {
    const account = accountOf(input.roleArn);
    const policyArn = denyListArn(input.roleArn);
    const creds = await this.revoker(account, input.revokedBy);
    const iam = this.iamClient(creds);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.makeRoom(iam, policyArn);
          await iam.send(
            new CreatePolicyVersionCommand({
              PolicyArn: policyArn,
              PolicyDocument: input.document,
              SetAsDefault: true,
            }),
          );
          return;
        } catch (e) {
          const fault = iamFault(e);
          if (fault.code === 'LimitExceededException' || fault.code === 'LimitExceeded') {
            if (/PolicySize/i.test(fault.message)) throw new DenyListFullError(input.roleArn);
            if (attempt < this.attempts) {
              await this.sleep(this.random() * this.baseDelayMs * 2 ** (attempt - 1));
              continue;
            }
          }
          throw translate(fault, input.roleArn);
        }
      }
    } finally {
      iam.destroy();
    }
  }

  /** Deletes the oldest non-default versions until fewer than five are stored. */
  private async makeRoom(iam: Pick<IAMClient, 'send'>, policyArn: string): Promise<void> {
    const listed = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: policyArn }));
    const versions = listed.Versions ?? [];
    const old = versions
      .filter((v) => v.IsDefaultVersion !== true && typeof v.VersionId === 'string')
      .sort((a, b) => Number(a.VersionId?.slice(1)) - Number(b.VersionId?.slice(1)));
    for (
      let excess = versions.length - (MAX_VERSIONS - 1), i = 0;
      excess > 0 && i < old.length;
      excess--, i++
    ) {
      try {
        await iam.send(
          new DeletePolicyVersionCommand({ PolicyArn: policyArn, VersionId: old[i]?.VersionId }),
        );
      } catch (e) {
        const fault = iamFault(e);
        // Another writer deleted it first, or (never, but harmless) it became the default.
        if (!/NoSuchEntity|DeleteConflict/.test(fault.code)) throw e;
      }
    }
  }

  private async revoker(account: string, revokedBy: string): Promise<Creds> {
    const key = `${account}|${revokedBy}`;
    const held = this.credentials.get(key);
    if (held && held.expiration.getTime() - this.now().getTime() > CREDENTIALS_MARGIN_MS) return held;
    let issued: Awaited<ReturnType<CredentialIssuer['assume']>>;
    try {
      issued = await this.sts.assume({
        roleArn: revokerRoleArn(account),
        roleSessionName: `vend-revoke-${this.now().getTime().toString(36)}`,
        durationSeconds: 900,
        sourceIdentity: revokedBy,
      });
    } catch (e) {
      const retry = e instanceof UpstreamUnavailableError ? e.retryAfterSeconds : 5;
      throw new RevocationUnavailableError(
        `vend could not assume the revoker role of account ${account}; the session is not revoked, retry shortly`,
        retry,
        { cause: e instanceof VendError ? e : undefined },
      );
    }
    const creds: Creds = {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
      expiration: issued.expiration,
    };
    if (this.credentials.size >= 100) this.credentials.clear();
    this.credentials.set(key, creds);
    return creds;
  }
}

function iamFault(e: unknown): IamFault {
  if (e instanceof IamFault) return e;
  const err = e as {
    name?: unknown;
    message?: unknown;
    Code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const code = typeof err?.name === 'string' ? err.name : 'Unknown';
  const message = typeof err?.message === 'string' ? err.message.slice(0, 300) : '';
  return new IamFault(code, message, err?.$metadata?.httpStatusCode);
}

function translate(fault: IamFault, roleArn: string): RevocationUnavailableError {
  const status = fault.httpStatusCode ?? 0;
  if (/AccessDenied/.test(fault.code)) {
    return new RevocationUnavailableError(
      `the revoker role may not write the deny list of ${roleArn}; an operator must check the revoker template and the SCPs (docs/revocation.md)`,
      60,
      { cause: fault },
    );
  }
  if (/NoSuchEntity/.test(fault.code)) {
    return new RevocationUnavailableError(
      `${roleArn} has no revocation deny list (deployed from an old target-role template; docs/revocation.md "Deploying it")`,
      60,
      { cause: fault },
    );
  }
  if (/Throttl|ServiceFailure|ServiceUnavailable/.test(fault.code) || status >= 500 || status === 0) {
    return new RevocationUnavailableError(
      'IAM is unavailable; the session is not revoked, retry shortly',
      2,
      {
        cause: fault,
      },
    );
  }
  return new RevocationUnavailableError(
    `IAM refused the deny list of ${roleArn} (${fault.code}); the session is not revoked`,
    30,
    { cause: fault },
  );
}
