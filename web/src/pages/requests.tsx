/**
 * Requests: ask for gated access (`POST /v1/requests`), break-glass where the person may, follow
 * one's own requests as approvers vote (`GET /v1/requests?mine=true`, polled), cancel a pending one,
 * and use an approved grant (`POST /v1/requests/{id}/credentials` and `…/console`).
 */
import { useState } from 'preact/hooks';
import { path } from '../api';
import type { AccessRequest, ConsoleResponse, Entitlement, VendResponse } from '../api-types';
import { DurationSelect, Empty, ErrorNote, KeysPanel, openConsole, StatusBadge, Time } from '../components';
import type { PageProps } from '../context';
import { grantOpen, humanDuration, relative, votesSummary } from '../format';
import { useLoad, useNow } from '../hooks';

/** How often the list is read again while the page is open. */
export const REQUESTS_POLL_MS = 2_000;

function NewRequest({
  api,
  entitlements,
  initial,
  created,
}: {
  api: PageProps['api'];
  entitlements: Entitlement[];
  initial: string | null;
  created: (r: AccessRequest) => void;
}) {
  const askable = entitlements.filter((e) => e.access.request || e.access.breakGlass);
  const [entId, setEntId] = useState(askable.find((e) => e.id === initial)?.id ?? askable[0]?.id ?? '');
  const ent = askable.find((e) => e.id === entId);
  const [duration, setDuration] = useState(3600);
  const [reason, setReason] = useState('');
  const [ticket, setTicket] = useState('');
  const [breakGlass, setBreakGlass] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (askable.length === 0)
    return <Empty>Nothing you may request: every entitlement you have works without approval.</Empty>;
  const bgAllowed = !!ent?.access.breakGlass;
  const bgOn = bgAllowed && (breakGlass || !ent?.access.request);
  const max = Math.min(
    bgOn ? (ent?.breakGlass?.maxDurationSeconds ?? 3600) : (ent?.maxDurationSeconds ?? 3600),
    3600,
  );

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await api.post<AccessRequest>('/v1/requests', {
        entitlement: entId,
        durationSeconds: Math.min(duration, max),
        reason,
        ...(ticket.trim() ? { ticket: ticket.trim() } : {}),
        ...(bgOn ? { breakGlass: true } : {}),
      });
      setReason('');
      setTicket('');
      setBreakGlass(false);
      created(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="new-request">
      <h2 id="new-request">New request</h2>
      <div class="field">
        <label for="req-entitlement">Entitlement</label>
        <select id="req-entitlement" value={entId} onChange={(e) => setEntId(e.currentTarget.value)}>
          {askable.map((e) => (
            <option key={e.id} value={e.id}>
              {e.id}
            </option>
          ))}
        </select>
        {ent?.approval && ent.access.request && (
          <span class="muted">
            needs {ent.approval.approvals} approval{ent.approval.approvals === 1 ? '' : 's'} from{' '}
            {ent.approval.approverGroups.join(', ')}
          </span>
        )}
      </div>
      <div class="field">
        <DurationSelect id="req-duration" max={max} value={Math.min(duration, max)} onChange={setDuration} />
      </div>
      <div class="field">
        <label for="req-reason">Reason</label>
        <textarea
          id="req-reason"
          required
          maxLength={512}
          rows={2}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="req-ticket">Ticket{bgOn ? ' (required for break-glass)' : ' (optional)'}</label>
        <input
          id="req-ticket"
          type="text"
          maxLength={128}
          required={bgOn}
          autoComplete="off"
          value={ticket}
          onInput={(e) => setTicket(e.currentTarget.value)}
        />
      </div>
      {bgAllowed && ent?.access.request && (
        <div class="field">
          <label class="inline" for="req-breakglass">
            <input
              id="req-breakglass"
              type="checkbox"
              checked={breakGlass}
              onChange={(e) => setBreakGlass(e.currentTarget.checked)}
            />{' '}
            Break glass (emergency)
          </label>
        </div>
      )}
      {bgOn && (
        <div class="warning" role="alert">
          <strong>Break-glass gives you access at once, without approval.</strong> The security team is told
          now, the use is recorded, and it stays open for review until someone else signs it off. Use it only
          for an emergency you can name in the ticket.
        </div>
      )}
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>
        {bgOn ? 'Break glass now' : 'Send request'}
      </button>
    </form>
  );
}

