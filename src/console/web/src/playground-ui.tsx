/**
 * Pieces the playground pages share: the sampling fields of the LLM forms, the note that calls need a
 * project, a refused request explained, and a row of measurements.
 */
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from './api';
import { ROUTES } from './routes';
import { Field, formatNumber } from './ui';

/** Temperature and max tokens as typed (empty: the server's default). */
export interface Sampling {
  temperature: string;
  maxTokens: string;
}

/** The typed sampling as the API takes it. */
export function samplingOf(sampling: Sampling): { temperature?: number; max_tokens?: number } {
  const temperature = sampling.temperature.trim();
  const maxTokens = sampling.maxTokens.trim();
  return {
    ...(temperature ? { temperature: Number(temperature) } : {}),
    ...(maxTokens ? { max_tokens: Number(maxTokens) } : {}),
  };
}

export function SamplingFields(props: { value: Sampling; onChange: (value: Sampling) => void }) {
  const { value, onChange } = props;
  return (
    <>
      <Field label="Temperature">
        {(id) => (
          <input
            id={id}
            type="number"
            min={0}
            max={2}
            step={0.1}
            value={value.temperature}
            onInput={(e) => onChange({ ...value, temperature: e.currentTarget.value })}
          />
        )}
      </Field>
      <Field label="Max tokens">
        {(id) => (
          <input
            id={id}
            type="number"
            min={1}
            step={1}
            value={value.maxTokens}
            onInput={(e) => onChange({ ...value, maxTokens: e.currentTarget.value })}
          />
        )}
      </Field>
    </>
  );
}

/** LLM calls are billed to the project picked in the top bar: without one, say how to get one. */
export function ProjectNeeded(props: { projectId: string | null }) {
  if (props.projectId) return null;
  return (
    <p class="note">
      Calls are billed to a project: <a href={ROUTES.projects.path}>create one</a> first.
    </p>
  );
}

/** What to do about a refusal, by status; the API's message says what happened. */
function adviceFor(error: ApiError): string | null {
  switch (error.status) {
    case 402:
      return "The project's budget is spent: raise it, or wait for the next budget period.";
    case 429:
      return error.retryAfter !== undefined
        ? `Too many requests: try again in ${error.retryAfter} s.`
        : 'Too many requests: try again in a moment.';
    case 413:
    case 415:
      return null;
    default:
      return error.status >= 500 ? 'The service could not answer: try again.' : null;
  }
}

/** A failed request, announced: the API's message, advice for budgets and rate limits, the request id. */
export function RequestError(props: { error: unknown }) {
  const { error } = props;
  if (!error) return null;
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'Something went wrong';
  const advice = error instanceof ApiError ? adviceFor(error) : null;
  return (
    <div class="note error" role="alert">
      <strong>{message}</strong>
      {advice && <p class="advice">{advice}</p>}
      {error instanceof ApiError && error.requestId && <small>Request {error.requestId}</small>}
    </div>
  );
}

export interface Stat {
  label: string;
  value: string;
}

/** Measurements as a named group of a description list (labels and values read together). */
export function Stats(props: { label: string; stats: Stat[] }) {
  return (
    <div role="group" aria-label={props.label}>
      <dl class="stats">
        {props.stats.map((s) => (
          <div key={s.label}>
            <dt>{s.label}</dt>
            <dd>{s.value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

/** A duration in ms as the replaced forms showed it: ms under a second, else seconds. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${formatNumber(ms)} ms` : `${formatNumber(ms / 1000, 2)} s`;
}

/** A count, or '—' when unknown. */
export function formatCount(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? '—' : formatNumber(value, digits);
}

/** Credits with enough digits for a single call (a fraction of a credit). */
export function formatCredits(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { maximumFractionDigits: 6, minimumFractionDigits: 0 });
}

/** A ref to put on a result: it is scrolled into sight when `value` arrives (below the form on phones). */
export function useRevealed<T extends HTMLElement>(value: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (value) ref.current?.scrollIntoView({ block: 'nearest' });
  }, [value]);
  return ref;
}
