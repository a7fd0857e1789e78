/**
 * AWS Query protocol request parsing (fact sheet §2): parameters from a form-encoded POST body (with
 * or without `; charset=utf-8`) and from the query string, lists as `Name.member.N[.Field]`, and
 * botocore's empty list `Name=`.
 */
import type { RawRequest } from '../types';

export type QueryParams = Map<string, string>;

/** All parameters of a Query request: query string first, then the form body (body wins). */
export function parseQueryRequest(req: RawRequest): QueryParams {
  const params: QueryParams = new Map();
  const add = (text: string) => {
    for (const [k, v] of new URLSearchParams(text)) params.set(k, v);
  };
  add(req.query);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.body.length > 0 && (contentType === 'application/x-www-form-urlencoded' || contentType === '')) {
    add(req.body.toString('utf8'));
  }
  return params;
}

/** Indices `N` present under `prefix.member.N…`, ascending. */
function memberIndices(params: QueryParams, name: string): number[] {
  const re = new RegExp(`^${name.replace(/\./g, '\\.')}\\.member\\.(\\d+)(?:\\.|$)`);
  const seen = new Set<number>();
  for (const k of params.keys()) {
    const m = re.exec(k);
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * A list of scalars `Name.member.N`. Undefined when the list is absent; `[]` for botocore's empty
 * list (`Name=`).
 */
export function scalarList(params: QueryParams, name: string): string[] | undefined {
  const idx = memberIndices(params, name);
  if (idx.length === 0) return params.has(name) ? [] : undefined;
  return idx.map((i) => params.get(`${name}.member.${i}`) ?? '');
}

/** A list of structures `Name.member.N.Field`, each as a record of its fields. */
export function structList(params: QueryParams, name: string): Array<Record<string, string>> | undefined {
  const idx = memberIndices(params, name);
  if (idx.length === 0) return params.has(name) ? [] : undefined;
  return idx.map((i) => {
    const prefix = `${name}.member.${i}.`;
    const out: Record<string, string> = {};
    for (const [k, v] of params) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
    return out;
  });
}
