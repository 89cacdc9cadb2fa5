// The app shell: sign-in gate, the main navigation, and the screen for the current address.
import { useEffect, useRef, useState } from 'preact/hooks';
import { pb, signedIn, SUPERUSERS } from './api.js';
import { match, navigate, Redirect, useLocation } from './router.js';
import { t, useLocale } from './i18n/index.js';
import { clearCollections, findCollection, reloadCollections, useCollections } from './store/collections.js';
import { Icon } from './ui/icon.jsx';
import { Toasts, toast } from './ui/toast.jsx';
import { ConfirmHost } from './ui/confirm.jsx';
import { LocaleSelect } from './pages/locale-select.jsx';
import { ConfirmResetPage, LoginPage, RequestResetPage } from './pages/login.jsx';
import { InstallPage } from './pages/install.jsx';
import { CollectionsLayout } from './pages/collections/layout.jsx';
import { RecordsPage } from './pages/records/records-page.jsx';
import { CollectionEditorPage } from './pages/collections/editor.jsx';
import { ImportCollectionsPage } from './pages/collections/import.jsx';
import { ExportCollectionsPage } from './pages/collections/export.jsx';
import { LogsPage } from './pages/logs/logs-page.jsx';
import { JobsPage } from './pages/jobs/jobs-page.jsx';
import { SettingsPage } from './pages/settings/settings-page.jsx';

/** Screens anyone may open. */
const PUBLIC = [
  ['/login', () => null],
  ['/pbinstall/:token', ({ token }, done) => <InstallPage token={token} onSignedIn={done} />],
  ['/request-password-reset', () => <RequestResetPage />],
  ['/confirm-password-reset/:token', ({ token }) => <ConfirmResetPage token={token} />],
];

export function App() {
  useLocale(); // every text re-renders on a language switch
  const [authed, setAuthed] = useState(signedIn);
  const loc = useLocation();

  useEffect(
    () =>
      pb.authStore.onChange(() => {
        const now = signedIn();
        setAuthed(now);
        if (!now) clearCollections();
      }),
    [],
  );

  // Refresh the session once at start: a deleted or changed superuser is signed out.
  useEffect(() => {
    if (!signedIn()) return;
    pb.collection(SUPERUSERS)
      .authRefresh()
      .catch((err) => {
        if (err?.status === 401 || err?.status === 403 || err?.status === 404) {
          pb.authStore.clear();
          toast(t('core.sessionEnded'), 'info');
        }
      });
  }, []);

  const afterSignIn = () => {
    setAuthed(true);
    navigate('/collections', {}, { replace: true });
  };

  for (const [pattern, render] of PUBLIC) {
    const params = match(pattern, loc.path);
    if (!params) continue;
    if (pattern === '/login' && authed) return <Redirect to="/collections" />;
    const page = pattern === '/login' ? <LoginPage onSignedIn={afterSignIn} /> : render(params, afterSignIn);
    return <Frame>{page}</Frame>;
  }
  if (!authed) {
    return (
      <Frame>
        <LoginPage onSignedIn={() => setAuthed(true)} />
      </Frame>
    );
  }
  return (
    <Frame>
      <Shell loc={loc} />
    </Frame>
  );
}

function Frame({ children }) {
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        {t('core.skipToContent')}
      </a>
      {children}
      <Toasts />
      <ConfirmHost />
    </>
  );
}

