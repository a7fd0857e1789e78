/**
 * How credentials and listings are printed: `--format json|env|credential-process`, and the human
 * tables. Pure: strings in, strings out.
 */
import type { Credentials, VendResponse } from './types';

/** The output formats of `vend credentials`. */
export const CREDENTIAL_FORMATS = ['json', 'env', 'credential-process'] as const;
export type CredentialFormat = (typeof CREDENTIAL_FORMATS)[number];

/**
 * Quotes a value for POSIX shells: single quotes, each `'` written as `'\''`. Nothing inside single
 * quotes is special, so `$`, backticks, spaces and newlines stay literal.
 *
 * @example shellQuote("it's $HOME") // 'it'\''s $HOME'
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * `export` lines for `eval "$(vend credentials … --format env)"`.
 *
 * `AWS_PROFILE` is unset: the SDK for JavaScript v3 skips environment credentials whenever
 * AWS_PROFILE is set, and a profile left behind would quietly win over the vended keys.
 * `AWS_CREDENTIAL_EXPIRATION` is read by the SDKs that support it and ignored by the rest.
 *
 * @example envExports(creds) // "export AWS_ACCESS_KEY_ID='ASIA…'\n…"
 */
export function envExports(c: Credentials): string {
  return [
    'unset AWS_PROFILE',
    `export AWS_ACCESS_KEY_ID=${shellQuote(c.AccessKeyId)}`,
    `export AWS_SECRET_ACCESS_KEY=${shellQuote(c.SecretAccessKey)}`,
    `export AWS_SESSION_TOKEN=${shellQuote(c.SessionToken)}`,
    `export AWS_CREDENTIAL_EXPIRATION=${shellQuote(c.Expiration)}`,
    '',
  ].join('\n');
}

/** The `credential_process` output (Version 1), as the AWS CLI and SDKs read it. */
export interface CredentialProcessOutput {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** @example credentialProcessOutput(creds).Version // 1 */
export function credentialProcessOutput(c: Credentials): CredentialProcessOutput {
  return {
    Version: 1,
    AccessKeyId: c.AccessKeyId,
    SecretAccessKey: c.SecretAccessKey,
    SessionToken: c.SessionToken,
    Expiration: c.Expiration,
  };
}

/** The text `vend credentials` prints for a format (with a trailing newline). */
export function formatCredentials(body: VendResponse, format: CredentialFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(body, null, 2)}\n`;
    case 'env':
      return envExports(body.credentials);
    case 'credential-process':
      return `${JSON.stringify(credentialProcessOutput(body.credentials))}\n`;
  }
}

/**
 * A plain text table: a header row and left-aligned columns two spaces apart. Cells are made
 * single-line so a hostile value cannot forge rows.
 *
 * @example table(['ID', 'STATUS'], [['r1', 'pending']])
 */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const clean = (v: string | number | undefined): string =>
    v === undefined ? '-' : String(v).replace(/\p{Cc}+/gu, ' ');
  const all = [headers, ...rows.map((r) => headers.map((_, i) => clean(r[i])))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return `${all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** Seconds as people read them: 900 → `15m`, 3600 → `1h`, 5400 → `1h30m`, 61 → `61s`. */
export function humanDuration(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds}s`;
  const h = Math.floor(seconds / 3600);
  const m = (seconds % 3600) / 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}` || '0s';
}
