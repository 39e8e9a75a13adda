/** Small shared pieces of the console's pages. */
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

let nextId = 0;
/** A stable id for a label/control pair. */
export function useId(prefix: string): string {
  const ref = useRef<string>();
  ref.current ??= `${prefix}-${++nextId}`;
  return ref.current;
}

export function Page(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Conflux`;
  }, [props.title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">{props.title}</h1>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

export function Card(props: { title?: string; children: ComponentChildren; class?: string }) {
  return (
    <div class={`card ${props.class ?? ''}`}>
      {props.title && <h2 class="card-title">{props.title}</h2>}
      {props.children}
    </div>
  );
}

/** A labelled control: the label is tied to the control by id. */
export function Field(props: { label: string; hint?: string; children: (id: string) => JSX.Element }) {
  const id = useId('field');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children(id)}
      {props.hint && <small class="hint">{props.hint}</small>}
    </div>
  );
}

/** An error from the API (or any error), announced to screen readers. */
export function ErrorNote(props: { error: unknown }) {
  if (!props.error) return null;
  const error = props.error;
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'Something went wrong';
  return (
    <p class="note error" role="alert">
      {message}
      {error instanceof ApiError && error.requestId && <small> (request {error.requestId})</small>}
    </p>
  );
}

export function Spinner(props: { label?: string }) {
  return (
    <span class="spinner" role="status">
      {props.label ?? 'Loading…'}
    </span>
  );
}

/** Copies a value to the clipboard and says so. */
export function CopyButton(props: { value: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    } catch {
      setDone(false);
    }
  };
  return (
    <button type="button" class="secondary" onClick={() => void copy()}>
      {done ? 'Copied' : (props.label ?? 'Copy')}
    </button>
  );
}

/** A meter with its text: used for quota windows. */
export function Bar(props: { label: string; value: number; max: number; text: string }) {
  const ratio = props.max > 0 ? Math.min(1, props.value / props.max) : 0;
  const level = ratio >= 0.9 ? 'high' : ratio >= 0.7 ? 'mid' : 'low';
  return (
    <div class="bar">
      <div class="bar-label">
        <span>{props.label}</span>
        <span>{props.text}</span>
      </div>
      <div
        class={`bar-track ${level}`}
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={props.max}
        aria-valuenow={props.value}
      >
        <div class="bar-fill" style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
      </div>
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads data when the inputs change; `reload` loads again. */
export function useLoad<T>(load: () => Promise<T>, inputs: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const run = useCallback(load, inputs);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [run, tick]);
  return { data: state.data, error: state.error, loading: state.loading, reload: () => setTick((t) => t + 1) };
}

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleTimeString('en-GB', { hour12: false });
}
