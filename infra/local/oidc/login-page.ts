/**
 * The local issuer's pages: the login form of the authorization-code flow and its error page.
 *
 * The login form is what a browser test (and a person trying `npm start`) fills in: one text input
 * named `login` (a demo person's name; there are no passwords on the local stack) and a submit
 * button. The pages are built to the same bar as the web console: every interpolated string is
 * HTML-escaped, there is no script at all and no inline style (the CSP forbids both), the input has a
 * <label>, the content is in a <main>, the document has a `lang`. `form-action` names the client's
 * redirect origin as well as 'self', because Chromium applies `form-action` to the redirect that
 * follows the form post.
 */
import type { RawResponse } from '../types';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** The stylesheet, served at `<issuer>/login.css` (CSP `style-src 'self'`). */
export const LOGIN_CSS = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: flex; justify-content: center; }
main { max-width: 28rem; width: 100%; padding: 3rem 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
form { display: grid; gap: 0.5rem; margin: 1.5rem 0; }
label { font-weight: 600; }
input { font: inherit; padding: 0.5rem; border: 1px solid #666; border-radius: 4px; }
input:focus-visible, button:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
button { font: inherit; padding: 0.6rem; border: 0; border-radius: 4px; background: #1a5fb4; color: #fff; cursor: pointer; }
.error { color: #b00020; font-weight: 600; margin: 0; }
@media (prefers-color-scheme: dark) { .error { color: #ff8a80; } }
code { font-size: 0.95em; }
`;

/**
 * Security headers of every page: no script, styles only from the issuer, forms only to the
 * issuer and the client's redirect origin, never framed, never cached, no Referer (the URL holds
 * the authorization request).
 */
export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    `form-action ${["'self'", ...formTargets].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

function layout(issuerPath: string, title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${escapeHtml(issuerPath)}/login.css">
</head>
<body>
<main>
${main}
</main>
</body>
</html>
`;
}

/** What the login form shows. */
export interface LoginPageInput {
  /** The issuer's path (`/oidc`): the form posts to `<path>/login`, the stylesheet is `<path>/login.css`. */
  issuerPath: string;
  /** The pending authorization's handle (hidden field). */
  transaction: string;
  clientId: string;
  /** The origin the person is signing in to (shown so they can tell where they are going). */
  clientOrigin: string;
  /** The demo people's login names, listed as a hint. */
  people: readonly string[];
  /** What was typed, to show again after an error. */
  login?: string;
  /** An error to show above the form. */
  error?: string;
  status?: number;
}

/**
 * The login form.
 *
 * @example loginPage({ issuerPath: '/oidc', transaction: 't', clientId: 'vend-web', clientOrigin: 'http://127.0.0.1:4000', people: ['alice'] })
 */
export function loginPage(p: LoginPageInput): RawResponse {
  const error = p.error ? `<p class="error" id="login-error" role="alert">${escapeHtml(p.error)}</p>\n` : '';
  const described = p.error ? ' aria-invalid="true" aria-describedby="login-error"' : '';
  const main = `<h1>Sign in to vend</h1>
<p>The local identity provider of the vend stack. You are signing in to <strong>${escapeHtml(p.clientId)}</strong> at <code>${escapeHtml(p.clientOrigin)}</code>.</p>
<form method="post" action="${escapeHtml(p.issuerPath)}/login">
<input type="hidden" name="txn" value="${escapeHtml(p.transaction)}">
${error}<label for="login">Your name</label>
<input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(p.login ?? '')}"${described}>
<button type="submit">Sign in</button>
</form>
<p>Demo people: ${p.people.map((n) => `<code>${escapeHtml(n)}</code>`).join(', ')}. There are no passwords on the local stack.</p>`;
  return {
    status: p.status ?? 200,
    headers: pageHeaders([p.clientOrigin]),
    body: layout(p.issuerPath, 'Sign in · vend local issuer', main),
  };
}

/**
 * An error page for a request the issuer must not redirect (unknown client, unregistered
 * redirect URI: RFC 6749 §4.1.2.1), or a login form that has expired.
 */
export function errorPage(issuerPath: string, status: number, title: string, detail: string): RawResponse {
  const main = `<h1>${escapeHtml(title)}</h1>
<p class="error" role="alert">${escapeHtml(detail)}</p>
<p>Go back to the application and sign in again.</p>`;
  return { status, headers: pageHeaders(), body: layout(issuerPath, `${title} · vend local issuer`, main) };
}
