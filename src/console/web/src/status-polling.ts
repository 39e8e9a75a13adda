import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  /** The last failure; cleared by the next success. The data of the last success stays. */
  error: unknown;
  loading: boolean;
  /** Date.now() of the last success. */
  updatedAt: number | null;
  /** Loads now (unless a load is under way) and starts the interval over. */
  refresh: () => void;
}

/**
 * Loads at once, then every `intervalMs` after each load ends, without reloading the page. Paused
 * while the tab is hidden; when it is shown again, loads at once if the interval has passed, else when
 * it does. Each load is bounded by `timeoutMs`.
 */
export function usePolling<T>(
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number,
  timeoutMs = 10_000,
): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean; updatedAt: number | null }>({
    loading: true,
    updatedAt: null,
  });
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const running = useRef(false);
  const lastStart = useRef(0);
  const live = useRef(true);
  const inFlight = useRef<AbortController>();
  const loadRef = useRef(load);
  loadRef.current = load;

  const schedule = useCallback((delay: number, next: () => void) => {
    clearTimeout(timer.current);
    if (document.visibilityState === 'hidden') return;
    timer.current = setTimeout(next, Math.max(0, delay));
  }, []);

  const run = useCallback(async (): Promise<void> => {
    if (running.current) return;
    running.current = true;
    clearTimeout(timer.current);
    lastStart.current = Date.now();
    setState((s) => ({ ...s, loading: true }));
    const controller = new AbortController();
    inFlight.current = controller;
    const deadline = setTimeout(
      () => controller.abort(new Error(`No answer within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    try {
      const data = await loadRef.current(controller.signal);
      if (live.current) setState({ data, error: undefined, loading: false, updatedAt: Date.now() });
    } catch (error) {
      if (live.current) setState((s) => ({ ...s, error, loading: false }));
    } finally {
      clearTimeout(deadline);
      running.current = false;
      if (live.current) schedule(intervalMs, () => void run());
    }
  }, [intervalMs, timeoutMs, schedule]);

  useEffect(() => {
    live.current = true;
    void run();
    const visibility = () => {
      if (document.visibilityState === 'hidden') {
        clearTimeout(timer.current);
        return;
      }
      if (running.current) return;
      schedule(lastStart.current + intervalMs - Date.now(), () => void run());
    };
    document.addEventListener('visibilitychange', visibility);
    return () => {
      live.current = false;
      clearTimeout(timer.current);
      inFlight.current?.abort();
      document.removeEventListener('visibilitychange', visibility);
    };
  }, [run, schedule, intervalMs]);

  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    updatedAt: state.updatedAt,
    refresh: () => void run(),
  };
}
