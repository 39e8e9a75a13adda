import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { Chart } from '../chart';
import { ROUTES } from '../routes';
import { useSession } from '../session';
import { Bar, Card, ErrorNote, Field, formatNumber, Page, Spinner, useLoad } from '../ui';
import {
  dailyByModel,
  type DayRange,
  downloadUsageCsv,
  fetchQuota,
  fetchUsage,
  formatCredits,
  formatUsd,
  lastDays,
  NO_MODEL,
  type QuotaStatus,
  type QuotaWindow,
  type UsageGroup,
  type UsageGrouping,
  type UsageNumbers,
  type UsageReport,
} from '../usage-data';

const QUICK_RANGES = [7, 30, 90] as const;

const CSV_GROUPINGS: { value: UsageGrouping; label: string }[] = [
  { value: 'day', label: 'Day' },
  { value: 'day_model', label: 'Day and model' },
  { value: 'model', label: 'Model' },
  { value: 'api_key', label: 'API key' },
  { value: 'provider', label: 'Provider' },
];

interface Reports {
  daily: UsageReport;
  byModel: UsageReport;
  byKey: UsageReport;
}

function RangeForm(props: { range: DayRange; onChange: (range: DayRange) => void }) {
  const [from, setFrom] = useState(props.range.from);
  const [to, setTo] = useState(props.range.to);
  const apply = (range: DayRange) => {
    setFrom(range.from);
    setTo(range.to);
    props.onChange(range);
  };
  const submit = (event: Event) => {
    event.preventDefault();
    if (from && to) props.onChange({ from, to });
  };
  return (
    <form class="usage-range" onSubmit={submit} aria-label="Date range">
      <div class="row">
        <Field label="From">
          {(id) => (
            <input id={id} type="date" required value={from} max={to} onInput={(e) => setFrom(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="To">
          {(id) => (
            <input id={id} type="date" required value={to} min={from} onInput={(e) => setTo(e.currentTarget.value)} />
          )}
        </Field>
        <div class="field">
          <button type="submit">Show</button>
        </div>
      </div>
      <div class="quick-ranges" role="group" aria-label="Quick ranges">
        {QUICK_RANGES.map((days) => {
          const range = lastDays(days);
          const current = range.from === props.range.from && range.to === props.range.to;
          return (
            <button type="button" class="secondary" key={days} aria-pressed={current} onClick={() => apply(range)}>
              Last {days} days
            </button>
          );
        })}
      </div>
      <p class="hint">Whole days in UTC, both ends included.</p>
    </form>
  );
}

function Totals(props: { totals: UsageNumbers }) {
  const t = props.totals;
  const items: [string, string][] = [
    ['Requests', formatNumber(t.requests)],
    ['Attempts', formatNumber(t.attempts)],
    ['Input tokens', formatNumber(t.input_tokens)],
    ['Output tokens', formatNumber(t.output_tokens)],
    ['Credits', formatCredits(t.credits)],
    ['US dollars', formatUsd(t.usd)],
  ];
  return (
    <Card title="Totals">
      <dl class="stats usage-totals">
        {items.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

function QuotaBar(props: { label: string; window: QuotaWindow }) {
  const w = props.window;
  const used = w.spent + w.reserved;
  const resets = `resets ${new Date(w.resets_at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  if (w.limit === null) {
    return (
      <div class="bar">
        <div class="bar-label">
          <span>{props.label}</span>
          <span>{formatCredits(used)} credits used · no limit</span>
        </div>
      </div>
    );
  }
  const reserved = w.reserved > 0 ? ` (${formatCredits(w.reserved)} in flight)` : '';
  return (
    <Bar
      label={props.label}
      value={used}
      max={w.limit}
      text={`${formatCredits(used)} of ${formatCredits(w.limit)} credits${reserved} · ${resets}`}
    />
  );
}

function Quota(props: { projectId: string }) {
  const quota = useLoad(() => fetchQuota(props.projectId), [props.projectId]);
  const q: QuotaStatus | undefined = quota.data;
  return (
    <Card title="Quota">
      <ErrorNote error={quota.error} />
      {!q && quota.loading && <Spinner />}
      {q && (
        <>
          <QuotaBar label="Today (UTC)" window={q.daily} />
          <QuotaBar label="This month (UTC)" window={q.monthly} />
          <dl class="stats">
            <div>
              <dt>Requests per minute, per key</dt>
              <dd>{q.limits.rpm === null ? 'no limit' : formatNumber(q.limits.rpm)}</dd>
            </div>
            <div>
              <dt>Tokens per minute, per key</dt>
              <dd>{q.limits.tpm === null ? 'no limit' : formatNumber(q.limits.tpm)}</dd>
            </div>
          </dl>
        </>
      )}
    </Card>
  );
}

const NUMBER_HEADINGS = ['Requests', 'Input tokens', 'Output tokens', 'Credits', 'US dollars'];

/** A table of groups, each with a bar of its share of the credits. */
function GroupTable(props: {
  title: string;
  nameHeading: string;
  groups: UsageGroup[];
  name: (g: UsageGroup) => ComponentChildren;
  empty: string;
}) {
  const max = Math.max(0, ...props.groups.map((g) => g.credits));
  return (
    <Card title={props.title}>
      {props.groups.length === 0 ? (
        <p class="muted">{props.empty}</p>
      ) : (
        <div class="table-wrap">
          <table aria-label={props.title}>
            <thead>
              <tr>
                <th scope="col">{props.nameHeading}</th>
                {NUMBER_HEADINGS.map((h) => (
                  <th scope="col" class="num" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.groups.map((g) => (
                <tr key={g.key ?? ''}>
                  <th scope="row">{props.name(g)}</th>
                  <td class="num">{formatNumber(g.requests)}</td>
                  <td class="num">{formatNumber(g.input_tokens)}</td>
                  <td class="num">{formatNumber(g.output_tokens)}</td>
                  <td class="num">
                    {formatCredits(g.credits)}
                    <span class="share" aria-hidden="true">
                      <span style={{ width: `${max > 0 ? ((g.credits / max) * 100).toFixed(1) : 0}%` }} />
                    </span>
                  </td>
                  <td class="num">{formatUsd(g.usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function keyName(g: UsageGroup): ComponentChildren {
  if (g.key === null) return <span class="muted">Signed-in users</span>;
  return (
    <>
      {g.api_key_name ?? 'Deleted key'} {g.api_key_prefix && <code class="key-prefix">{g.api_key_prefix}…</code>}
    </>
  );
}

function Charts(props: { report: UsageReport }) {
  const { report } = props;
  const daily = useMemo(() => dailyByModel(report.groups, report), [report]);
  const range = `${report.from} to ${report.to} (UTC)`;
  return (
    <div class="usage-charts">
      <Card>
        <Chart
          title="Credits per day"
          description={`Bars stacked by model, ${range}.`}
          xKind="day"
          x={daily.x}
          series={daily.credits}
          stacked
          format={formatCredits}
        />
      </Card>
      <Card>
        <Chart
          title="Tokens per day"
          description={`Input and output tokens, bars stacked by model, ${range}.`}
          xKind="day"
          x={daily.x}
          series={daily.tokens}
          stacked
          format={(v) => formatNumber(v)}
        />
      </Card>
    </div>
  );
}

function CsvExport(props: { projectId: string; range: DayRange }) {
  const [groupBy, setGroupBy] = useState<UsageGrouping>('day');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      setSaved(await downloadUsageCsv(props.projectId, props.range, groupBy));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="csv-export">
      <div class="row">
        <Field label="CSV rows by">
          {(id) => (
            <select id={id} value={groupBy} onChange={(e) => setGroupBy(e.currentTarget.value as UsageGrouping)}>
              {CSV_GROUPINGS.map((g) => (
                <option key={g.value} value={g.value}>
                  {g.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div class="field">
          <button type="button" onClick={() => void run()} disabled={busy}>
            {busy ? 'Exporting…' : 'Export CSV'}
          </button>
        </div>
      </div>
      <p class="sr-status" aria-live="polite">
        {saved && `Saved ${saved}`}
      </p>
      <ErrorNote error={error} />
    </div>
  );
}

function Report(props: { projectId: string; range: DayRange }) {
  const { projectId, range } = props;
  const reports = useLoad(async (): Promise<Reports> => {
    const [daily, byModel, byKey] = await Promise.all([
      fetchUsage(projectId, range, 'day_model'),
      fetchUsage(projectId, range, 'model'),
      fetchUsage(projectId, range, 'api_key'),
    ]);
    return { daily, byModel, byKey };
  }, [projectId, range.from, range.to]);
  const r = reports.data;
  return (
    <div aria-busy={reports.loading}>
      <ErrorNote error={reports.error} />
      {!r && reports.loading && <Spinner label="Reading the usage…" />}
      {r && (
        <>
          <div class="usage-top">
            <Totals totals={r.byModel.totals} />
            <Quota projectId={projectId} />
          </div>
          <Charts report={r.daily} />
          <div class="usage-tables">
            <GroupTable
              title="By model"
              nameHeading="Model"
              groups={r.byModel.groups}
              name={(g) => (g.key === null ? <span class="muted">{NO_MODEL}</span> : <code>{g.key}</code>)}
              empty="No requests in this range."
            />
            <GroupTable
              title="By API key"
              nameHeading="API key"
              groups={r.byKey.groups}
              name={keyName}
              empty="No requests in this range."
            />
          </div>
        </>
      )}
    </div>
  );
}

export function UsagePage() {
  const { me, projectId } = useSession();
  const [range, setRange] = useState<DayRange>(() => lastDays(30));
  const project = me?.projects.find((p) => p.id === projectId);
  return (
    <Page title={ROUTES.usage.title} actions={projectId && <CsvExport projectId={projectId} range={range} />}>
      {!projectId ? (
        <p class="note">
          No project yet: create one on <a href={ROUTES.projects.path}>{ROUTES.projects.title}</a>.
        </p>
      ) : (
        <>
          <Card>
            <p class="usage-project">
              Project <strong>{project?.name ?? projectId}</strong>
            </p>
            <RangeForm range={range} onChange={setRange} />
          </Card>
          <Report projectId={projectId} range={range} />
        </>
      )}
    </Page>
  );
}