function RequestItem({
  r,
  api,
  now,
  changed,
}: {
  r: AccessRequest;
  api: PageProps['api'];
  now: number;
  changed: () => void;
}) {
  const [keys, setKeys] = useState<VendResponse>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      changed();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const open = grantOpen(r, now);
  const headingId = `req-${r.id}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {r.entitlement} {r.breakGlass && <span class="badge badge-breakglass">break-glass</span>}{' '}
        <StatusBadge status={r.status} />
      </h3>
      <dl class="facts">
        <dt>Reason</dt>
        <dd class="user-text">{r.reason}</dd>
        {r.ticket && (
          <>
            <dt>Ticket</dt>
            <dd class="user-text">{r.ticket}</dd>
          </>
        )}
        <dt>Asked</dt>
        <dd>
          <Time iso={r.createdAt} /> for {humanDuration(r.durationSeconds)}
        </dd>
        {!r.breakGlass && (
          <>
            <dt>Votes</dt>
            <dd>
              {votesSummary(r)}
              {r.votes.length > 0 && (
                <ul class="votes">
                  {r.votes.map((v) => (
                    <li key={v.approverId + v.at}>
                      {v.label ?? v.approverId}: {v.decision}
                      {v.comment && <span class="user-text"> “{v.comment}”</span>}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </>
        )}
        {r.status === 'pending' && (
          <>
            <dt>Lapses</dt>
            <dd>
              <Time iso={r.expiresAt} /> ({relative(r.expiresAt, now)})
            </dd>
          </>
        )}
        {r.grantEnd && (
          <>
            <dt>Grant ends</dt>
            <dd>
              <Time iso={r.grantEnd} /> ({relative(r.grantEnd, now)})
            </dd>
          </>
        )}
        <dt>Id</dt>
        <dd>
          <code>{r.id}</code>
        </dd>
      </dl>
      <div class="actions">
        {r.status === 'pending' && (
          <button
            type="button"
            disabled={busy}
            onClick={() => act(() => api.post(path`/v1/requests/${r.id}/cancel`))}
          >
            Cancel request
          </button>
        )}
        {open && (
          <>
            <button
              type="button"
              onClick={() =>
                act(() =>
                  openConsole(() => api.post<ConsoleResponse>(path`/v1/requests/${r.id}/console`, {})),
                )
              }
            >
              Open console
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                act(async () =>
                  setKeys(await api.post<VendResponse>(path`/v1/requests/${r.id}/credentials`, {})),
                )
              }
            >
              Get keys
            </button>
          </>
        )}
      </div>
      <ErrorNote error={error} />
      {keys && <KeysPanel vend={keys} onClose={() => setKeys(undefined)} />}
    </article>
  );
}

export function RequestsPage({ api, params }: PageProps) {
  const now = useNow(5_000);
  const ents = useLoad(() => api.get<{ entitlements: Entitlement[] }>('/v1/entitlements'), []);
  const mine = useLoad(
    () => api.get<{ requests: AccessRequest[] }>('/v1/requests', { mine: 'true' }),
    [],
    REQUESTS_POLL_MS,
  );
  const [notice, setNotice] = useState('');
  const list = [...(mine.data?.requests ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <>
      <h1>Requests</h1>
      <ErrorNote error={ents.error} />
      {ents.data && (
        <NewRequest
          api={api}
          entitlements={ents.data.entitlements}
          initial={params.get('entitlement')}
          created={(r) => {
            setNotice(
              r.breakGlass
                ? `Break-glass access to ${r.entitlement} is open now.`
                : `Request for ${r.entitlement} sent: ${votesSummary(r)} so far.`,
            );
            void mine.reload();
          }}
        />
      )}
      <p role="status" class="notice">
        {notice}
      </p>
      <h2>Your requests</h2>
      <ErrorNote error={mine.error} />
      {mine.data && list.length === 0 && <Empty>You have not asked for anything yet.</Empty>}
      <div aria-live="polite">
        {list.map((r) => (
          <RequestItem key={r.id} r={r} api={api} now={now} changed={() => void mine.reload()} />
        ))}
      </div>
    </>
  );
}
