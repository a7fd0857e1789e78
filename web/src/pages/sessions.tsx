/**
 * Sessions: live sessions vend issued (`GET /v1/sessions`; with `all=true` for the approver and
 * security groups, which the page tries first and quietly drops on 403), each with Revoke
 * (`POST /v1/sessions/{auditId}/revoke`, a reason required). Revoking is immediate and final; the
 * server decides who may (owner, the entitlement's approvers, the security group).
 */
import { useState } from 'preact/hooks';
import { ApiError, path } from '../api';
import type { LiveSession } from '../api-types';
import { Empty, ErrorNote, StatusBadge, Time } from '../components';
import type { PageProps } from '../context';
import { useLoad } from '../hooks';

export const SESSIONS_POLL_MS = 5_000;

/** `arn:aws:iam::444455556666:role/ProdReadOnly` → `ProdReadOnly (444455556666)`; the ARN is the cell's title. */
function roleLabel(arn: string): string {
  const m = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? `${m[2]} (${m[1]})` : arn;
}

function SessionRow({
  s,
  api,
  changed,
}: {
  s: LiveSession;
  api: PageProps['api'];
  changed: (m: string) => void;
}) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const revoke = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.post(path`/v1/sessions/${s.auditId}/revoke`, { reason });
      setAsking(false);
      changed(`Session ${s.auditId} revoked.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr>
      <td>
        <code>{s.auditId}</code>
      </td>
      <td class="user-text" title={s.caller.id}>
        {s.caller.label}
      </td>
      <td>{s.entitlement}</td>
      <td title={s.roleArn}>{roleLabel(s.roleArn)}</td>
      <td>
        <Time iso={s.issuedAt} />
      </td>
      <td>
        <Time iso={s.expiresAt} />
      </td>
      <td>{s.delivery}</td>
      <td>
        {s.status !== 'live' || s.revoked ? (
          <>
            <StatusBadge status={s.revoked ? 'revoked' : s.status} />
            {s.revocation && (
              <span class="muted user-text">
                {' '}
                by {s.revocation.by.label}: {s.revocation.reason}
              </span>
            )}
          </>
        ) : asking ? (
          <form onSubmit={revoke} class="inline-form">
            <label for={`revoke-${s.auditId}`}>Reason</label>
            <input
              id={`revoke-${s.auditId}`}
              type="text"
              required
              maxLength={512}
              autoComplete="off"
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
            <button type="submit" class="danger" disabled={busy}>
              Revoke now
            </button>
            <button type="button" onClick={() => setAsking(false)}>
              Keep
            </button>
          </form>
        ) : (
          <button
            type="button"
            class="danger"
            aria-label={`Revoke session ${s.auditId}`}
            onClick={() => setAsking(true)}
          >
            Revoke
          </button>
        )}
        <ErrorNote error={error} />
      </td>
    </tr>
  );
}

export function SessionsPage({ api }: PageProps) {
  const [scope, setScope] = useState<'all' | 'mine'>('all');
  const view = useLoad(
    async () => {
      if (scope === 'all') {
        try {
          return {
            ...(await api.get<{ sessions: LiveSession[] }>('/v1/sessions', { all: 'true' })),
            all: true,
          };
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 403)) throw e;
          setScope('mine');
        }
      }
      return { ...(await api.get<{ sessions: LiveSession[] }>('/v1/sessions')), all: false };
    },
    [scope],
    SESSIONS_POLL_MS,
  );
  const [notice, setNotice] = useState('');
  const list = view.data?.sessions ?? [];
  return (
    <>
      <h1>Sessions</h1>
      <p class="muted">
        {view.data?.all ? 'Every live session vend has issued.' : 'Your live sessions.'} Revoking denies
        everything to that one session at once; others are untouched.
      </p>
      <p role="status" class="notice">
        {notice}
      </p>
      <ErrorNote error={view.error} />
      {view.data && list.length === 0 && <Empty>No live sessions.</Empty>}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Live sessions</caption>
            <thead>
              <tr>
                <th scope="col">Audit id</th>
                <th scope="col">Caller</th>
                <th scope="col">Entitlement</th>
                <th scope="col">Role</th>
                <th scope="col">Issued</th>
                <th scope="col">Expires</th>
                <th scope="col">Delivery</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <SessionRow
                  key={s.auditId}
                  s={s}
                  api={api}
                  changed={(m) => {
                    setNotice(m);
                    void view.reload();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
