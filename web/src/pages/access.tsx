/**
 * My access: the entitlements this person may use, request or break-glass (`GET /v1/entitlements`).
 * Usable ones offer "Open console" (`POST /v1/console`) and "Get keys" (`POST /v1/credentials`,
 * shown once); gated ones link to a prefilled request.
 */
import { useState } from 'preact/hooks';
import type { ConsoleResponse, Entitlement, VendResponse } from '../api-types';
import { DurationSelect, Empty, ErrorNote, KeysPanel, openConsole } from '../components';
import type { PageProps } from '../context';
import { humanDuration } from '../format';
import { useLoad } from '../hooks';
import { href } from '../router';

function EntitlementCard({ ent, api }: { ent: Entitlement; api: PageProps['api'] }) {
  const [duration, setDuration] = useState(
    Math.min(ent.defaultDurationSeconds ?? 3600, ent.maxDurationSeconds, 3600),
  );
  const [keys, setKeys] = useState<VendResponse>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [opened, setOpened] = useState<ConsoleResponse>();

  const getKeys = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setKeys(
        await api.post<VendResponse>('/v1/credentials', { entitlement: ent.id, durationSeconds: duration }),
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const console = async () => {
    setError(undefined);
    try {
      setOpened(
        await openConsole(() =>
          api.post<ConsoleResponse>('/v1/console', { entitlement: ent.id, durationSeconds: duration }),
        ),
      );
    } catch (e) {
      setError(e);
    }
  };
  const headingId = `ent-${ent.id}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{ent.id}</h2>
      {ent.description && <p>{ent.description}</p>}
      <dl class="facts">
        <dt>Role</dt>
        <dd>
          <code>{ent.roleArn}</code>
        </dd>
        <dt>Longest session</dt>
        <dd>{humanDuration(Math.min(ent.maxDurationSeconds, 3600))}</dd>
        {ent.approval && (
          <>
            <dt>Approval</dt>
            <dd>
              {ent.approval.approvals} from {ent.approval.approverGroups.join(', ')}
            </dd>
          </>
        )}
      </dl>
      {ent.access.use ? (
        <div class="actions">
          <DurationSelect
            id={`dur-${ent.id}`}
            max={ent.maxDurationSeconds}
            value={duration}
            onChange={setDuration}
          />
          <button type="button" onClick={console}>
            Open console
          </button>
          <button type="button" onClick={getKeys} disabled={busy}>
            Get keys
          </button>
        </div>
      ) : (
        <div class="actions">
          <a class="button" href={href('requests', { entitlement: ent.id })}>
            {ent.access.request ? 'Request' : 'Break glass'}
          </a>
          <span class="muted">{ent.access.request ? 'needs approval' : 'emergency access only'}</span>
        </div>
      )}
      {opened && (
        <p class="muted" role="status">
          Console opened in a new tab for {opened.assumedRoleArn}.
        </p>
      )}
      <ErrorNote error={error} />
      {keys && <KeysPanel vend={keys} onClose={() => setKeys(undefined)} />}
    </article>
  );
}

export function AccessPage({ api }: PageProps) {
  const view = useLoad(() => api.get<{ entitlements: Entitlement[] }>('/v1/entitlements'), []);
  const list = view.data?.entitlements ?? [];
  return (
    <>
      <h1>My access</h1>
      <ErrorNote error={view.error} />
      {view.loading && !view.data && <p aria-busy="true">Loading…</p>}
      {view.data && list.length === 0 && (
        <Empty>
          You have no entitlements. Access is granted through groups; ask the team that runs vend.
        </Empty>
      )}
      <div class="cards">
        {list.map((ent) => (
          <EntitlementCard key={ent.id} ent={ent} api={api} />
        ))}
      </div>
    </>
  );
}
