/**
 * Route matching as API Gateway HTTP APIs do it: the most specific route wins. Segments compare left
 * to right (a literal beats `{param}`, which beats `{proxy+}`), then a route for the exact method
 * beats `ANY`, and `$default` catches whatever nothing else matched. Matching is case-sensitive and
 * a trailing slash is part of the path.
 */
import type { RouteDef } from './serverless';

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

/** A route prepared for matching. */
export interface CompiledRoute {
  route: RouteDef;
  segments: Segment[];
}

/** A match: the route and its decoded path parameters. */
export interface RouteMatch {
  route: RouteDef;
  pathParameters: Record<string, string>;
}

function compile(route: RouteDef): CompiledRoute {
  const parts = (route.path ?? '').split('/').slice(1);
  const segments = parts.map((p, i): Segment => {
    const greedy = /^\{([\w.-]+)\+\}$/.exec(p);
    if (greedy) {
      if (i !== parts.length - 1)
        throw new Error(`route ${route.routeKey}: {${greedy[1]}+} must be the last segment`);
      return { kind: 'greedy', name: greedy[1]! };
    }
    const param = /^\{([\w.-]+)\}$/.exec(p);
    return param ? { kind: 'param', name: param[1]! } : { kind: 'literal', value: p };
  });
  return { route, segments };
}

/** Prepares routes for {@link matchRoute}. */
export function compileRoutes(routes: RouteDef[]): CompiledRoute[] {
  return routes.map(compile);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Rank of one matched route: lower is more specific, compared element by element. */
function rank(c: CompiledRoute): number[] {
  const weights = c.segments.map((s) => (s.kind === 'literal' ? 0 : s.kind === 'param' ? 1 : 2));
  return [...weights, 3, c.route.method === 'ANY' ? 1 : 0];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function matchSegments(c: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < c.segments.length; i++) {
    const seg = c.segments[i]!;
    if (seg.kind === 'greedy') {
      const rest = parts.slice(i);
      // {proxy+} needs at least one non-empty segment, as API Gateway's does.
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      params[seg.name] = decode(rest.join('/'));
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.kind === 'literal') {
      if (seg.value !== part) return undefined;
    } else {
      if (part === '') return undefined;
      params[seg.name] = decode(part);
    }
  }
  return parts.length === c.segments.length ? params : undefined;
}

/**
 * Finds the route for a request, or undefined (the gateway answers 404 Not Found).
 *
 * @example matchRoute(compileRoutes(routes), 'GET', '/v1/requests/r-1')?.pathParameters // { id: 'r-1' }
 */
export function matchRoute(routes: CompiledRoute[], method: string, path: string): RouteMatch | undefined {
  const parts = path.split('/').slice(1);
  const upper = method.toUpperCase();
  let best: { c: CompiledRoute; params: Record<string, string>; rank: number[] } | undefined;
  for (const c of routes) {
    if (c.route.routeKey === '$default') continue;
    if (c.route.method !== 'ANY' && c.route.method !== upper) continue;
    const params = matchSegments(c, parts);
    if (!params) continue;
    const r = rank(c);
    if (!best || compareRanks(r, best.rank) < 0) best = { c, params, rank: r };
  }
  if (best) return { route: best.c.route, pathParameters: best.params };
  const fallback = routes.find((c) => c.route.routeKey === '$default');
  return fallback ? { route: fallback.route, pathParameters: {} } : undefined;
}
