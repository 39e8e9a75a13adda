import { useEffect, useRef, useState } from 'preact/hooks';
import { signIn } from '../api';
import { loadMe } from '../account';
import { useSession } from '../session';
import { ErrorNote, Field } from '../ui';

function SignInForm(props: { email?: string; submitLabel: string }) {
  const [email, setEmail] = useState(props.email ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
      await loadMe();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="signin-form" onSubmit={(e) => void submit(e)}>
      <Field label="Email">
        {(id) => (
          <input
            id={id}
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field label="Password">
        {(id) => (
          <input
            id={id}
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        )}
      </Field>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : props.submitLabel}
      </button>
    </form>
  );
}

/** The page shown to a visitor without a session. */
export function SignInPage() {
  useEffect(() => {
    document.title = 'Sign in · Conflux';
  }, []);
  return (
    <main id="main" class="signin">
      <div class="card signin-card">
        <h1>Conflux</h1>
        <p class="muted">Sign in to the console.</p>
        <SignInForm submitLabel="Sign in" />
      </div>
    </main>
  );
}

/**
 * Shown over the page when the session expired: signing in again resumes the calls that were
 * waiting, and the page underneath (with what was typed) stays as it was.
 */
export function SignInDialog() {
  const { me } = useSession();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    // Escape would leave the page without a session: keep the dialog open.
    const keep = (e: Event) => e.preventDefault();
    dialog?.addEventListener('cancel', keep);
    return () => dialog?.removeEventListener('cancel', keep);
  }, []);
  return (
    <dialog ref={ref} class="signin-dialog" aria-labelledby="expired-title">
      <h2 id="expired-title">Your session expired</h2>
      <p class="muted">Sign in again to continue; nothing on the page is lost.</p>
      <SignInForm email={me?.email} submitLabel="Sign in and continue" />
    </dialog>
  );
}