/** The signed-in layout: the narrow main navigation and the current screen. */
function Shell({ loc }) {
  const area = loc.path.split('/')[1] || 'collections';
  const main = useRef(null);
  // On a change of screen, move the focus to the content so keyboard and screen-reader users
  // start there (not on the link they left).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
  }, [loc.path]);
  const email = pb.authStore.record?.email ?? '';
  const signOut = () => {
    pb.realtime.unsubscribe().catch(() => {});
    pb.authStore.clear();
    navigate('/login');
  };
  return (
    <div class="shell">
      <nav class="app-nav" aria-label={t('core.nav.main')}>
        <a href="#/collections" class="brand-mark" aria-label={t('core.appName')}>
          <img src="favicon.svg" alt="" width="32" height="32" />
        </a>
        <NavLink href="#/collections" icon="db" label={t('core.nav.collections')} active={area === 'collections'} />
        <NavLink href="#/logs" icon="logs" label={t('core.nav.logs')} active={area === 'logs'} />
        <NavLink href="#/jobs" icon="jobs" label={t('core.nav.jobs')} active={area === 'jobs'} />
        <NavLink href="#/settings" icon="settings" label={t('core.nav.settings')} active={area === 'settings'} />
        <div class="grow" />
        <LocaleSelect compact />
        <span class="sr-only">{t('core.signedInAs', { email })}</span>
        <button type="button" class="nav-link" onClick={signOut} title={t('core.signOut')}>
          <Icon name="logout" size={20} />
          <span class="nav-label">{t('core.signOut')}</span>
        </button>
      </nav>
      <main id="main" tabIndex={-1} ref={main} class="main">
        <Screen loc={loc} />
      </main>
    </div>
  );
}

function NavLink({ href, icon, label, active }) {
  return (
    <a href={href} class={`nav-link ${active ? 'active' : ''}`} aria-current={active ? 'page' : undefined} title={label}>
      <Icon name={icon} size={20} />
      <span class="nav-label">{label}</span>
    </a>
  );
}

function Screen({ loc }) {
  const { path, query } = loc;
  const cols = useCollections();
  let p;
  if (path === '/' || path === '') return <Redirect to="/collections" />;
  if ((p = match('/logs', path))) return <LogsPage query={query} />;
  if ((p = match('/jobs', path))) return <JobsPage query={query} />;
  if ((p = match('/settings', path))) return <SettingsPage section="application" query={query} />;
  if ((p = match('/settings/import-collections', path))) return <ImportCollectionsPage />;
  if ((p = match('/settings/export-collections', path))) return <ExportCollectionsPage />;
  if ((p = match('/settings/:section', path))) return <SettingsPage section={p.section} query={query} />;
  if ((p = match('/collections/new', path)))
    return (
      <CollectionsLayout active={null}>
        <CollectionEditorPage collection={null} query={query} />
      </CollectionsLayout>
    );
  if ((p = match('/collections', path))) {
    const first = cols.loaded && (cols.list.find((c) => !c.system) ?? cols.list.find((c) => c.name === SUPERUSERS));
    if (first) return <Redirect to={`/collections/${encodeURIComponent(first.name)}`} />;
    return <CollectionsLayout active={null}>{cols.loaded ? null : <p class="pad muted">{t('core.loading')}</p>}</CollectionsLayout>;
  }
  const edit = match('/collections/:name/edit', path);
  const records = match('/collections/:name', path);
  if (edit || records) {
    const name = (edit ?? records).name;
    const c = findCollection(name);
    if (!c) {
      return (
        <CollectionsLayout active={name}>
          <MissingCollection key={name} loaded={cols.loaded} />
        </CollectionsLayout>
      );
    }
    return (
      <CollectionsLayout active={c.name}>
        {edit ? <CollectionEditorPage key={c.id} collection={c} query={query} /> : <RecordsPage key={c.id} collection={c} query={query} />}
      </CollectionsLayout>
    );
  }
  return <NotFound />;
}

/** A collection not in the loaded list: perhaps made elsewhere since, so the list is fetched
 * once more before the address is declared wrong. */
function MissingCollection({ loaded }) {
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    if (loaded && !checked) reloadCollections().finally(() => setChecked(true));
  }, [loaded, checked]);
  return checked ? <NotFound /> : <p class="pad muted">{t('core.loading')}</p>;
}

function NotFound() {
  return (
    <div class="pad">
      <h1>{t('core.notFound')}</h1>
      <a href="#/collections">{t('core.backHome')}</a>
    </div>
  );
}
