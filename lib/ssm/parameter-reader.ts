/**
 * Reads an SSM Parameter Store value (SecureString decrypted) for ExternalId references, with one
 * signed `AmazonSSM.GetParameter` call. vend needs exactly this one call at sync time, so it is
 * made with the SigV4 signer vend already ships rather than a whole SSM client package. It is the
 * adapter behind `ExternalIdResolver.ssm` (lib/entitlements/file.ts); lib/wiring/operator.ts builds
 * it for `vend entitlements sync`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

/** SSM answered with an error (the parameter is missing, access denied …). Names the parameter only. */
export class SsmParameterError extends Error {
  constructor(
    readonly parameter: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`SSM parameter ${parameter}: ${code}`, options);
    this.name = 'SsmParameterError';
  }
}

/** Options of {@link ssmParameterReader}. */
export interface SsmReaderOptions {
  region: string;
  credentials: () => Promise<AwsCredentialIdentity>;
  /** Default `https://ssm.<region>.amazonaws.com` (or `AWS_ENDPOINT_URL_SSM` as the caller passes it). */
  endpoint?: string;
  fetch?: typeof fetch;
}

/**
 * A function that reads one parameter's value, decrypted.
 *
 * @example
 * const read = ssmParameterReader({ region: 'us-east-1', credentials });
 * const externalId = await read('/vend/prod/external-ids/prod-readonly');
 */
export function ssmParameterReader(opts: SsmReaderOptions): (name: string) => Promise<string> {
  const endpoint = new URL(opts.endpoint ?? `https://ssm.${opts.region}.amazonaws.com/`);
  const doFetch = opts.fetch ?? fetch;
  return async (name) => {
    const body = JSON.stringify({ Name: name, WithDecryption: true });
    const signer = new SignatureV4({
      service: 'ssm',
      region: opts.region,
      credentials: opts.credentials,
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port && { port: Number(endpoint.port) }),
      path: endpoint.pathname,
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.GetParameter',
      },
      body,
    });
    let res: Response;
    try {
      res = await doFetch(endpoint, { method: 'POST', headers: signed.headers, body });
    } catch (e) {
      throw new SsmParameterError(name, 'unreachable', { cause: e });
    }
    const out = (await res.json().catch(() => ({}))) as {
      __type?: string;
      Parameter?: { Value?: string };
    };
    if (!res.ok)
      throw new SsmParameterError(name, (out.__type ?? `HTTP ${res.status}`).split('#').pop() ?? 'error');
    const value = out.Parameter?.Value;
    if (typeof value !== 'string') throw new SsmParameterError(name, 'no value');
    return value;
  };
}
