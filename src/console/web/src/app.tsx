import { useEffect, useState } from 'preact/hooks';
import { ErrorBoundary, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { loadMe } from './account';
import { mayHaveSession, refreshSession, signOut } from './api';
import { ChatPage } from './pages/chat';
import { ForecastPage } from './pages/forecast';
import { ImagePage } from './pages/image';
import { ModelsPage } from './pages/models';
import { PredictPage } from './pages/predict';
import { ProjectsPage } from './pages/projects';
import { SignInDialog, SignInPage } from './pages/signin';
import { StatusPage } from './pages/status';
import { UsagePage } from './pages/usage';
import { NAVIGATION, ROUTES } from './routes';
import { session, useSession } from './session';
import { Spinner } from './ui';

function ProjectPicker() {
  const { me, projectId } = useSession();
  if (!me || me.projects.length === 0) return null;
  return (
    <label class="project-picker">
      <span>Project</span>
      <select value={projectId ?? ''} onChange={(e) => session.chooseProject(e.currentTarget.value)}>
        {me.projects.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Navigation(props: { onNavigate: () => void }) {
  const { path } = useLocation();
  const { me } = useSession();
  return (
    <nav aria-label="Console">
      {NAVIGATION.map((group) => (
        <div class="nav-group" key={group.group}>
          <h2>{group.group}</h2>
          <ul>
            {group.routes.map((name) => {
              const route = ROUTES[name];
              if (route.admin && me?.role !== 'admin') return null;
              const current = path === route.path || (route.aliases ?? []).includes(path);
              return (
                <li key={name}>
                  <a href={route.path} aria-current={current ? 'page' : undefined} onClick={props.onNavigate}>
                    {route.title}
                  </a>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </nav>
  );
}

function Shell() {
  const { me } = useSession();
  const { route } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const out = async () => {
    await signOut();
    session.signedOut();
    route('/console/');
  };
  return (
    <div class={`shell ${menuOpen ? 'menu-open' : ''}`}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button
          type="button"
          class="menu-button"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <a class="brand" href="/console/">
          Conflux
        </a>
        <ProjectPicker />
        <span class="who">{me?.email}</span>
        <button type="button" class="secondary" onClick={() => void out()}>
          Sign out
        </button>
      </header>
      <aside id="sidebar" class="sidebar">
        <Navigation onNavigate={() => setMenuOpen(false)} />
      </aside>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary>
          <Router>
            <Route path={ROUTES.status.path} component={StatusPage} />
            <Route path="/console" component={StatusPage} />
            <Route path={ROUTES.chat.path} component={ChatPage} />
            <Route path="/avibe" component={ChatPage} />
            <Route path={ROUTES.image.path} component={ImagePage} />
            <Route path="/avision" component={ImagePage} />
            <Route path={ROUTES.forecast.path} component={ForecastPage} />
            <Route path={ROUTES.predict.path} component={PredictPage} />
            <Route path={ROUTES.usage.path} component={UsagePage} />
            <Route path={ROUTES.projects.path} component={ProjectsPage} />
            <Route path={ROUTES.models.path} component={ModelsPage} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <section class="page">
      <h1>Not found</h1>
      <p>
        This page does not exist. <a href="/console/">Back to the status page</a>.
      </p>
    </section>
  );
}

export function App() {
  const { state } = useSession();
  useEffect(() => {
    // A page load: the access token is gone, the refresh cookie may still hold a session.
    void (async () => {
      try {
        if (mayHaveSession() && (await refreshSession())) await loadMe();
        else session.signedOut();
      } catch {
        session.signedOut();
      }
    })();
  }, []);
  if (state === 'loading') return <Spinner label="Starting the console…" />;
  return (
    <LocationProvider>
      {state === 'signed_out' ? <SignInPage /> : <Shell />}
      {state === 'expired' && <SignInDialog />}
    </LocationProvider>
  );
}
