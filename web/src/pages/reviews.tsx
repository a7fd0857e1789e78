/**
 * Reviews: break-glass uses waiting for someone else's sign-off. Approvers of the entitlement (and
 * the person who broke glass) read them from `GET /v1/reviews` and approvers sign off
 * (`POST /v1/reviews/{id}/sign-off`). Auditors, who may not sign off, see every break-glass use and
 * whether it was signed off, from the audit trail (`GET /v1/audit?decision=break-glass` and
 * `…=review-signed-off`): the same facts, read through the route auditors may use.
 */
import { useState } from 'preact/hooks';
import { path } from '../api';
import type { AuditPage, AuditRecord, Review } from '../api-types';
import { Empty, ErrorNote, StatusBadge, Time } from '../components';
import type { PageProps } from '../context';
import { shortPersonId } from '../format';
import { useLoad } from '../hooks';

function ReviewItem({
  r,
  api,
  me,
  changed,
}: {
  r: Review;
  api: PageProps['api'];
  me: PageProps['me'];
  changed: (m: string) => void;
}) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const own = r.requesterId === me.id;
  const signOff = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.post(path`/v1/reviews/${r.id}/sign-off`, comment.trim() ? { comment: comment.trim() } : {});
      changed(`Signed off the break-glass use of ${r.entitlement}.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const headingId = `rev-${r.id}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        Break-glass: {r.entitlement} <StatusBadge status={r.status} />
      </h3>
      <dl class="facts">
        <dt>By</dt>
        <dd class="user-text">{own ? 'you' : shortPersonId(r.requesterId)}</dd>
        <dt>Opened</dt>
        <dd>
          <Time iso={r.openedAt} />
        </dd>
        <dt>Request</dt>
        <dd>
          <code>{r.requestId}</code>
        </dd>
        {r.signedOffBy && (
          <>
            <dt>Signed off</dt>
            <dd>
              by {shortPersonId(r.signedOffBy)}, <Time iso={r.at} />
            </dd>
          </>
        )}
      </dl>
      {r.status === 'open' &&
        (own ? (
          <p class="muted">Your own break-glass use: someone else signs it off.</p>
        ) : (
          <div class="decide">
            <label for={`signoff-${r.id}`}>Comment (optional)</label>
            <input
              id={`signoff-${r.id}`}
              type="text"
              maxLength={512}
              autoComplete="off"
              value={comment}
              onInput={(e) => setComment(e.currentTarget.value)}
            />
            <div class="actions">
              <button type="button" disabled={busy} onClick={signOff}>
                Sign off
              </button>
            </div>
          </div>
        ))}
      <ErrorNote error={error} />
    </article>
  );
}

/** Break-glass uses as the audit trail tells them, newest first, with their sign-off if any. */
function AuditedBreakGlass({ api }: { api: PageProps['api'] }) {
  const view = useLoad(async () => {
    const since = new Date(Date.now() - 30 * 24 * 3600 * 1000).toISOString();
    const [uses, signOffs] = await Promise.all([
      api.get<AuditPage>('/v1/audit', { decision: 'break-glass', since, limit: '100' }),
      api.get<AuditPage>('/v1/audit', { decision: 'review-signed-off', since, limit: '500' }),
    ]);
    const signed = new Map<string, AuditRecord>();
    for (const s of signOffs.records) signed.set(s.auditId ?? '', s);
    return uses.records.map((u) => ({ use: u, signOff: signed.get(u.auditId ?? '') }));
  }, []);
  return (
    <section aria-labelledby="audited-bg">
      <h2 id="audited-bg">Break-glass uses in the audit trail (last 30 days)</h2>
      <ErrorNote error={view.error} />
      {view.data && view.data.length === 0 && <Empty>No break-glass use in the last 30 days.</Empty>}
      {view.data && view.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Break-glass uses</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Entitlement</th>
                <th scope="col">Reason</th>
                <th scope="col">Ticket</th>
                <th scope="col">Review</th>
              </tr>
            </thead>
            <tbody>
              {view.data.map(({ use, signOff }) => (
                <tr key={use.id}>
                  <td>
                    <Time iso={use.time} />
                  </td>
                  <td class="user-text">{use.caller?.label ?? use.caller?.id ?? '–'}</td>
                  <td>{use.entitlement ?? '–'}</td>
                  <td class="user-text">{use.reason ?? ''}</td>
                  <td class="user-text">{use.ticket ?? ''}</td>
                  <td>
                    {signOff ? (
                      <>
                        signed off by <span class="user-text">{signOff.caller?.label ?? '–'}</span>,{' '}
                        <Time iso={signOff.time} />
                      </>
                    ) : (
                      <StatusBadge status="open" />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function ReviewsPage({ api, me, config }: PageProps) {
  const open = useLoad(() => api.get<{ reviews: Review[] }>('/v1/reviews', { status: 'open' }), [], 5_000);
  const done = useLoad(() => api.get<{ reviews: Review[] }>('/v1/reviews', { status: 'signed-off' }), []);
  const [notice, setNotice] = useState('');
  const auditor = me.groups.includes(config.auditorsGroup);
  const openList = open.data?.reviews ?? [];
  const doneList = done.data?.reviews ?? [];
  return (
    <>
      <h1>Reviews</h1>
      <p class="muted">Every break-glass use stays open until someone other than its user signs it off.</p>
      <p role="status" class="notice">
        {notice}
      </p>
      <section aria-labelledby="open-reviews">
        <h2 id="open-reviews">Open</h2>
        <ErrorNote error={open.error} />
        {open.data && openList.length === 0 && <Empty>No open review for you.</Empty>}
        {openList.map((r) => (
          <ReviewItem
            key={r.id}
            r={r}
            api={api}
            me={me}
            changed={(m) => {
              setNotice(m);
              void open.reload();
              void done.reload();
            }}
          />
        ))}
      </section>
      {doneList.length > 0 && (
        <section aria-labelledby="done-reviews">
          <h2 id="done-reviews">Signed off</h2>
          {doneList.map((r) => (
            <ReviewItem key={r.id} r={r} api={api} me={me} changed={setNotice} />
          ))}
        </section>
      )}
      {auditor && <AuditedBreakGlass api={api} />}
    </>
  );
}
