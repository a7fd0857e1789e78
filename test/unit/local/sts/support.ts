/**
 * Helpers for the STS / SigV4 specifications: open the demo world (optionally with extra YAML),
 * sign requests with @smithy/signature-v4 exactly as the JS SDK does, parse STS XML.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';
import { IamStore } from '../../../../infra/local/iam/store';
import type { KeyRecord, RawRequest } from '../../../../infra/local/types';

export const WORLD_DIR = resolve(__dirname, '../../../../infra/local/world');

export const ROLES = {
  prodReadOnly: 'arn:aws:iam::444455556666:role/ProdReadOnly',
  prodDeploy: 'arn:aws:iam::444455556666:role/DeployRole',
  s3ReadAll: 'arn:aws:iam::444455556666:role/S3ReadAll',
  breakGlass: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
  stagingDeploy: 'arn:aws:iam::555566667777:role/DeployRole',
  broker: 'arn:aws:iam::222233334444:role/vend-broker',
  cicd: 'arn:aws:iam::111122223333:role/CICDDeployRole',
} as const;

export const EXTERNAL_IDS = {
  prodReadOnly: 'prod-readonly-ext-7f3a',
  s3ReadAll: 'prod-s3-ext-19c2',
  stagingDeploy: 'staging-deploy-ext-2b71',
} as const;

/** A settable clock: tests move time explicitly instead of using fake timers. */
export class TestClock {
  constructor(public current: Date) {}
  now = (): Date => new Date(this.current.getTime());
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Opens the demo world, with extra YAML files (name → text) merged in a temp copy when given. */
export async function openStore(
  opts: { clock?: TestClock; extra?: Record<string, string>; stateFile?: string } = {},
) {
  let worldDir = WORLD_DIR;
  if (opts.extra) {
    worldDir = mkdtempSync(join(tmpdir(), 'vend-world-'));
    copyFileSync(join(WORLD_DIR, 'world.yaml'), join(worldDir, 'world.yaml'));
    for (const [name, text] of Object.entries(opts.extra)) writeFileSync(join(worldDir, name), text);
  }
  return IamStore.open({
    worldDir,
    ...(opts.stateFile !== undefined && { stateFile: opts.stateFile }),
    ...(opts.clock && { now: opts.clock.now }),
  });
}

export interface SignOptions {
  key: Pick<KeyRecord, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
  service?: string;
  region?: string;
  method?: string;
  path?: string;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
  signingDate?: Date;
  /** Presign (query auth) instead of the Authorization header. */
  presign?: boolean;
  /** Leave the session token out of the signed request. */
  omitToken?: boolean;
}

/** Builds a RawRequest signed by @smithy/signature-v4. */
export async function signedRequest(o: SignOptions): Promise<RawRequest> {
  const signer = new SignatureV4({
    service: o.service ?? 'sts',
    region: o.region ?? 'us-east-1',
    sha256: Sha256,
    credentials: {
      accessKeyId: o.key.accessKeyId,
      secretAccessKey: o.key.secretAccessKey,
      ...(o.key.sessionToken !== undefined && !o.omitToken && { sessionToken: o.key.sessionToken }),
    },
  });
  const body = o.body ?? '';
  const request = {
    method: o.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: o.path ?? '/',
    query: o.query ?? {},
    headers: {
      host: '127.0.0.1:4566',
      ...(body !== '' && { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }),
      ...(o.headers ?? {}),
    },
    body,
  };
  const signingDate = o.signingDate ?? new Date();
  const signed = o.presign
    ? await signer.presign(request, { signingDate, expiresIn: 300 })
    : await signer.sign(request, { signingDate });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = String(v);
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return {
    method: signed.method,
    path: signed.path,
    query,
    headers,
    body: Buffer.from(body),
    sourceIp: '127.0.0.1',
  };
}

/** Form-encodes Query parameters as botocore does (`%20`, not `+`). */
export function form(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false });

/** Parses an XML body into plain objects (text values stay strings). */
export function parseXml(body: string | Buffer): Record<string, unknown> {
  return parser.parse(body.toString()) as Record<string, unknown>;
}

/** `{code, message, type, requestId}` of an STS error document; throws if the shape is wrong. */
export function stsError(body: string | Buffer): {
  code: string;
  message: string;
  type: string;
  requestId: string;
} {
  const doc = parseXml(body) as {
    ErrorResponse?: {
      '@_xmlns'?: string;
      Error?: { Type: string; Code: string; Message: string };
      RequestId?: string;
    };
  };
  const e = doc.ErrorResponse;
  if (!e?.Error || !e.RequestId || e['@_xmlns'] !== 'https://sts.amazonaws.com/doc/2011-06-15/') {
    throw new Error(`not an STS ErrorResponse: ${body.toString()}`);
  }
  return { code: e.Error.Code, message: e.Error.Message, type: e.Error.Type, requestId: e.RequestId };
}
