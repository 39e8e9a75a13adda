/** The state of one user action (a form submit, a button): busy while it runs, its error after. */
import { useState } from 'preact/hooks';

export interface Action {
  run: () => Promise<void>;
  /** A form's onSubmit: the page stays, the action runs. */
  submit: (event: Event) => void;
  busy: boolean;
  error: unknown;
}

export function useAction(action: () => Promise<void>): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: Event): void => {
    event.preventDefault();
    void run();
  };
  return { run, submit, busy, error };
}
