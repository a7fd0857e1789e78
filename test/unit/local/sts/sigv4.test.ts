import { beforeAll, describe, expect, it } from 'vitest';
import type { IamStore } from '../../../../infra/local/iam/store';
import {
  EXPIRED_TOKEN_MESSAGE,
  INVALID_TOKEN_MESSAGE,
  SIGNATURE_MISMATCH_MESSAGE,
  verifySigV4,
} from '../../../../infra/local/sigv4/verify';
import type { KeyRecord } from '../../../../infra/local/types';
import { form, openStore, signedRequest, TestClock } from './support';

const T0 = new Date('2026-11-29T10:00:00Z');
const body = form({ Action: 'GetCallerIdentity', Version: '2011-06-15' });

describe('verifySigV4 against requests signed by @smithy/signature-v4', () => {
  let store: IamStore;
  let key: KeyRecord;
  const clock = new TestClock(T0);
  const verify = (req: Parameters<typeof verifySigV4>[0], now = T0, service = 'sts') =>
    verifySigV4(req, { service, lookup: (id) => store.lookupAccessKey(id), now });

  beforeAll(async () => {
    store = await openStore({ clock });
    key = store.mintBaseSession('ci');
  });

  it('accepts a correctly signed header-auth request and returns the key record', async () => {
    const req = await signedRequest({ key, body, signingDate: T0 });
    const result = verify(req);
    expect(result).toEqual({ ok: true, key });
  });

  it('accepts any region in the credential scope', async () => {
    const req = await signedRequest({ key, body, signingDate: T0, region: 'eu-west-3' });
    expect(verify(req).ok).toBe(true);
  });

  it('rejects a request signed with the wrong secret as SignatureDoesNotMatch 403', async () => {
    const req = await signedRequest({
      key: { ...key, secretAccessKey: 'x'.repeat(40) },
      body,
      signingDate: T0,
    });
    expect(verify(req)).toEqual({
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: SIGNATURE_MISMATCH_MESSAGE,
    });
  });

  it('rejects a body changed after signing', async () => {
    const req = await signedRequest({ key, body, signingDate: T0 });
    req.body = Buffer.from(body.replace('GetCallerIdentity', 'AssumeRole'));
    expect(verify(req)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('rejects a request signed 16 minutes in the past with the "Signature expired" message', async () => {
    const req = await signedRequest({ key, body, signingDate: new Date(T0.getTime() - 16 * 60_000) });
    expect(verify(req)).toEqual({
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
      message:
        'Signature expired: 20261129T094400Z is now earlier than 20261129T094500Z (20261129T100000Z - 15 min.)',
    });
  });

  it('rejects a request signed 16 minutes in the future with the "not yet current" message', async () => {
    const req = await signedRequest({ key, body, signingDate: new Date(T0.getTime() + 16 * 60_000) });
    expect(verify(req)).toEqual({
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
      message:
        'Signature not yet current: 20261129T101600Z is still later than 20261129T101500Z (20261129T100000Z + 15 min.)',
    });
  });

  it('accepts 14 minutes of skew either way', async () => {
    const early = await signedRequest({ key, body, signingDate: new Date(T0.getTime() - 14 * 60_000) });
    const late = await signedRequest({ key, body, signingDate: new Date(T0.getTime() + 14 * 60_000) });
    expect([verify(early).ok, verify(late).ok]).toEqual([true, true]);
  });

  it('rejects a session key sent without its session token as InvalidClientTokenId', async () => {
    const req = await signedRequest({ key, body, signingDate: T0, omitToken: true });
    expect(verify(req)).toEqual({
      ok: false,
      status: 403,
      code: 'InvalidClientTokenId',
      message: INVALID_TOKEN_MESSAGE,
    });
  });

  it('rejects a session key sent with another session token as InvalidClientTokenId', async () => {
    const other = store.mintBaseSession('vend-broker');
    const req = await signedRequest({
      key: { ...key, sessionToken: other.sessionToken },
      body,
      signingDate: T0,
    });
    expect(verify(req)).toEqual({
      ok: false,
      status: 403,
      code: 'InvalidClientTokenId',
      message: INVALID_TOKEN_MESSAGE,
    });
  });

  it('rejects an unknown access key as InvalidClientTokenId', async () => {
    const req = await signedRequest({
      key: {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY',
      },
      body,
      signingDate: T0,
    });
    expect(verify(req)).toMatchObject({ ok: false, status: 403, code: 'InvalidClientTokenId' });
  });

  it('rejects an expired session as ExpiredToken 403, even when correctly signed', async () => {
    const later = new Date(Date.parse(key.expiration!) + 1000);
    const req = await signedRequest({ key, body, signingDate: later });
    expect(verify(req, later)).toEqual({
      ok: false,
      status: 403,
      code: 'ExpiredToken',
      message: EXPIRED_TOKEN_MESSAGE,
    });
  });

  it('rejects a request without any authentication as MissingAuthenticationToken 403', () => {
    const req = {
      method: 'POST',
      path: '/',
      query: '',
      headers: { host: 'x' },
      body: Buffer.from(body),
      sourceIp: '127.0.0.1',
    };
    expect(verify(req)).toMatchObject({ ok: false, status: 403, code: 'MissingAuthenticationToken' });
  });

  it('rejects a malformed Authorization header as IncompleteSignature 400', async () => {
    const req = await signedRequest({ key, body, signingDate: T0 });
    req.headers.authorization = req.headers.authorization!.replace(/, Signature=[0-9a-f]+/, '');
    expect(verify(req)).toMatchObject({ ok: false, status: 400, code: 'IncompleteSignature' });
  });

  it('rejects a credential scoped to another service', async () => {
    const req = await signedRequest({ key, body, signingDate: T0, service: 'dynamodb' });
    expect(verify(req)).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('accepts a presigned GET (query auth), as execute-api presigned URLs are', async () => {
    const req = await signedRequest({
      key,
      method: 'GET',
      path: '/v1/service/entitlements',
      query: { limit: '10' },
      signingDate: T0,
      presign: true,
      service: 'execute-api',
    });
    expect(req.headers.authorization).toBeUndefined();
    expect(verify(req, T0, 'execute-api')).toEqual({ ok: true, key });
  });

  it('rejects a presigned URL whose signature was tampered with', async () => {
    const req = await signedRequest({
      key,
      method: 'GET',
      path: '/v1/x',
      signingDate: T0,
      presign: true,
      service: 'execute-api',
    });
    req.query = req.query.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    expect(verify(req, T0, 'execute-api')).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('rejects a presigned URL used after X-Amz-Expires', async () => {
    const req = await signedRequest({
      key,
      method: 'GET',
      path: '/v1/x',
      signingDate: T0,
      presign: true,
      service: 'execute-api',
    });
    expect(verify(req, new Date(T0.getTime() + 301_000), 'execute-api')).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('canonicalises encoded paths and query strings the way the signer does', async () => {
    const req = await signedRequest({
      key,
      method: 'GET',
      // SDKs hand the signer the wire form of the path (labels already percent-encoded once).
      path: '/v1/requests/a%20b%2Bc%252Fd',
      query: { status: 'pending approval', 'a~b': 'x*y', mine: '' },
      signingDate: T0,
      service: 'execute-api',
    });
    expect(req.path).toBe('/v1/requests/a%20b%2Bc%252Fd');
    expect(verify(req, T0, 'execute-api')).toEqual({ ok: true, key });
  });
});
