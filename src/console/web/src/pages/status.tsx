import type { ComponentChildren } from 'preact';
import { ApiError } from '../api';
import { ROUTES } from '../routes';
import {
  dependencyRows,
  fetchHealth,
  formatUptime,
  type HealthRow,
  type HealthSummary,
  type ServiceHealth,
  upstreamRow,
  type WorkerHealth,
} from '../status-health';
import { usePolling } from '../status-polling';
import { Card, ErrorNote, formatNumber, formatTime, Page, Spinner } from '../ui';

/** How often the page reads /health again. */
export const STATUS_REFRESH_MS = 30_000;

/** Names people know the services by. */
const SERVICE_TITLES: Record<string, string> = {
  ollama: 'Ollama',
  vllm: 'vLLM (self-hosted)',
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  database: 'Postgres',
  redis: 'Redis',
  ml: 'ML remote workers',
  forecasting: 'Remote forecasters',
};

/** The setting that declares each kind of remote worker. */
const WORKER_SETTINGS: Record<string, string> = { ml: 'ML_REMOTE_WORKERS', forecasting: 'FORECAST_REMOTE_URL' };

function titleOf(name: string): string {
  return SERVICE_TITLES[name] ?? name.replace(/_/g, ' ');
}

function StateBadge(props: { state: string | null | undefined }) {
  if (!props.state) return <span class="muted">—</span>;
  return <span class={`badge ${props.state}`}>{props.state.replace(/_/g, ' ')}</span>;
}

function Latency(props: { ms: number | null }) {
  return <>{props.ms === null ? '—' : `${formatNumber(props.ms)} ms`}</>;
}

function CheckedAt(props: { at: string | null }) {
  if (!props.at) return <>—</>;
  return <time dateTime={props.at}>{formatTime(props.at)}</time>;
}

function Models(props: { models: string[] }) {
  if (props.models.length === 0) return <span class="muted">—</span>;
  return (
    <ul class="chips">
      {props.models.map((m) => (
        <li key={m}>
          <code>{m}</code>
        </li>
      ))}
    </ul>
  );
}

