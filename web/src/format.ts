/**
 * Pure formatting for the pages: times, durations, vote counts, and the two things people copy
 * out of the keys panel (shell exports and a `credential_process` profile). Strings in, strings
 * out; everything is rendered as text by Preact, never as markup.
 */
import type { AccessRequest, Credentials } from './api-types';

/** POSIX single-quoting (as the CLI's `--format env` does): nothing inside stays special. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `export` lines of `vend credentials --format env`, so both tools paste the same way. */
export function envExports(c: Credentials): string {
  return [
    'unset AWS_PROFILE',
    `export AWS_ACCESS_KEY_ID=${shellQuote(c.AccessKeyId)}`,
    `export AWS_SECRET_ACCESS_KEY=${shellQuote(c.SecretAccessKey)}`,
    `export AWS_SESSION_TOKEN=${shellQuote(c.SessionToken)}`,
    `export AWS_CREDENTIAL_EXPIRATION=${shellQuote(c.Expiration)}`,
  ].join('\n');
}

/**
 * An AWS profile whose `credential_process` runs the vend CLI, which vends fresh keys each time
 * they run out (docs/cli.md): the lasting way to use an entitlement from a terminal. It holds no
 * secret.
 *
 * @example credentialProcessProfile('prod-readonly', 'https://vend.example.com', 3600)
 */
export function credentialProcessProfile(
  entitlement: string,
  vendUrl: string,
  durationSeconds: number,
): string {
  return [
    `[profile vend-${entitlement}]`,
    `credential_process = vend credential-process ${entitlement} --url ${vendUrl} --duration ${durationSeconds}`,
  ].join('\n');
}

/** 900 → `15 min`, 3600 → `1 h`, 5400 → `1 h 30 min`. */
export function humanDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  if (h && m) return `${h} h ${m} min`;
  if (h) return `${h} h`;
  return `${m} min`;
}

/** The durations offered for an entitlement: 15 min steps up to its maximum (and never past 1 h). */
export function durationChoices(maxSeconds: number): number[] {
  const max = Math.min(maxSeconds, 3600);
  const out = [900, 1800, 2700, 3600].filter((d) => d <= max);
  return out.length > 0 ? out : [900];
}

/** A time as people read it here: `2026-11-29 10:15:00` in their own zone (and UTC on hover). */
export function localTime(iso: string | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `in 14 min`, `3 min ago`. */
export function relative(iso: string | undefined, now: number): string {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const minutes = Math.round((t - now) / 60_000);
  if (minutes === 0) return 'now';
  return minutes > 0 ? `in ${minutes} min` : `${-minutes} min ago`;
}

/** Approvals so far against the number needed: `1 of 2 approvals`. */
export function votesSummary(r: Pick<AccessRequest, 'votes' | 'approvalsRequired'>): string {
  const yes = r.votes.filter((v) => v.decision === 'approve').length;
  return `${yes} of ${r.approvalsRequired} approval${r.approvalsRequired === 1 ? '' : 's'}`;
}

/** Whether an approved request's grant window is still open at `now`. */
export function grantOpen(r: AccessRequest, now: number): boolean {
  return r.status === 'approved' && !!r.grantEnd && new Date(r.grantEnd).getTime() > now;
}

/** The readable end of a person id (`<issuer>#<subject>` → `<subject>`). */
export function shortPersonId(id: string | undefined): string {
  if (!id) return '–';
  const hash = id.lastIndexOf('#');
  return hash >= 0 ? id.slice(hash + 1) : id;
}

/**
 * Whether a URL the API answered may be opened: https, or http on a loopback host (the local
 * stack). Anything else (`javascript:`, `data:`) is refused, whatever the server said.
 */
export function safeToOpen(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:') return true;
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}
