import { beforeAll, describe, expect, it } from 'vitest';
import type { IamStore } from '../../../../infra/local/iam/store';
import {
  EXPIRED_TOKEN_MESSAGE,
  endpointVerifier,
  INVALID_TOKEN_MESSAGE,
  SIGNATURE_MISMATCH_MESSAGE,
  scopeProblems,
  signingNameOf,
  verifySigV4,
} from '../../../../infra/local/sigv4/verify';
import type { KeyRecord, RawRequest } from '../../../../infra/local/types';
import { amzDateOf, type HandScope, handSign } from '../../../support/sigv4';
import { form, openStore, signedRequest, TestClock } from './support';

const T0 = new Date('2026-11-29T10:00:00Z');
const body = form({ Action: 'GetCallerIdentity', Version: '2011-06-15' });

describe('verifySigV4 against requests signed by @smithy/signature-v4', () => {
  let store: IamStore;
  let key: KeyRecord;
  const clock = new TestClock(T0);
  const verify = (req: Parameters<typeof verifySigV4>[0], now = T0, service = 'sts') =>
    verifySigV4(req, { service, region: 'us-east-1', lookup: (id) => store.lookupAccessKey(id), now });

  beforeAll(async () => {
    store = await openStore({ clock });
    key = store.mintBaseSession('ci');
  });

  it('accepts a correctly signed header-auth request and returns the key record', async () => {
    const req = await signedRequest({ key, body, signingDate: T0 });
    const result = verify(req);
    expect(result).toEqual({ ok: true, key });
  });

  it("rejects a credential scoped to another region, with AWS's message", async () => {
    const req = await signedRequest({ key, body, signingDate: T0, region: 'eu-west-3' });
    expect(verify(req)).toEqual({
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: 'Credential should be scoped to a valid region. ',
    });
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

  it('rejects a credential scoped to another service, naming the right one', async () => {
    const req = await signedRequest({ key, body, signingDate: T0, service: 'dynamodb' });
    expect(verify(req)).toEqual({
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: "Credential should be scoped to correct service: 'sts'. ",
    });
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

/**
 * The credential scope, part by part, with requests CORRECTLY signed over the wrong scope (an
 * independent signer, test/support/sigv4.ts): only the scope check can refuse them. Messages and
 * their order are AWS's (see the header of infra/local/sigv4/verify.ts for the sources).
 */
describe('verifySigV4: the credential scope is checked in full', () => {
  let store: IamStore;
  let key: KeyRecord;
  const host = '127.0.0.1:4566';
  const good: HandScope = { date: '20261129', region: 'us-east-1', service: 'sts' };

  beforeAll(async () => {
    store = await openStore({ clock: new TestClock(T0) });
    key = store.mintBaseSession('ci');
  });

  const request = (scope: HandScope, o: { amzDate?: string; credential?: string } = {}): RawRequest => ({
    method: 'POST',
    path: '/',
    query: '',
    headers: handSign({
      method: 'POST',
      path: '/',
      headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
      body,
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      sessionToken: key.sessionToken,
      amzDate: o.amzDate ?? amzDateOf(T0),
      scope,
      ...(o.credential !== undefined && { credential: o.credential }),
    }),
    body: Buffer.from(body),
    sourceIp: '127.0.0.1',
  });
  const verify = (req: RawRequest, o: { service?: string; maxSkewMinutes?: number; now?: Date } = {}) =>
    verifySigV4(req, {
      service: o.service ?? 'sts',
      region: 'us-east-1',
      lookup: (id) => store.lookupAccessKey(id),
      now: o.now ?? T0,
      ...(o.maxSkewMinutes !== undefined && { maxSkewMinutes: o.maxSkewMinutes }),
    });
  const refused = (message: string) => ({ ok: false, status: 403, code: 'SignatureDoesNotMatch', message });

  it('accepts the independent signer over the right scope (so the refusals below are the scope)', () => {
    expect(verify(request(good))).toEqual({ ok: true, key });
  });

  it.each<[string, HandScope, string]>([
    ['region', { ...good, region: 'eu-west-1' }, 'Credential should be scoped to a valid region. '],
    ['region case', { ...good, region: 'US-EAST-1' }, 'Credential should be scoped to a valid region. '],
    ['service', { ...good, service: 'iam' }, "Credential should be scoped to correct service: 'sts'. "],
    [
      'terminator',
      { ...good, terminator: 'aws4_requesx' },
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesx'. ",
    ],
    [
      'date (yesterday, while X-Amz-Date is today)',
      { ...good, date: '20261128' },
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261128' != '20261129', from '20261129T100000Z'.",
    ],
    [
      'date (not a date at all)',
      { ...good, date: '2026-11-29' },
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '2026-11-29' != '20261129', from '20261129T100000Z'.",
    ],
  ])("refuses a wrong %s with AWS's message", (_part, scope, message) => {
    expect(verify(request(scope))).toEqual(refused(message));
  });

  it("names every wrong part in one message, in AWS's order (DynamoDB's answer recorded in dynalite)", () => {
    const all = { date: 'b', region: 'c', service: 'd', terminator: 'e' };
    expect(verify(request(all), { service: 'dynamodb' })).toEqual(
      refused(
        'Credential should be scoped to a valid region. ' +
          "Credential should be scoped to correct service: 'dynamodb'. " +
          "Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. " +
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20261129', from '20261129T100000Z'.",
      ),
    );
  });

  it.each([
    ['four parts', (id: string) => `${id}/20261129/us-east-1/sts`],
    ['six parts', (id: string) => `${id}/20261129/us-east-1/sts/aws4_request/extra`],
    ['no slashes', (id: string) => id],
  ])('refuses a credential of %s as IncompleteSignature 400', (_name, make) => {
    const credential = make(key.accessKeyId);
    expect(verify(request(good, { credential }))).toEqual({
      ok: false,
      status: 400,
      code: 'IncompleteSignature',
      message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    });
  });

  it('refuses an X-Amz-Date that is not ISO 8601 basic format, even if signed', () => {
    expect(verify(request(good, { amzDate: '2026-11-29T10:00:00Z' }))).toEqual({
      ok: false,
      status: 400,
      code: 'IncompleteSignature',
      message:
        "Date must be in ISO-8601 'basic format'. Got '2026-11-29T10:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    });
  });

  it('refuses a request date 16 minutes off either way before looking at the scope', () => {
    const past = new Date(T0.getTime() - 16 * 60_000);
    const future = new Date(T0.getTime() + 16 * 60_000);
    expect(verify(request({ ...good, region: 'eu-west-1' }, { amzDate: amzDateOf(past) }))).toEqual(
      refused(
        'Signature expired: 20261129T094400Z is now earlier than 20261129T094500Z (20261129T100000Z - 15 min.)',
      ),
    );
    expect(verify(request(good, { amzDate: amzDateOf(future) }))).toEqual(
      refused(
        'Signature not yet current: 20261129T101600Z is still later than 20261129T101500Z (20261129T100000Z + 15 min.)',
      ),
    );
  });

  it('allows API Gateway\'s 5 minutes when told: 6 minutes off is refused with "- 5 min."', () => {
    const req = request(good, { amzDate: amzDateOf(new Date(T0.getTime() - 6 * 60_000)) });
    expect(verify(req).ok).toBe(true);
    expect(verify(req, { maxSkewMinutes: 5 })).toEqual(
      refused(
        'Signature expired: 20261129T095400Z is now earlier than 20261129T095500Z (20261129T100000Z - 5 min.)',
      ),
    );
  });

  it("checks the scope of an unknown key too, before saying the key is unknown (AWS's order)", () => {
    const req = request(
      { ...good, region: 'eu-west-1' },
      { credential: 'ASIAUNKNOWN/20261129/eu-west-1/sts/aws4_request' },
    );
    expect(verify(req)).toEqual(refused('Credential should be scoped to a valid region. '));
  });
});

describe('verifySigV4: presigned (query) requests get the same scope and date checks', () => {
  let store: IamStore;
  let key: KeyRecord;

  beforeAll(async () => {
    store = await openStore({ clock: new TestClock(T0) });
    key = store.mintBaseSession('ci');
  });
  const presigned = (o: { region?: string; service?: string; signingDate?: Date }) =>
    signedRequest({
      key,
      method: 'GET',
      path: '/v1/service/entitlements',
      signingDate: o.signingDate ?? T0,
      presign: true,
      service: o.service ?? 'execute-api',
      region: o.region ?? 'us-east-1',
    });
  const verify = (req: RawRequest, now = T0) =>
    verifySigV4(req, {
      service: 'execute-api',
      region: 'us-east-1',
      lookup: (id) => store.lookupAccessKey(id),
      now,
      maxSkewMinutes: 5,
    });

  it('refuses X-Amz-Credential scoped to another region or service', async () => {
    expect(verify(await presigned({ region: 'eu-west-1' }))).toMatchObject({
      ok: false,
      message: 'Credential should be scoped to a valid region. ',
    });
    expect(verify(await presigned({ service: 'sts' }))).toMatchObject({
      ok: false,
      message: "Credential should be scoped to correct service: 'execute-api'. ",
    });
  });

  it('refuses a presigned URL dated outside the skew window even within X-Amz-Expires', async () => {
    const req = await presigned({ signingDate: new Date(T0.getTime() + 16 * 60_000) });
    expect(verify(req)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: expect.stringMatching(/^Signature not yet current: 20261129T101600Z .* \+ 5 min\.\)$/),
    });
  });

  it('refuses a presigned credential whose scope date is not the X-Amz-Date date', async () => {
    const req = await presigned({});
    req.query = req.query.replace(/20261129%2Fus-east-1/, '20261128%2Fus-east-1');
    expect(verify(req)).toMatchObject({
      ok: false,
      message:
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261128' != '20261129', from '20261129T100000Z'.",
    });
  });
});

describe('the local AWS endpoint expects the service a request is routed to', () => {
  it('maps X-Amz-Target to the signing name: DynamoDB, KMS, else STS', () => {
    const of = (target?: string) => signingNameOf({ headers: target ? { 'x-amz-target': target } : {} });
    expect([of('DynamoDB_20120810.GetItem'), of('TrentService.Sign'), of(), of('Other.X')]).toEqual([
      'dynamodb',
      'kms',
      'sts',
      'sts',
    ]);
  });

  it('refuses a request signed for STS when it is routed to DynamoDB', async () => {
    const store = await openStore({ clock: new TestClock(T0) });
    const key = store.mintBaseSession('ci');
    const req = await signedRequest({
      key,
      body: '{}',
      signingDate: T0,
      service: 'sts',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' },
    });
    const verify = endpointVerifier({ region: 'us-east-1', lookup: (id) => store.lookupAccessKey(id) });
    expect(verify(req, T0)).toMatchObject({
      ok: false,
      message: "Credential should be scoped to correct service: 'dynamodb'. ",
    });
  });

  it('scopeProblems answers undefined for a right scope', () => {
    const signedAt = new Date('2026-01-01T23:59:59Z');
    expect(
      scopeProblems(
        { date: '20260101', region: 'us-east-1', service: 'sts', terminator: 'aws4_request' },
        { region: 'us-east-1', service: 'sts', signedAt },
      ),
    ).toBeUndefined();
  });
});
