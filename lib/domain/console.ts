/**
 * AWS console sign-in for a vended session (CONTRACT §4 `POST /v1/console`): the rules of the body
 * and of the sign-in URL. The session itself is vended exactly as for keys (the vend use case); this
 * module only says what the console adds.
 *
 * What AWS documents ("Enable custom identity broker access to the AWS console", IAM User Guide):
 * 1. `getSigninToken` takes the session as `{"sessionId","sessionKey","sessionToken"}`; it may take
 *    `SessionDuration` (900–43200 s) only for credentials that are NOT from role chaining. vend's
 *    broker is itself a role session, so every session it vends is chained: vend never sends
 *    `SessionDuration`, and the console session lasts as long as the credentials (AWS's rule when it
 *    is absent). `expiresAt` in the answer is therefore the credentials' expiry.
 * 2. The sign-in URL is `…/federation?Action=login&Issuer=…&Destination=…&SigninToken=…`, valid
 *    for 15 minutes and for one sign-in.
 * `Destination` defaults to the console home; a caller may name another page, but only on an AWS
 * console host over https (the same rule as the local federation endpoint), so vend never builds
 * a link that signs someone in and then sends them elsewhere.
 */
import { InvalidRequestError } from './errors';

/** Where the console opens unless the caller names a page. */
export const DEFAULT_CONSOLE_DESTINATION = 'https://console.aws.amazon.com/';

/** The longest `destination` accepted. */
export const DESTINATION_MAX_CHARS = 2048;

// console.aws.amazon.com and its subdomains (us-east-1.console…, eu-west-1.console…), and the
// China and GovCloud consoles.
const CONSOLE_HOST = /^(?:[a-z0-9-]+\.)*console\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)$/;

/**
 * A console page the caller may be sent to: an https URL on an AWS console host, without
 * credentials in it, at most 2,048 characters. Absent means the console home.
 *
 * @throws InvalidRequestError anything else
 * @example
 * ```ts
 * consoleDestination(undefined); // 'https://console.aws.amazon.com/'
 * consoleDestination('https://us-east-1.console.aws.amazon.com/s3/home'); // as given
 * consoleDestination('https://evil.example/'); // throws
 * ```
 */
export function consoleDestination(value: unknown): string {
  if (value === undefined) return DEFAULT_CONSOLE_DESTINATION;
  const refuse = (): never => {
    throw new InvalidRequestError(
      'destination must be an https URL of the AWS console (console.aws.amazon.com or one of its regional hosts)',
    );
  };
  if (typeof value !== 'string' || value.length > DESTINATION_MAX_CHARS) return refuse();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse();
  }
  if (url.protocol !== 'https:' || !CONSOLE_HOST.test(url.hostname)) return refuse();
  if (url.username !== '' || url.password !== '' || url.port !== '') return refuse();
  return url.toString();
}

/**
 * Splits a console body into the vend body (what the vend use case validates, as for keys) and the
 * console's own field, `destination`.
 *
 * @throws InvalidRequestError a destination that is not a console page
 * @example `splitConsoleBody({ entitlement: 'prod-readonly', destination: 'https://console.aws.amazon.com/s3/' })`
 */
export function splitConsoleBody(body: unknown): { vendBody: unknown; destination: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { vendBody: body, destination: DEFAULT_CONSOLE_DESTINATION };
  }
  const { destination, ...rest } = body as Record<string, unknown>;
  return { vendBody: rest, destination: consoleDestination(destination) };
}

/**
 * The console sign-in URL.
 * @example
 * ```ts
 * loginUrl({ federationUrl: 'https://signin.aws.amazon.com/federation', issuer: 'https://vend.example.com',
 *   destination: 'https://console.aws.amazon.com/', signinToken: 'tok' });
 * // 'https://signin.aws.amazon.com/federation?Action=login&Issuer=https%3A%2F%2Fvend.example.com&Destination=…&SigninToken=tok'
 * ```
 */
export function loginUrl(input: {
  federationUrl: string;
  issuer?: string;
  destination: string;
  signinToken: string;
}): string {
  const url = new URL(input.federationUrl);
  const params = new URLSearchParams({ Action: 'login' });
  if (input.issuer) params.set('Issuer', input.issuer);
  params.set('Destination', input.destination);
  params.set('SigninToken', input.signinToken);
  url.search = params.toString();
  return url.toString();
}
