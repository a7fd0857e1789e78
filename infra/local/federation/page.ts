/**
 * The local console page: what the AWS console would be for a federated sign-in, reduced to the
 * facts a test or a person checks: which assumed-role session this is, whose (SourceIdentity), and
 * until when. Everything shown is HTML-escaped, and the page is served under a Content Security
 * Policy that allows no script at all and only its own stylesheet (by hash), so a hostile session
 * name, tag or Issuer can never run in the browser. No credential of the session is ever on it.
 */
import { createHash } from 'node:crypto';
import type { RawResponse } from '../types';

export function htmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:2rem;max-width:48rem;color:#16191f}' +
  'h1{font-size:1.4rem}dt{font-weight:600;margin-top:.8rem}dd{margin:0;font-family:monospace;word-break:break-all}' +
  '.note{color:#5f6b7a;margin-top:2rem}.bad{color:#d13212}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** The headers of every page: no script, no frames, no referrer, no caching, no sniffing. */
export function pageHeaders(now: Date): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    date: now.toUTCString(),
  };
}

function page(title: string, body: string): string {
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<title>${htmlEscape(title)}</title><style>${STYLE}</style></head>\n<body>${body}</body></html>\n`
  );
}

export interface ConsoleView {
  assumedRoleArn: string;
  account: string;
  sourceIdentity?: string;
  sessionTags: Record<string, string>;
  /** When the console session ends (ISO 8601). */
  expiresAt: string;
  destination: string;
  issuer?: string;
}

/** The signed-in page (200). */
export function consolePage(view: ConsoleView, now: Date): RawResponse {
  const row = (term: string, value: string, id: string) =>
    `<dt>${htmlEscape(term)}</dt><dd id="${id}">${htmlEscape(value)}</dd>`;
  const tags = Object.entries(view.sessionTags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  // Only an http(s) Issuer becomes a link; anything else is shown as text.
  const issuer =
    view.issuer === undefined
      ? ''
      : /^https?:\/\//i.test(view.issuer)
        ? `<p>Signed in through <a href="${htmlEscape(view.issuer)}">${htmlEscape(view.issuer)}</a>.</p>`
        : `<p>Signed in through ${htmlEscape(view.issuer)}.</p>`;
  const body =
    '<h1>Local AWS console</h1>\n' +
    `<p>Signed in as <strong id="assumed-role-arn">${htmlEscape(view.assumedRoleArn)}</strong>.</p>\n<dl>` +
    row('Account', view.account, 'account') +
    row('Source identity', view.sourceIdentity ?? '(none)', 'source-identity') +
    row('Session expires', view.expiresAt, 'expires-at') +
    row('Session tags', tags || '(none)', 'session-tags') +
    row('Destination', view.destination, 'destination') +
    `</dl>\n${issuer}` +
    '<p class="note">This is the local stack\'s stand-in for the AWS Management Console ' +
    '(docs/local-aws.md). The real console would now open the destination above.</p>\n';
  return { status: 200, headers: pageHeaders(now), body: page('Local AWS console', body) };
}

/** A refusal page (expired, revoked, unknown) with its status. */
export function refusalPage(status: number, title: string, message: string, now: Date): RawResponse {
  const body = `<h1 class="bad">${htmlEscape(title)}</h1>\n<p>${htmlEscape(message)}</p>\n`;
  return { status, headers: pageHeaders(now), body: page(title, body) };
}
