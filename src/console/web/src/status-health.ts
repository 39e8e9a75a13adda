/** What the status page reads from `GET /health` (public), and the rows of its tables. */
import { api } from './api';

export type ServiceStatus = 'healthy' | 'degraded' | 'unhealthy';
export type BreakerState = 'closed' | 'half_open' | 'open';

/**
 * A provider instance (from its background probe) or a remote worker (from its last call; ML:
 * `<model>@<version>`, forecasting: `forecast-remote`), and its breaker.
 */
export interface WorkerHealth {
  id: string;
  url: string;
  status: ServiceStatus;
  breaker: BreakerState;
  latency_ms: number | null;
  last_checked: string | null;
}

export interface InstanceHealth extends WorkerHealth {
  /** The models this instance serves (when the server reports them per instance). */
  models?: string[];
}

export interface ServiceHealth {
  status: ServiceStatus;
  url: string;
  available_models: string[];
  total_models: number;
  instances: InstanceHealth[];
}

export interface HealthSummary {
  status: 'healthy' | 'degraded' | 'draining';
  ok: boolean;
  version: string;
  uptime_seconds: number;
  models_loaded: number;
  services: Record<string, ServiceHealth>;
  /** Remote workers by module (`ml`, `forecasting`); absent from older servers. */
  workers?: Record<string, WorkerHealth[]>;
  timestamp: string;
  dependencies: Record<string, Record<string, unknown>>;
}

export function fetchHealth(signal?: AbortSignal): Promise<HealthSummary> {
  return api<HealthSummary>('/health', { signal });
}

/** A row of the page's tables: a dependency, a provider instance or a remote worker. */
export interface HealthRow {
  name: string;
  status: string | null;
  mode: string | null;
  url: string | null;
  breaker: string | null;
  latencyMs: number | null;
  checkedAt: string | null;
  models: string[];
  reason: string | null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Postgres and Redis (`database`, `redis`): `{status, mode, latency_ms?, reason?, checked_at?}`. */
export function dependencyRows(health: HealthSummary): HealthRow[] {
  return Object.entries(health.dependencies ?? {}).map(([name, d]) => ({
    name,
    status: text(d.status),
    mode: text(d.mode),
    url: null,
    breaker: null,
    latencyMs: num(d.latency_ms),
    // Until the server dated each check, the answer's time.
    checkedAt: text(d.checked_at) ?? health.timestamp,
    models: [],
    reason: text(d.reason),
  }));
}

export function upstreamRow(u: InstanceHealth): HealthRow {
  return {
    name: u.id,
    status: u.status,
    mode: null,
    url: u.url,
    breaker: u.breaker,
    latencyMs: u.latency_ms,
    checkedAt: u.last_checked,
    models: u.models ?? [],
    reason: null,
  };
}

/** "3 d 4 h", "2 h 05 min", "4 min 10 s". */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes > 0) return `${minutes} min ${s % 60} s`;
  return `${s} s`;
}
