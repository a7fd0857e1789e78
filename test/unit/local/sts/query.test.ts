import { describe, expect, it } from 'vitest';
import { parseQueryRequest, scalarList, structList } from '../../../../infra/local/sts/query';
import type { RawRequest } from '../../../../infra/local/types';

function post(body: string, contentType = 'application/x-www-form-urlencoded; charset=utf-8'): RawRequest {
  return {
    method: 'POST',
    path: '/',
    query: '',
    headers: { 'content-type': contentType },
    body: Buffer.from(body),
    sourceIp: '127.0.0.1',
  };
}

describe('Query protocol parsing', () => {
  it('reads a botocore body (charset suffix, %20 encoding)', () => {
    const params = parseQueryRequest(post('Action=AssumeRole&Version=2011-06-15&RoleSessionName=a%20b%2Bc'));
    expect([params.get('Action'), params.get('RoleSessionName')]).toEqual(['AssumeRole', 'a b+c']);
  });

  it('reads a JS v3 body (no charset)', () => {
    const params = parseQueryRequest(
      post('Action=GetCallerIdentity&Version=2011-06-15', 'application/x-www-form-urlencoded'),
    );
    expect(params.get('Action')).toBe('GetCallerIdentity');
  });

  it('reads parameters from the query string of a GET', () => {
    const req: RawRequest = {
      ...post(''),
      method: 'GET',
      query: 'Action=GetCallerIdentity&Version=2011-06-15',
      headers: {},
    };
    expect(parseQueryRequest(req).get('Action')).toBe('GetCallerIdentity');
  });

  it('collects Tags.member.N.Key/Value in numeric order, not text order', () => {
    const body = [
      'Tags.member.10.Key=k10',
      'Tags.member.10.Value=v10',
      'Tags.member.2.Key=k2',
      'Tags.member.2.Value=v2',
      'Tags.member.1.Key=vend%3Acaller',
      'Tags.member.1.Value=',
    ].join('&');
    expect(structList(parseQueryRequest(post(body)), 'Tags')).toEqual([
      { Key: 'vend:caller', Value: '' },
      { Key: 'k2', Value: 'v2' },
      { Key: 'k10', Value: 'v10' },
    ]);
  });

  it('collects scalar lists and the lowercase PolicyArns.member.N.arn', () => {
    const params = parseQueryRequest(
      post(
        'TransitiveTagKeys.member.1=a&TransitiveTagKeys.member.2=b&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX',
      ),
    );
    expect(scalarList(params, 'TransitiveTagKeys')).toEqual(['a', 'b']);
    expect(structList(params, 'PolicyArns')).toEqual([{ arn: 'arn:aws:iam::aws:policy/X' }]);
  });

  it("reads botocore's empty list `Name=` as an empty list and an absent list as undefined", () => {
    const params = parseQueryRequest(post('Action=AssumeRole&Tags=&TransitiveTagKeys='));
    expect(structList(params, 'Tags')).toEqual([]);
    expect(scalarList(params, 'TransitiveTagKeys')).toEqual([]);
    expect(structList(params, 'PolicyArns')).toBeUndefined();
  });
});
