/**
 * Approvals: pending requests this person may decide (`GET /v1/requests?status=pending` answers
 * one's own and those one may approve), with the votes so far, and approve/deny with a comment
 * (`POST /v1/requests/{id}/approve|deny`). One's own requests, and those one has voted on, show no
 * buttons; the server refuses a self-approval anyway (403 `self_approval`).
 */
import { useState } from 'preact/hooks';
import { path } from '../api';
import type { AccessRequest } from '../api-types';
import { Empty, ErrorNote, Time } from '../components';
import type { PageProps } from '../context';
import { humanDuration, votesSummary } from '../format';
import { useLoad } from '../hooks';

export const APPROVALS_POLL_MS = 3_000;

function PendingItem({
  r,
  api,
  me,
  changed,
}: {
  r: AccessRequest;
  api: PageProps['api'];
  me: PageProps['me'];
  changed: (message: string) => void;
}) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const own = r.requester.id === me.id;
  const voted = r.votes.find((v) => v.approverId === me.id);
  const decide = async (decision: 'approve' | 'deny') => {
    setBusy(true);
    setError(undefined);
    try {
      const next = await api.post<AccessRequest>(
        path`/v1/requests/${r.id}/${decision}`,
        comment.trim() ? { comment: comment.trim() } : {},
      );
      changed(
        `${decision === 'approve' ? 'Approved' : 'Denied'} ${r.entitlement} for ${r.requester.label ?? r.requester.id}: ${next.status}, ${votesSummary(next)}.`,
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const headingId = `appr-${r.id}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {r.entitlement} for <span class="user-text">{r.requester.label ?? r.requester.id}</span>
      </h2>
      <dl class="facts">
        <dt>Reason</dt>
        <dd class="user-text">{r.reason}</dd>
        {r.ticket && (
          <>
            <dt>Ticket</dt>
            <dd class="user-text">{r.ticket}</dd>
          </>
        )}
        <dt>For</dt>
        <dd>{humanDuration(r.durationSeconds)}</dd>
        <dt>Asked</dt>
        <dd>
          <Time iso={r.createdAt} />
        </dd>
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
      </dl>
      {own ? (
        <p class="muted">Your own request: someone else decides it.</p>
      ) : voted ? (
        <p class="muted">You voted {voted.decision}; waiting for the others.</p>
      ) : (
        <div class="decide">
          <label for={`comment-${r.id}`}>Comment (optional)</label>
          <input
            id={`comment-${r.id}`}
            type="text"
            maxLength={512}
            autoComplete="off"
            value={comment}
            onInput={(e) => setComment(e.currentTarget.value)}
          />
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => decide('approve')}>
              Approve
            </button>
            <button type="button" class="danger" disabled={busy} onClick={() => decide('deny')}>
              Deny
            </button>
          </div>
        </div>
      )}
      <ErrorNote error={error} />
    </article>
  );
}

export function ApprovalsPage({ api, me }: PageProps) {
  const view = useLoad(
    () => api.get<{ requests: AccessRequest[] }>('/v1/requests', { status: 'pending' }),
    [],
    APPROVALS_POLL_MS,
  );
  const [notice, setNotice] = useState('');
  const list = [...(view.data?.requests ?? [])]
    .filter((r) => r.status === 'pending' && !r.breakGlass)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const toDecide = list.filter((r) => r.requester.id !== me.id);
  return (
    <>
      <h1>Approvals</h1>
      <p role="status" class="notice">
        {notice}
      </p>
      <ErrorNote error={view.error} />
      {view.data && toDecide.length === 0 && <Empty>Nothing is waiting for your decision.</Empty>}
      {list.map((r) => (
        <PendingItem
          key={r.id}
          r={r}
          api={api}
          me={me}
          changed={(m) => {
            setNotice(m);
            void view.reload();
          }}
        />
      ))}
    </>
  );
}
