/**
 * Audit (auditors): the filters of `GET /v1/audit` (time range, caller, entitlement, decision,
 * request id, page size), newest first, paged with the server's cursor (a stack of cursors gives
 * "Previous"), and how far the trail is sealed (`sealedThrough`: records older than it are under a
 * signed digest; `vend audit verify` checks the chain).
 */
import { useState } from 'preact/hooks';
import type { AuditPage, AuditRecord } from '../api-types';
import { Empty, ErrorNote, Time } from '../components';
import type { PageProps } from '../context';
import { useLoad } from '../hooks';

const DECISIONS = [
  'intent',
  'issued',
  'denied',
  'requested',
  'approved-vote',
  'denied-vote',
  'approved',
  'cancelled',
  'expired',
  'break-glass',
  'review-signed-off',
  'revoked',
];

interface Filters {
  since: string;
  until: string;
  caller: string;
  entitlement: string;
  decision: string;
  requestId: string;
  limit: string;
}

const EMPTY: Filters = {
  since: '',
  until: '',
  caller: '',
  entitlement: '',
  decision: '',
  requestId: '',
  limit: '50',
};

/** `datetime-local` (the person's zone) → ISO 8601 UTC, or undefined when blank or invalid. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function details(r: AuditRecord): string {
  const parts: string[] = [];
  if (r.reasonCode) parts.push(r.reasonCode);
  if (r.reasonDetail) parts.push(r.reasonDetail);
  if (r.reason) parts.push(`reason: ${r.reason}`);
  if (r.ticket) parts.push(`ticket: ${r.ticket}`);
  if (r.comment) parts.push(`comment: ${r.comment}`);
  if (r.requestStatus) parts.push(`request ${r.requestStatus}`);
  if (r.accessKeyId) parts.push(`key ${r.accessKeyId}`);
  return parts.join(' · ');
}

export function AuditPageView({ api, me, config }: PageProps) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  // cursors[i] is the cursor that reads page i (page 0 has none).
  const [cursors, setCursors] = useState<string[]>(['']);
  const pageIndex = cursors.length - 1;
  const auditor = me.groups.includes(config.auditorsGroup);
  const view = useLoad(
    () =>
      api.get<AuditPage>('/v1/audit', {
        since: isoOf(applied.since),
        until: isoOf(applied.until),
        caller: applied.caller.trim() || undefined,
        entitlement: applied.entitlement.trim() || undefined,
        decision: applied.decision || undefined,
        requestId: applied.requestId.trim() || undefined,
        limit: applied.limit,
        cursor: cursors[pageIndex] || undefined,
      }),
    [applied, cursors],
  );
  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) =>
    setDraft({ ...draft, [k]: e.currentTarget.value });
  const search = (e: Event) => {
    e.preventDefault();
    setApplied({ ...draft });
    setCursors(['']);
  };
  const records = view.data?.records ?? [];
  const sealed = view.data?.sealedThrough;
  return (
    <>
      <h1>Audit</h1>
      {!auditor && (
        <p class="muted">The audit trail is for the auditors group; vend will refuse anyone else.</p>
      )}
      <form class="card filters" onSubmit={search} aria-label="Audit filters">
        <div class="field">
          <label for="f-since">Since</label>
          <input id="f-since" type="datetime-local" value={draft.since} onInput={set('since')} />
        </div>
        <div class="field">
          <label for="f-until">Until</label>
          <input id="f-until" type="datetime-local" value={draft.until} onInput={set('until')} />
        </div>
        <div class="field">
          <label for="f-caller">Caller id</label>
          <input id="f-caller" type="text" maxLength={512} value={draft.caller} onInput={set('caller')} />
        </div>
        <div class="field">
          <label for="f-entitlement">Entitlement</label>
          <input
            id="f-entitlement"
            type="text"
            maxLength={63}
            value={draft.entitlement}
            onInput={set('entitlement')}
          />
        </div>
        <div class="field">
          <label for="f-decision">Decision</label>
          <select id="f-decision" value={draft.decision} onChange={set('decision')}>
            <option value="">any</option>
            {DECISIONS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-request">Request id</label>
          <input
            id="f-request"
            type="text"
            maxLength={128}
            value={draft.requestId}
            onInput={set('requestId')}
          />
        </div>
        <div class="field">
          <label for="f-limit">Per page</label>
          <select id="f-limit" value={draft.limit} onChange={set('limit')}>
            {['25', '50', '100', '500'].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <button type="submit">Search</button>
        </div>
      </form>
      {view.data && (
        <p class="sealed" role="status">
          {sealed === null
            ? 'Sealed up to: nothing sealed yet.'
            : sealed
              ? 'Sealed up to: '
              : 'Sealed up to: not reported by this server.'}
          {sealed && <Time iso={sealed} />}
          {sealed && ' (records before it are under a signed digest; vend audit verify checks the chain).'}
        </p>
      )}
      <ErrorNote error={view.error} />
      {view.data && records.length === 0 && <Empty>No record matches.</Empty>}
      {records.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Audit records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Decision</th>
                <th scope="col">Caller</th>
                <th scope="col">Entitlement</th>
                <th scope="col">Audit id</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Time iso={r.time} />
                  </td>
                  <td>{r.decision}</td>
                  <td class="user-text" title={r.caller?.id}>
                    {r.caller?.label ?? r.caller?.id ?? '–'}
                  </td>
                  <td>{r.entitlement ?? '–'}</td>
                  <td>
                    <code>{r.auditId ?? ''}</code>
                  </td>
                  <td class="user-text">{details(r)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Audit pages">
        <button type="button" disabled={pageIndex === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {pageIndex + 1}</span>
        <button
          type="button"
          disabled={!view.data?.cursor}
          onClick={() => view.data?.cursor && setCursors([...cursors, view.data.cursor])}
        >
          Next page
        </button>
      </nav>
    </>
  );
}
