/**
 * What the status page reads from `GET /health` (public), and how its loosely typed parts (the
 * dependencies and the model workers) are turned into rows.
 */
import { api } from './api';

export type ServiceStatus = 'healthy' | 'degraded' | 'unhealthy';
export type BreakerState = 'closed' | 'half_open' | 'open';

export interface InstanceHealth {
  id: string;
  url: string;
  status: ServiceStatus;
  breaker: BreakerState;
  latency_ms: number | null;
  last_checked: string | null;
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
  timestamp: string;
  dependencies: Record<string, Record<string, unknown>>;
  /** ML remote workers and remote forecasters, when the server reports them. */
  workers?: unknown;
}

export function fetchHealth(signal?: AbortSignal): Promise<HealthSummary> {
  return api<HealthSummary>('/health', { signal });
}

/** One row of a table of the page: every field optional, read defensively from the answer. */
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

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A row from an object of the answer; `name` when it names nothing itself. */
export function rowOf(value: Record<string, unknown>, name: string): HealthRow {
  const model = text(value.model);
  const version = text(value.version);
  const models = strings(value.models);
  if (models.length === 0 && model) models.push(version ? `${model}@${version}` : model);
  return {
    name: text(value.id) ?? text(value.name) ?? name,
    status: text(value.status) ?? text(value.state),
    mode: text(value.mode) ?? text(value.kind) ?? text(value.protocol),
    url: text(value.url),
    breaker: text(value.breaker),
    latencyMs: num(value.latency_ms),
    checkedAt: text(value.checked_at) ?? text(value.last_checked),
    models,
    reason: text(value.reason) ?? text(value.error),
  };
}

export function instanceRow(i: InstanceHealth): HealthRow {
  return {
    name: i.id,
    status: i.status,
    mode: null,
    url: i.url,
    breaker: i.breaker,
    latencyMs: i.latency_ms,
    checkedAt: i.last_checked,
    models: i.models ?? [],
    reason: null,
  };
}

/** Postgres and Redis (`database`, `redis`), in the order the server gives. */
export function dependencyRows(health: HealthSummary): HealthRow[] {
  return Object.entries(health.dependencies ?? {}).map(([name, value]) => {
    const row = rowOf(isRecord(value) ? value : {}, name);
    return { ...row, name };
  });
}

export interface WorkerGroup {
  name: string;
  rows: HealthRow[];
}

/**
 * The model workers, grouped: `{ml: [...], forecasters: [...]}` (lists or objects by id), or one list.
 * Nothing when the answer has no workers.
 */
export function workerGroups(workers: unknown): WorkerGroup[] {
  const rowsOf = (value: unknown): HealthRow[] => {
    if (Array.isArray(value)) return value.filter(isRecord).map((w, i) => rowOf(w, `#${i + 1}`));
    if (isRecord(value)) {
      const entries = Object.entries(value);
      if (entries.every(([, w]) => isRecord(w)))
        return entries.map(([id, w]) => rowOf(w as Record<string, unknown>, id));
      return [rowOf(value, 'worker')];
    }
    return [];
  };
  if (Array.isArray(workers)) return [{ name: 'Workers', rows: rowsOf(workers) }];
  if (!isRecord(workers)) return [];
  return Object.entries(workers).map(([name, value]) => ({ name, rows: rowsOf(value) }));
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
