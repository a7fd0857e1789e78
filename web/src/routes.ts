/**
 * Hash routes (`#/requests?entitlement=prod-admin`): the server (the gateway locally, S3 behind
 * CloudFront in AWS) serves one `index.html` at `/` and needs no rewrite rules, and the OAuth
 * redirect URI stays exactly `<origin>/`. Nothing secret is ever put in a route. Pure: the hook
 * that follows the address bar is ./router.ts.
 */

export const PAGES = ['access', 'requests', 'approvals', 'sessions', 'reviews', 'audit'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  params: URLSearchParams;
}

/** @example parseRoute('#/requests?entitlement=prod-admin') // { page: 'requests', params: … } */
export function parseRoute(hash: string): Route {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(hash);
  const page = (PAGES as readonly string[]).includes(m?.[1] ?? '') ? (m![1] as Page) : 'access';
  return { page, params: new URLSearchParams(m?.[2] ?? '') };
}

/** A link target for a page (and optional parameters). */
export function href(page: Page, params?: Record<string, string>): string {
  const q = params ? new URLSearchParams(params).toString() : '';
  return `#/${page}${q ? `?${q}` : ''}`;
}
