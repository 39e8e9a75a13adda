import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { futureTimes, type ParsedSeries, parseQuantiles, parseSeries } from '../forecast-series';
import { RequestError, Stats, useRevealed } from '../playground-ui';
import { ROUTES } from '../routes';
import { useSession } from '../session';
import { Card, ErrorNote, Field, formatNumber, Page, Spinner, useLoad } from '../ui';
import { Chart, type ChartProps, type ChartSeries } from '../chart';

/** GET /forecast/engines. */
interface Engines {
  engines: string[];
  default: string;
  remote: { configured: boolean; state?: string; for_auto: boolean };
}

/** POST /forecast's answer (src/forecasting/dto/forecast.dto.ts). */
interface Forecast {
  engine: string;
  horizon: number;
  predictions: number[];
  lastValue: number;
  model: string;
  quantiles?: Record<string, number[]>;
  season_length: number;
  imputed?: number;
  fallback?: boolean;
  skipped?: { engine: string; reason: string }[];
}

interface Result {
  forecast: Forecast;
  series: ParsedSeries;
  /** The requested levels, ascending, as the answer's keys. */
  levels: string[];
  future: number[] | null;
}

const FREQUENCIES = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
const DEFAULT_HORIZON = 12;
const EXAMPLE = '112\n118\n132\n129\n121\n135\n148\n148\n136\n119\n104\n118\n115\n126\n141\n135\n125\n149\n170\n170';

function formatValue(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : formatNumber(value, 4);
}

