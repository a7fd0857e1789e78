/**
 * The web console's shell (issue 16): reads `/config.json`, finishes a sign-in when the page is the
 * issuer's redirect back, and then shows the pages behind a navigation bar. The session (access
 * token and who is signed in) lives in this component's memory only; signing out, a 401 or the
 * token's expiry drop it, and the person signs in again.
 */
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createApi } from './api';
import { beginSignIn, completeSignIn, isCallback, type Session, SignInError } from './auth';
import { ConfigError, loadConfig, type WebConfig } from './config';
import type { PageProps } from './context';
import { AccessPage } from './pages/access';
import { ApprovalsPage } from './pages/approvals';
import { AuditPageView } from './pages/audit';
import { RequestsPage } from './pages/requests';
import { ReviewsPage } from './pages/reviews';
import { SessionsPage } from './pages/sessions';
import { href, type Page, useRoute } from './router';

const TITLES: Record<Page, string> = {
  access: 'My access',
  requests: 'Requests',
  approvals: 'Approvals',
  sessions: 'Sessions',
  reviews: 'Reviews',
  audit: 'Audit',
};

const VIEWS: Record<Page, (p: PageProps) => preact.JSX.Element> = {
  access: AccessPage,
  requests: RequestsPage,
  approvals: ApprovalsPage,
  sessions: SessionsPage,
  reviews: ReviewsPage,
  audit: AuditPageView,
};

function SignIn({ config, message }: { config: WebConfig; message: string }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="signin">
      <h1>vend</h1>
      <p>Short-lived AWS access, approvals and audit, in one place.</p>
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <button
        type="button"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          beginSignIn(config, window.location.hash).catch(() => {
            setBusy(false);
            setError('the sign-in service could not be reached; try again');
          });
        }}
      >
        Sign in
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

function Shell({
  config,
  session,
  signOut,
}: {
  config: WebConfig;
  session: Session;
  signOut: (m: string) => void;
}) {
  const route = useRoute();
  const ref = useRef(session);
  ref.current = session;
  const api = useMemo(
    () =>
      createApi(
        () => ref.current,
        () => signOut('Your sign-in has expired. Sign in again.'),
      ),
    [signOut],
  );
  const auditor = session.me.groups.includes(config.auditorsGroup);
  const pages: Page[] = [
    'access',
    'requests',
    'approvals',
    'sessions',
    'reviews',
    ...(auditor ? ['audit' as const] : []),
  ];
  useEffect(() => {
    document.title = `${TITLES[route.page]} · vend`;
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.page]);
  const View = VIEWS[route.page];
  return (
    <>
      {/* A button, not a `#main` link: the hash is the route. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">vend</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((p) => (
              <li key={p}>
                <a href={href(p)} aria-current={route.page === p ? 'page' : undefined}>
                  {TITLES[p]}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          <span class="user-text">{session.me.email ?? session.me.subject}</span>
          {session.me.groups.length > 0 && <span class="muted"> ({session.me.groups.join(', ')})</span>}{' '}
          <button type="button" class="link" onClick={() => signOut('You signed out.')}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {/* A page change unmounts the previous page: its state (shown keys included) is gone. */}
        <View key={route.page} api={api} me={session.me} config={config} params={route.params} />
      </main>
    </>
  );
}

function App({ config }: { config: WebConfig }) {
  const [session, setSession] = useState<Session>();
  const [phase, setPhase] = useState<'starting' | 'ready'>('starting');
  const [message, setMessage] = useState('');
  const signOut = useMemo(
    () => (m: string) => {
      setSession(undefined);
      setMessage(m);
    },
    [],
  );
  useEffect(() => {
    const here = new URL(window.location.href);
    if (!isCallback(here)) {
      setPhase('ready');
      return;
    }
    completeSignIn(config, here)
      .then((s) => setSession(s))
      .catch((e: unknown) =>
        setMessage(e instanceof SignInError ? `Sign-in failed: ${e.message}.` : 'Sign-in failed.'),
      )
      .finally(() => setPhase('ready'));
  }, [config]);
  useEffect(() => {
    if (!session) return;
    const t = window.setTimeout(
      () => signOut('Your sign-in has expired. Sign in again.'),
      Math.max(0, session.expiresAt - Date.now()),
    );
    return () => window.clearTimeout(t);
  }, [session, signOut]);
  useEffect(() => {
    performance.mark(session ? 'vend:signed-in' : phase === 'ready' ? 'vend:ready' : 'vend:starting');
  }, [phase, session]);
  if (phase === 'starting')
    return (
      <main id="main" class="signin" aria-busy="true">
        <p>Signing in…</p>
      </main>
    );
  if (!session) return <SignIn config={config} message={message} />;
  return <Shell config={config} session={session} signOut={signOut} />;
}

async function start(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  try {
    const config = await loadConfig();
    render(<App config={config} />, root);
  } catch (error) {
    render(
      <main id="main" class="signin">
        <h1>vend</h1>
        <p class="error" role="alert">
          {error instanceof ConfigError ? error.message : 'the console could not start'}
        </p>
      </main>,
      root,
    );
  }
}

void start();