function Table(props: { label: string; head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="status-table" aria-label={props.label}>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col" key={h} class={/latency/i.test(h) ? 'num' : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

function Overview(props: { health: HealthSummary }) {
  const h = props.health;
  return (
    <Card title="Service">
      <dl class="stats">
        <div>
          <dt>Status</dt>
          <dd>
            <StateBadge state={h.status} />
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{h.version}</dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd>{formatUptime(h.uptime_seconds)}</dd>
        </div>
        <div>
          <dt>ML models loaded</dt>
          <dd>{formatNumber(h.models_loaded)}</dd>
        </div>
        <div>
          <dt>Server time</dt>
          <dd>
            <CheckedAt at={h.timestamp} />
          </dd>
        </div>
      </dl>
    </Card>
  );
}

function Dependencies(props: { health: HealthSummary }) {
  const rows = dependencyRows(props.health);
  return (
    <Card title="Dependencies">
      <Table label="Dependencies" head={['Dependency', 'State', 'Mode', 'Latency', 'Last check']}>
        {rows.map((d) => (
          <tr key={d.name}>
            <th scope="row">
              {titleOf(d.name)}
              {d.reason && <small class="reason">{d.reason}</small>}
            </th>
            <td>
              <StateBadge state={d.status} />
            </td>
            <td>{d.mode ?? '—'}</td>
            <td class="num">
              <Latency ms={d.latencyMs} />
            </td>
            <td>
              <CheckedAt at={d.checkedAt} />
            </td>
          </tr>
        ))}
      </Table>
    </Card>
  );
}

/** A provider instance or a model worker: state, breaker, latency, last check, and its models if shown. */
function UpstreamRow(props: { row: HealthRow; models: boolean }) {
  const r = props.row;
  return (
    <tr>
      <th scope="row">
        {r.name}
        {r.url && <small class="reason mono">{r.url}</small>}
        {r.reason && <small class="reason">{r.reason}</small>}
      </th>
      <td>
        <StateBadge state={r.status} />
      </td>
      <td>
        <StateBadge state={r.breaker} />
      </td>
      <td class="num">
        <Latency ms={r.latencyMs} />
      </td>
      <td>
        <CheckedAt at={r.checkedAt} />
      </td>
      {props.models && (
        <td>
          <Models models={r.models} />
        </td>
      )}
    </tr>
  );
}

function Service(props: { name: string; service: ServiceHealth }) {
  const s = props.service;
  // Each instance lists its models (older servers: only the service does).
  const perInstanceModels = s.instances.every((i) => Array.isArray(i.models));
  const head = ['Instance', 'State', 'Breaker', 'Probe latency', 'Last check'];
  if (perInstanceModels) head.push('Models');
  const title = titleOf(props.name);
  return (
    <section class="card" aria-label={title}>
      <header class="service-head">
        <h3>{title}</h3>
        <StateBadge state={s.status} />
        <span class="muted">{s.total_models === 1 ? '1 model' : `${formatNumber(s.total_models)} models`}</span>
      </header>
      <Table label={`${title} instances`} head={head}>
        {s.instances.map((i) => (
          <UpstreamRow key={i.id} row={upstreamRow(i)} models={perInstanceModels} />
        ))}
      </Table>
      {!perInstanceModels && (
        <div class="service-models">
          <span class="muted">Models:</span>
          <Models models={s.available_models} />
        </div>
      )}
    </section>
  );
}

function Workers(props: { name: string; workers: WorkerHealth[] }) {
  const title = titleOf(props.name);
  const setting = WORKER_SETTINGS[props.name];
  return (
    <section class="card" aria-label={title}>
      <h3 class="card-title">{title}</h3>
      {props.workers.length === 0 ? (
        <p class="muted">
          None configured
          {setting && (
            <>
              {' '}
              (<code>{setting}</code>)
            </>
          )}
          .
        </p>
      ) : (
        <Table label={title} head={['Worker', 'State', 'Breaker', 'Latency', 'Last call']}>
          {props.workers.map((w) => (
            <UpstreamRow key={w.id} row={upstreamRow(w)} models={false} />
          ))}
        </Table>
      )}
    </section>
  );
}

function Health(props: { health: HealthSummary }) {
  const services = Object.entries(props.health.services ?? {});
  const workers = Object.entries(props.health.workers ?? {});
  return (
    <>
      <div class="status-top">
        <Overview health={props.health} />
        <Dependencies health={props.health} />
      </div>
      <h2>Providers</h2>
      {services.length === 0 ? (
        <p class="muted">No upstream provider is configured.</p>
      ) : (
        services.map(([name, service]) => <Service key={name} name={name} service={service} />)
      )}
      {workers.length > 0 && (
        <>
          <h2>Model workers</h2>
          <div class="status-workers">
            {workers.map(([name, list]) => (
              <Workers key={name} name={name} workers={list} />
            ))}
          </div>
        </>
      )}
    </>
  );
}

/** A failed read says what is shown instead (the API's own errors keep their request id). */
function refreshError(error: unknown, hasData: boolean): Error {
  const reason = error instanceof Error ? error.message : String(error);
  const message = `The status could not be read: ${reason}.${hasData ? ' The last status read is shown.' : ''}`;
  if (error instanceof ApiError) return new ApiError(error.status, error.code, message, error.requestId);
  return new Error(message);
}

export function StatusPage() {
  const { data, error, loading, updatedAt, refresh } = usePolling(fetchHealth, STATUS_REFRESH_MS);
  const updated = updatedAt === null ? null : new Date(updatedAt).toISOString();
  return (
    <Page
      title={ROUTES.status.title}
      actions={
        <button type="button" class="secondary" onClick={refresh}>
          Refresh now
        </button>
      }
    >
      <p class="status-live" aria-live="polite">
        {data ? (
          <>
            Service <StateBadge state={data.status} />
            {' · '}last updated <CheckedAt at={updated} />
          </>
        ) : (
          loading && <Spinner label="Reading the status…" />
        )}
        <span class="muted"> (every {STATUS_REFRESH_MS / 1000} s while this tab is shown)</span>
      </p>
      <ErrorNote error={error && refreshError(error, data !== undefined)} />
      {data && <Health health={data} />}
    </Page>
  );
}
