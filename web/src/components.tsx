/**
 * Pieces the pages share. Every value from the API or a person (reasons, tickets, comments,
 * descriptions, ids) is a JSX text child or an attribute value, which Preact sets as text: the app
 * never builds markup from strings (and the CSP's Trusted Types rule would refuse it if it tried).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, SignedOutError } from './api';
import type { ConsoleResponse, VendResponse } from './api-types';
import {
  credentialProcessProfile,
  durationChoices,
  envExports,
  humanDuration,
  localTime,
  safeToOpen,
} from './format';
import { useNow } from './hooks';

/** An error as one sentence: the API's `detail` and `code` (never a stack or a token). */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const code = error.code ? ` (${error.code})` : '';
    return `${error.message}${code}`;
  }
  if (error instanceof SignedOutError) return error.message;
  return 'something went wrong; try again';
}

export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined || error instanceof SignedOutError) return null;
  return (
    <p class="error" role="alert">
      {describeError(error)}
    </p>
  );
}

export function Time({ iso }: { iso: string | undefined }) {
  if (!iso) return <span>–</span>;
  return (
    <time dateTime={iso} title={iso}>
      {localTime(iso)}
    </time>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${/^[a-z-]+$/.test(status) ? status : 'other'}`}>{status}</span>;
}

export function DurationSelect(props: {
  id: string;
  max: number;
  value: number;
  onChange: (seconds: number) => void;
  label?: string;
}) {
  return (
    <label class="inline" for={props.id}>
      {props.label ?? 'Duration'}{' '}
      <select
        id={props.id}
        value={String(props.value)}
        onChange={(e) => props.onChange(Number(e.currentTarget.value))}
      >
        {durationChoices(props.max).map((d) => (
          <option key={d} value={String(d)}>
            {humanDuration(d)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Copies `text`; says so (or says it could not) in a live region. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [said, setSaid] = useState('');
  return (
    <span>
      <button
        type="button"
        onClick={() =>
          navigator.clipboard.writeText(text).then(
            () => setSaid('Copied'),
            () => setSaid('Copy failed: select the text and copy it'),
          )
        }
      >
        {label}
      </button>{' '}
      <span class="muted" role="status">
        {said}
      </span>
    </span>
  );
}

/**
 * Keys, shown once: they live in the state of the page that asked for them and nowhere else, so
 * they are gone when the person leaves the page, hides them, or they expire.
 */
export function KeysPanel({ vend, onClose }: { vend: VendResponse; onClose: () => void }) {
  const now = useNow(5_000);
  const expires = new Date(vend.credentials.Expiration).getTime();
  useEffect(() => {
    if (now >= expires) onClose();
  }, [now, expires, onClose]);
  const exports = envExports(vend.credentials);
  const profile = credentialProcessProfile(vend.entitlement, window.location.origin, vend.durationSeconds);
  return (
    <section class="keys" aria-label={`Keys for ${vend.entitlement}`}>
      <h3>Keys for {vend.entitlement}</h3>
      <p>
        Shown once: copy them now. They disappear when you leave this page, and expire at{' '}
        <Time iso={vend.credentials.Expiration} /> ({humanDuration(vend.durationSeconds)}). Session{' '}
        <code>{vend.assumedRoleArn}</code>, audit id <code>{vend.auditId}</code>.
      </p>
      <h4>Shell exports</h4>
      <pre class="secret">{exports}</pre>
      <CopyButton text={exports} label="Copy exports" />
      <h4>AWS profile (credential_process)</h4>
      <p class="muted">
        For lasting use: the vend CLI vends fresh keys whenever these run out. This profile holds no secret.
      </p>
      <pre>{profile}</pre>
      <CopyButton text={profile} label="Copy profile" />
      <p>
        <button type="button" onClick={onClose}>
          Hide keys
        </button>
      </p>
    </section>
  );
}

/**
 * Opens an AWS console sign-in URL in a new tab. The tab is opened at the click (so no pop-up
 * blocker stops it) and pointed at the URL once the API answers; it has no `opener`, and the URL
 * is never shown, stored or put in this app's address bar. The URL carries AWS's one-time sign-in
 * token: that is how AWS federation works, and it is the only secret that ever travels in a URL.
 */
export async function openConsole(fetchUrl: () => Promise<ConsoleResponse>): Promise<ConsoleResponse> {
  const tab = window.open('about:blank', '_blank');
  if (tab) tab.opener = null;
  try {
    const answer = await fetchUrl();
    if (!safeToOpen(answer.url))
      throw new ApiError({ status: 502, detail: 'the console URL is not one to open' });
    if (!tab)
      throw new ApiError({ status: 0, detail: 'the browser blocked the new tab: allow pop-ups for vend' });
    tab.location.replace(answer.url);
    return answer;
  } catch (error) {
    tab?.close();
    throw error;
  }
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