function formatWhen(ms: number): string {
  const d = new Date(ms);
  const iso = d.toISOString();
  return d.getUTCHours() || d.getUTCMinutes() ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

/** The answer's key of a level (as the server writes it: at most 12 significant digits). */
function quantileKey(level: number): string {
  return String(Number(level.toPrecision(12)));
}

function quantileLabel(level: string): string {
  return `q${formatNumber(Number(level) * 100, 1)}`;
}

/** History, forecast and the widest quantile band, on one x axis (times when known, else steps). */
function chartOf(result: Result): ChartProps {
  const { forecast, series, levels, future } = result;
  const n = series.values.length;
  const h = forecast.predictions.length;
  const times = series.times && future ? [...series.times, ...future] : null;
  const blank = (count: number): null[] => Array<null>(count).fill(null);
  // The forecast line starts at the last observation, so that it continues the history.
  const ahead = (values: number[]): (number | null)[] => [...blank(n - 1), forecast.lastValue, ...values];
  const lines: ChartSeries[] = [
    { label: 'History', values: [...series.values, ...blank(h)], color: '--text' },
    { label: 'Forecast', values: ahead(forecast.predictions), color: '--accent', dash: [6, 4] },
  ];
  const low = levels[0];
  const high = levels[levels.length - 1];
  const banded = levels.length >= 2 && forecast.quantiles?.[low] && forecast.quantiles[high];
  const edges: ChartSeries[] = banded
    ? [
        { label: quantileLabel(high), values: ahead(forecast.quantiles![high]), color: '--accent', line: false },
        { label: quantileLabel(low), values: ahead(forecast.quantiles![low]), color: '--accent', line: false },
      ]
    : [];
  return {
    title: `History of ${n} points and a forecast of ${h} steps`,
    description: banded ? `The shaded band runs from ${quantileLabel(low)} to ${quantileLabel(high)}.` : undefined,
    xKind: times ? 'time' : 'number',
    xLabel: times ? 'Time' : 'Step',
    // Times are ms since the epoch; the chart takes seconds.
    x: times ? times.map((t) => t / 1000) : Array.from({ length: n + h }, (_, i) => i + 1),
    series: [...edges, ...lines],
    bands: banded ? [{ upper: 0, lower: 1 }] : undefined,
    height: 300,
  };
}

function ForecastTable(props: { result: Result }) {
  const { forecast, levels, future } = props.result;
  const shown = levels.filter((l) => forecast.quantiles?.[l]);
  return (
    <div class="table-wrap">
      <table>
        <caption>Forecast of the next {forecast.predictions.length} steps</caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              Step
            </th>
            {future && <th scope="col">Time</th>}
            <th scope="col" class="num">
              Forecast
            </th>
            {shown.map((l) => (
              <th key={l} scope="col" class="num">
                {quantileLabel(l)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {forecast.predictions.map((p, i) => (
            <tr key={i}>
              <th scope="row" class="num">
                {i + 1}
              </th>
              {future && <td>{formatWhen(future[i])}</td>}
              <td class="num">{formatValue(p)}</td>
              {shown.map((l) => (
                <td key={l} class="num">
                  {formatValue(forecast.quantiles?.[l]?.[i])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ForecastPage() {
  const { projectId } = useSession();
  const engines = useLoad(() => api<Engines>('/forecast/engines'), []);
  const [text, setText] = useState('');
  const [valueColumn, setValueColumn] = useState<string | null>(null);
  const [horizon, setHorizon] = useState(String(DEFAULT_HORIZON));
  const [engine, setEngine] = useState('auto');
  const [frequency, setFrequency] = useState('');
  const [quantiles, setQuantiles] = useState('0.1, 0.5, 0.9');
  const [result, setResult] = useState<Result | null>(null);
  const revealed = useRevealed<HTMLDivElement>(result);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // What the pasted text reads as, shown while typing (the columns of a CSV, or why it cannot be read).
  const parsed = useMemo((): { series?: ParsedSeries; error?: unknown } => {
    if (text.trim() === '') return {};
    try {
      return { series: parseSeries(text, valueColumn) };
    } catch (e) {
      return { error: e };
    }
  }, [text, valueColumn]);

  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setValueColumn(null);
    setText(await file.text());
  };

  const run = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (!parsed.series) {
      setError(parsed.error ?? new Error('Paste a series first'));
      return;
    }
    let levels: number[];
    try {
      levels = parseQuantiles(quantiles);
    } catch (e) {
      setError(e);
      return;
    }
    const steps = Number(horizon);
    setBusy(true);
    try {
      const forecast = await api<Forecast>('/forecast', {
        json: {
          series: parsed.series.values,
          horizon: steps,
          engine,
          quantiles: levels,
          ...(frequency ? { frequency } : {}),
        },
        project: projectId ?? undefined,
      });
      const series = parsed.series;
      setResult({
        forecast,
        series,
        levels: levels.map(quantileKey),
        future: series.times ? futureTimes(series.times, forecast.predictions.length) : null,
      });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const chart = useMemo(() => (result ? chartOf(result) : null), [result]);
  const columns = parsed.series?.columns ?? [];
  const engineNames = [...new Set(['auto', ...(engines.data?.engines ?? [])])];
  return (
    <Page title={ROUTES.forecast.title}>
      <div class="playground">
        <Card title="Series" class="playground-settings">
          <form onSubmit={(e) => void run(e)}>
            <Field
              label="Series"
              hint="One number per line, or CSV with a value column (and optionally a time column). Empty or NA: missing."
            >
              {(id) => (
                <textarea
                  id={id}
                  class="mono"
                  value={text}
                  placeholder={EXAMPLE}
                  onInput={(e) => setText(e.currentTarget.value)}
                />
              )}
            </Field>
            <Field label="CSV file">
              {(id) => (
                <input
                  id={id}
                  type="file"
                  accept=".csv,.tsv,.txt,text/csv,text/plain"
                  onChange={(e) => void readFile(e.currentTarget.files?.[0])}
                />
              )}
            </Field>
            {parsed.series && (
              <p class="hint" aria-live="polite">
                {parsed.series.values.length} points
                {parsed.series.timeColumn && `, times from “${parsed.series.timeColumn}”`}
                {parsed.series.valueColumn && `, values from “${parsed.series.valueColumn}”`}.
              </p>
            )}
            {parsed.error !== undefined && <ErrorNote error={parsed.error} />}
            {columns.length > 1 && (
              <Field label="Value column">
                {(id) => (
                  <select
                    id={id}
                    value={parsed.series?.valueColumn ?? ''}
                    onChange={(e) => setValueColumn(e.currentTarget.value)}
                  >
                    {columns.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            )}
            <div class="row">
              <Field label="Horizon">
                {(id) => (
                  <input
                    id={id}
                    type="number"
                    min={1}
                    max={1000}
                    step={1}
                    required
                    value={horizon}
                    onInput={(e) => setHorizon(e.currentTarget.value)}
                  />
                )}
              </Field>
              <Field label="Engine" hint={engines.error ? 'The engine list could not be read.' : undefined}>
                {(id) => (
                  <select id={id} value={engine} onChange={(e) => setEngine(e.currentTarget.value)}>
                    {engineNames.map((name) => (
                      <option key={name} value={name}>
                        {name === 'auto' ? 'auto (best measured)' : name}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            <div class="row">
              <Field label="Quantiles" hint="Levels between 0 and 1, e.g. 0.1, 0.5, 0.9">
                {(id) => <input id={id} value={quantiles} onInput={(e) => setQuantiles(e.currentTarget.value)} />}
              </Field>
              <Field label="Frequency">
                {(id) => (
                  <select id={id} value={frequency} onChange={(e) => setFrequency(e.currentTarget.value)}>
                    <option value="">detect the season</option>
                    {FREQUENCIES.map((f) => (
                      <option key={f} value={f}>
                        {f}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            <div class="row">
              <button type="submit" disabled={busy}>
                {busy ? 'Forecasting…' : 'Forecast'}
              </button>
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  setValueColumn(null);
                  setText(EXAMPLE);
                }}
              >
                Use an example
              </button>
            </div>
          </form>
        </Card>
        <Card title="Forecast" class="playground-main">
          <div aria-live="polite" ref={revealed}>
            {busy && <Spinner label="Forecasting…" />}
            {result && (
              <Stats
                label="Forecast details"
                stats={[
                  { label: 'Engine', value: result.forecast.engine + (result.forecast.fallback ? ' (fallback)' : '') },
                  { label: 'Model', value: result.forecast.model },
                  { label: 'Season length', value: String(result.forecast.season_length) },
                  { label: 'Imputed', value: String(result.forecast.imputed ?? 0) },
                  { label: 'Last value', value: formatValue(result.forecast.lastValue) },
                ]}
              />
            )}
          </div>
          <RequestError error={error} />
          {result && chart && (
            <>
              <Chart {...chart} />
              {result.forecast.skipped && result.forecast.skipped.length > 0 && (
                <p class="hint">
                  Not used: {result.forecast.skipped.map((s) => `${s.engine} (${s.reason})`).join(', ')}
                </p>
              )}
              <ForecastTable result={result} />
            </>
          )}
          {!busy && !result && !error && <p class="muted">Paste a series and ask for a forecast.</p>}
        </Card>
      </div>
    </Page>
  );
}
