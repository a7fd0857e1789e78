import { describe, expect, it } from 'vitest';
import {
  buildEvent,
  clfTime,
  type EventInput,
  isTextContentType,
} from '../../../../infra/local/gateway/event';

const NOW = new Date('2026-03-12T19:03:58.123Z');

const input = (over: Partial<EventInput> = {}): EventInput => ({
  method: 'post',
  path: '/v1/requests/r-1/approve',
  query: '',
  headers: { host: '127.0.0.1:4000', 'user-agent': 'curl/8', 'content-type': 'application/json' },
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  port: 4000,
  routeKey: 'POST /v1/requests/{id}/approve',
  pathParameters: { id: 'r-1' },
  apiId: 'abcdefghij',
  accountId: '222233334444',
  requestId: 'JKJaXmPLvHcESHA=',
  now: NOW,
  ...over,
});

describe('payload 2.0 event', () => {
  it('has the request context API Gateway sends', () => {
    const e = buildEvent(input());

    expect(e.version).toBe('2.0');
    expect(e.routeKey).toBe('POST /v1/requests/{id}/approve');
    expect(e.rawPath).toBe('/v1/requests/r-1/approve');
    expect(e.pathParameters).toEqual({ id: 'r-1' });
    expect(e.requestContext).toEqual({
      accountId: '222233334444',
      apiId: 'abcdefghij',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: {
        method: 'POST',
        path: '/v1/requests/r-1/approve',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'curl/8',
      },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: 'POST /v1/requests/{id}/approve',
      stage: '$default',
      time: '12/Mar/2026:19:03:58 +0000',
      timeEpoch: NOW.getTime(),
    });
  });

  it('leaves out body, query parameters, path parameters and cookies when there are none', () => {
    const e = buildEvent(input({ pathParameters: {} }));

    expect(e).not.toHaveProperty('body');
    expect(e).not.toHaveProperty('queryStringParameters');
    expect(e).not.toHaveProperty('pathParameters');
    expect(e).not.toHaveProperty('cookies');
    expect(e.rawQueryString).toBe('');
    expect(e.isBase64Encoded).toBe(false);
  });

  it('joins repeated query parameters with commas and keeps the raw string', () => {
    const e = buildEvent(input({ query: 'status=pending&status=approved&mine=true' }));

    expect(e.rawQueryString).toBe('status=pending&status=approved&mine=true');
    expect(e.queryStringParameters).toEqual({ status: 'pending,approved', mine: 'true' });
  });

  it('moves the cookie header into cookies and adds the forwarding headers', () => {
    const e = buildEvent(input({ headers: { host: 'h', cookie: 'a=1; b=2', 'x-custom': 'x,y' } }));

    expect(e.cookies).toEqual(['a=1', 'b=2']);
    expect(e.headers).not.toHaveProperty('cookie');
    expect(e.headers['x-custom']).toBe('x,y');
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(e.headers['x-forwarded-proto']).toBe('http');
    expect(e.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  it('passes a JSON body as text', () => {
    const e = buildEvent(input({ body: Buffer.from('{"comment":"ok"}') }));

    expect(e.body).toBe('{"comment":"ok"}');
    expect(e.isBase64Encoded).toBe(false);
  });

  it('base64-encodes a form body (Slack) and a body without content type', () => {
    const form = buildEvent(
      input({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from('a=1&b=2'),
      }),
    );
    const untyped = buildEvent(input({ headers: {}, body: Buffer.from('raw') }));

    expect(form.isBase64Encoded).toBe(true);
    expect(Buffer.from(form.body!, 'base64').toString()).toBe('a=1&b=2');
    expect(untyped.isBase64Encoded).toBe(true);
  });

  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['application/problem+json', true],
    ['text/plain', true],
    ['application/xml', true],
    ['application/x-www-form-urlencoded', false],
    ['application/octet-stream', false],
    ['multipart/form-data; boundary=x', false],
  ])('treats %s as text: %s', (type, text) => {
    expect(isTextContentType(type)).toBe(text);
  });

  it('formats requestContext.time as API Gateway does', () => {
    expect(clfTime(new Date('2026-01-05T03:04:05Z'))).toBe('05/Jan/2026:03:04:05 +0000');
  });

  it('carries the authorizer block it is given', () => {
    const e = buildEvent(input({ authorizer: { jwt: { claims: { sub: 's' }, scopes: null } } }));

    expect(e.requestContext.authorizer).toEqual({ jwt: { claims: { sub: 's' }, scopes: null } });
  });
});
