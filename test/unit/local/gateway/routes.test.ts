import { describe, expect, it } from 'vitest';
import { compileRoutes, matchRoute } from '../../../../infra/local/gateway/routes';
import type { RouteDef } from '../../../../infra/local/gateway/serverless';

const route = (routeKey: string): RouteDef => {
  if (routeKey === '$default')
    return { routeKey, method: 'ANY', functionKey: 'fallback', auth: { type: 'none' } };
  const [method, path] = routeKey.split(' ') as [string, string];
  return { routeKey, method, path, functionKey: routeKey, auth: { type: 'none' } };
};
const table = (...keys: string[]) => compileRoutes(keys.map(route));

describe('HTTP API route matching', () => {
  it('prefers a literal segment over a {param}', () => {
    const routes = table('GET /v1/requests/{id}', 'GET /v1/requests/mine');

    expect(matchRoute(routes, 'GET', '/v1/requests/mine')?.route.routeKey).toBe('GET /v1/requests/mine');
    expect(matchRoute(routes, 'GET', '/v1/requests/r-1')).toEqual({
      route: expect.objectContaining({ routeKey: 'GET /v1/requests/{id}' }),
      pathParameters: { id: 'r-1' },
    });
  });

  it('prefers a {param} over {proxy+}, and the exact method over ANY', () => {
    const routes = table(
      'ANY /v1/{proxy+}',
      'POST /v1/requests/{id}/approve',
      'ANY /v1/requests/{id}/approve',
    );

    expect(matchRoute(routes, 'POST', '/v1/requests/r-9/approve')?.route.routeKey).toBe(
      'POST /v1/requests/{id}/approve',
    );
    expect(matchRoute(routes, 'DELETE', '/v1/requests/r-9/approve')?.route.routeKey).toBe(
      'ANY /v1/requests/{id}/approve',
    );
    expect(matchRoute(routes, 'GET', '/v1/a/b/c')?.pathParameters).toEqual({ proxy: 'a/b/c' });
  });

  it('decodes path parameters and keeps matching case-sensitive', () => {
    const routes = table('GET /v1/requests/{id}');

    expect(matchRoute(routes, 'GET', '/v1/requests/a%20b')?.pathParameters).toEqual({ id: 'a b' });
    expect(matchRoute(routes, 'GET', '/V1/requests/x')).toBeUndefined();
  });

  it('does not match a wrong method, a missing segment, an extra segment or a trailing slash', () => {
    const routes = table('GET /v1/health', 'GET /v1/requests/{id}');

    expect(matchRoute(routes, 'POST', '/v1/health')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/v1/requests/')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/v1/requests/a/b')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/v1/health/')).toBeUndefined();
  });

  it('sends what nothing else matched to $default', () => {
    const routes = table('GET /v1/health', '$default');

    expect(matchRoute(routes, 'PUT', '/anything')?.route.routeKey).toBe('$default');
    expect(matchRoute(routes, 'GET', '/v1/health')?.route.routeKey).toBe('GET /v1/health');
  });

  it('needs at least one segment for {proxy+}', () => {
    const routes = table('ANY /files/{proxy+}');

    expect(matchRoute(routes, 'GET', '/files/')).toBeUndefined();
    expect(matchRoute(routes, 'GET', '/files')).toBeUndefined();
  });
});
