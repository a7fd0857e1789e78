import { describe, expect, it } from 'vitest';
import { InvalidLambdaResponseError, mapResult } from '../../../../infra/local/gateway/result';

describe('payload 2.0 result mapping', () => {
  it('maps a structured response: status, lowercased headers, cookies, body', () => {
    const r = mapResult({
      statusCode: 201,
      headers: { 'Content-Type': 'application/problem+json', 'X-Count': 3 },
      cookies: ['a=1; Path=/', 'b=2'],
      body: '{"ok":true}',
    });

    expect(r.status).toBe(201);
    expect(r.headers).toEqual({
      'content-type': 'application/problem+json',
      'x-count': '3',
      'set-cookie': ['a=1; Path=/', 'b=2'],
    });
    expect(r.body.toString()).toBe('{"ok":true}');
  });

  it('decodes a base64 body', () => {
    const r = mapResult({
      statusCode: 200,
      body: Buffer.from([0, 1, 2]).toString('base64'),
      isBase64Encoded: true,
    });

    expect([...r.body]).toEqual([0, 1, 2]);
  });

  it('appends multiValueHeaders (a 1.0 field) to headers', () => {
    const r = mapResult({ statusCode: 200, headers: { vary: 'a' }, multiValueHeaders: { Vary: ['b', 'c'] } });

    expect(r.headers.vary).toBe('a,b,c');
  });

  it('turns an object without statusCode into 200 JSON of the whole object', () => {
    const r = mapResult({ status: 'ok' });

    expect(r).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"status":"ok"}'),
    });
  });

  it('turns a string result into 200 with the string as the body', () => {
    expect(mapResult('hello').body.toString()).toBe('hello');
    expect(mapResult('hello').status).toBe(200);
  });

  it('defaults content-type to application/json only when there is a body', () => {
    expect(mapResult({ statusCode: 204 }).headers['content-type']).toBeUndefined();
    expect(mapResult({ statusCode: 200, body: '{}' }).headers['content-type']).toBe('application/json');
  });

  it.each([
    [{ statusCode: '200' }],
    [{ statusCode: 99 }],
    [{ statusCode: 200, body: { not: 'a string' } }],
    [{ statusCode: 200, headers: { x: { nested: true } } }],
  ])('refuses a malformed response %j (the gateway answers 500)', (bad) => {
    expect(() => mapResult(bad)).toThrow(InvalidLambdaResponseError);
  });
});
