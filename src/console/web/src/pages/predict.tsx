import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { formatDuration, RequestError, type Stat, Stats, useRevealed } from '../playground-ui';
import { ROUTES } from '../routes';
import { useSession } from '../session';
import { Card, ErrorNote, Field, formatNumber, Page, Spinner, useLoad } from '../ui';

/** A registered model (src/ml/dto/admin.dto.ts ModelDto), the parts the form uses. */
interface Model {
  name: string;
  task: string;
  input_signature: { name: string; dtype: string; shape: number[]; feature_names?: string[] };
  production_version: string | null;
  split: { version: string; weight: number; share: number }[] | null;
  versions: { version: string; stage: string; loaded: boolean }[];
}

/** POST /api/ml/predict's answer (src/ml/dto/predict.dto.ts). */
interface Prediction {
  symbol: string;
  prediction: { direction: string; confidence: number; expected_return: number | null };
  model_name: string;
  model_version: string;
  latency_ms: number;
  prediction_id: string;
  served_by: 'local' | 'remote';
  fallback?: boolean;
  fallback_from?: string;
}

interface Answered {
  prediction: Prediction;
  model: Model;
  pinned: string | null;
  roundTripMs: number;
}

/** Past this many features, one text box takes the row instead of a field each. */
const MAX_FIELDS = 64;

/** Features of a row: the signature's last dimension, undefined when dynamic. */
function featureCount(model: Model): number | undefined {
  const last = model.input_signature.shape[model.input_signature.shape.length - 1];
  return last !== undefined && last >= 0 ? last : undefined;
}

/** Numbers typed as "0.1, -0.2 0.3" (commas, semicolons, spaces or tabs between them). */
function numbersOf(text: string): number[] {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n)) throw new Error(`“${p}” is not a number`);
    return n;
  });
}

function percent(value: number): string {
  return `${formatNumber(value * 100, 2)} %`;
}

/** The A/B arm the request went to: the version the router chose (before any fallback), and its share. */
function armOf(a: Answered): string {
  if (a.pinned) return `none (version ${a.pinned} asked for)`;
  const arm = a.prediction.fallback_from ?? a.prediction.model_version;
  const split = a.model.split;
  if (!split) return `none (no split: production ${arm})`;
  const share = split.find((s) => s.version === arm)?.share;
  return share === undefined ? arm : `${arm} (${percent(share)} of traffic)`;
}

function answerStats(a: Answered): Stat[] {
  const p = a.prediction;
  return [
    { label: 'Direction', value: p.prediction.direction },
    { label: 'Confidence', value: percent(p.prediction.confidence) },
    {
      label: 'Expected return',
      value: p.prediction.expected_return === null ? '—' : percent(p.prediction.expected_return),
    },
    { label: 'Version', value: p.model_version },
    { label: 'A/B arm', value: armOf(a) },
    { label: 'Served by', value: p.served_by + (p.fallback ? ` (fallback from ${p.fallback_from})` : '') },
    { label: 'Latency', value: `${formatNumber(p.latency_ms, 3)} ms` },
    { label: 'Round trip', value: formatDuration(a.roundTripMs) },
  ];
}

function FeatureFields(props: { model: Model; values: string[]; onChange: (values: string[]) => void }) {
  const count = featureCount(props.model);
  const names = props.model.input_signature.feature_names;
  if (count === undefined || count > MAX_FIELDS) {
    return (
      <Field
        label="Features"
        hint={count === undefined ? 'Numbers separated by commas or spaces' : `${count} numbers, in signature order`}
      >
        {(id) => (
          <textarea
            id={id}
            class="mono short"
            required
            value={props.values[0] ?? ''}
            onInput={(e) => props.onChange([e.currentTarget.value])}
          />
        )}
      </Field>
    );
  }
  return (
    <fieldset class="features">
      <legend>Features ({count})</legend>
      <div class="feature-grid">
        {Array.from({ length: count }, (_, i) => (
          <Field key={i} label={names?.[i] ?? `Feature ${i + 1}`}>
            {(id) => (
              <input
                id={id}
                type="number"
                step="any"
                required
                value={props.values[i] ?? ''}
                onInput={(e) => {
                  const next = [...props.values];
                  next[i] = e.currentTarget.value;
                  props.onChange(next);
                }}
              />
            )}
          </Field>
        ))}
      </div>
    </fieldset>
  );
}

export function PredictPage() {
  const { projectId } = useSession();
  const list = useLoad(() => api<{ models: Model[] }>('/api/ml/models'), []);
  const [name, setName] = useState('');
  const chosen = name || list.data?.models[0]?.name || '';
  const model = useLoad(
    () => (chosen ? api<Model>(`/api/ml/models/${encodeURIComponent(chosen)}`) : Promise.resolve(null)),
    [chosen],
  );
  const [values, setValues] = useState<string[]>([]);
  const [row, setRow] = useState('');
  const [rowError, setRowError] = useState<unknown>(null);
  const [symbol, setSymbol] = useState('DAX');
  const [version, setVersion] = useState('latest');
  const [answer, setAnswer] = useState<Answered | null>(null);
  const revealed = useRevealed<HTMLDivElement>(answer);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const current = model.data && model.data.name === chosen ? model.data : null;

  // Another model: its own fields, versions and answer.
  useEffect(() => {
    setValues([]);
    setVersion('latest');
    setAnswer(null);
    setError(null);
  }, [chosen]);

  const fill = () => {
    setRowError(null);
    if (!current) return;
    try {
      const numbers = numbersOf(row);
      const count = featureCount(current);
      if (count !== undefined && numbers.length !== count) {
        throw new Error(`The row holds ${numbers.length} numbers; ${current.name} takes ${count}`);
      }
      setValues(count === undefined || count > MAX_FIELDS ? [numbers.join(', ')] : numbers.map(String));
    } catch (e) {
      setRowError(e);
    }
  };

  const predict = async (event: Event) => {
    event.preventDefault();
    if (!current || busy) return;
    setError(null);
    let features: number[];
    try {
      const count = featureCount(current);
      features = count === undefined || count > MAX_FIELDS ? numbersOf(values[0] ?? '') : values.map(Number);
    } catch (e) {
      setError(e);
      return;
    }
    setBusy(true);
    setAnswer(null);
    const started = performance.now();
    try {
      // The model is read again beside the prediction: its split may have changed since the page loaded.
      const [timed, fresh] = await Promise.all([
        api<Prediction>('/api/ml/predict', {
          json: {
            model: current.name,
            symbol,
            features,
            ...(version !== 'latest' ? { model_version: version } : {}),
          },
          project: projectId ?? undefined,
        }).then((prediction) => ({ prediction, ms: performance.now() - started })),
        api<Model>(`/api/ml/models/${encodeURIComponent(current.name)}`).catch(() => current),
      ]);
      setAnswer({
        prediction: timed.prediction,
        model: fresh,
        pinned: version !== 'latest' ? version : null,
        roundTripMs: timed.ms,
      });
      model.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const models = list.data?.models ?? [];
  return (
    <Page title={ROUTES.predict.title}>
      <ErrorNote error={list.error} />
      {list.data && models.length === 0 && <p class="note">No model is registered yet.</p>}
      <div class="playground">
        <Card title="Request" class="playground-settings">
          <Field label="Model">
            {(id) => (
              <select id={id} value={chosen} onChange={(e) => setName(e.currentTarget.value)}>
                {models.map((m) => (
                  <option key={m.name} value={m.name}>
                    {m.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {model.loading && !current && <Spinner label="Reading the model…" />}
          <ErrorNote error={model.error} />
          {current && (
            <form onSubmit={(e) => void predict(e)}>
              <p class="hint">
                {current.task}. Production: {current.production_version ?? 'none'}
                {current.split &&
                  `; A/B split ${current.split.map((s) => `${s.version} ${percent(s.share)}`).join(', ')}`}
                .
              </p>
              <div class="row">
                <Field label="Symbol" hint="Also the A/B routing key: one symbol always gets the same arm">
                  {(id) => (
                    <input
                      id={id}
                      required
                      maxLength={64}
                      value={symbol}
                      onInput={(e) => setSymbol(e.currentTarget.value)}
                    />
                  )}
                </Field>
                <Field label="Version">
                  {(id) => (
                    <select id={id} value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
                      <option value="latest">latest (the A/B split, else production)</option>
                      {current.versions
                        .filter((v) => v.stage !== 'archived')
                        .map((v) => (
                          <option key={v.version} value={v.version}>
                            {v.version} ({v.stage})
                          </option>
                        ))}
                    </select>
                  )}
                </Field>
              </div>
              <div class="row">
                <Field label="Row to fill the features" hint="Paste a row of numbers, then fill">
                  {(id) => <input id={id} class="mono" value={row} onInput={(e) => setRow(e.currentTarget.value)} />}
                </Field>
                <button type="button" class="secondary" onClick={fill}>
                  Fill the features
                </button>
              </div>
              <ErrorNote error={rowError} />
              <FeatureFields model={current} values={values} onChange={setValues} />
              <button type="submit" disabled={busy}>
                {busy ? 'Predicting…' : 'Predict'}
              </button>
            </form>
          )}
        </Card>
        <Card title="Prediction" class="playground-main">
          <div aria-live="polite" ref={revealed}>
            {busy && <Spinner label="Predicting…" />}
            {answer && (
              <>
                <p class={`direction ${answer.prediction.prediction.direction.toLowerCase()}`} aria-hidden="true">
                  {answer.prediction.prediction.direction}
                </p>
                <Stats label="Prediction details" stats={answerStats(answer)} />
                <p class="hint">
                  Prediction id <code>{answer.prediction.prediction_id}</code> (for POST /api/ml/feedback)
                </p>
              </>
            )}
          </div>
          {!busy && !answer && !error && <p class="muted">The prediction appears here.</p>}
          <RequestError error={error} />
        </Card>
      </div>
    </Page>
  );
}
