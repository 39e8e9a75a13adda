/**
 * What the usage page reads (`GET /projects/:id/usage`, `GET /projects/:id/quota`) and how it is
 * shaped for its charts and tables.
 */
import { api, call } from './api';
import type { ChartSeries } from './chart';
import { formatNumber } from './ui';

export interface UsageNumbers {
  requests: number;
  attempts: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  reasoning_tokens: number;
  credits: number;
  usd: number;
}

export interface UsageGroup extends UsageNumbers {
  key: string | null;
  /** day_model only. */
  model?: string | null;
  /** api_key only. */
  api_key_name?: string | null;
  api_key_prefix?: string | null;
}

export type UsageGrouping = 'day' | 'model' | 'provider' | 'api_key' | 'day_model';

export interface UsageReport {
  project_id: string;
  from: string;
  to: string;
  group_by: UsageGrouping;
  totals: UsageNumbers;
  groups: UsageGroup[];
}

export interface QuotaWindow {
  limit: number | null;
  spent: number;
  reserved: number;
  remaining: number | null;
  resets_at: string;
}

export interface QuotaStatus {
  project_id: string;
  limits: { daily_credits: number | null; monthly_credits: number | null; rpm: number | null; tpm: number | null };
  daily: QuotaWindow;
  monthly: QuotaWindow;
}

export interface DayRange {
  /** YYYY-MM-DD (UTC), included. */
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The last `days` UTC days, today included (as the API counts them). */
export function lastDays(days: number, now = Date.now()): DayRange {
  return { from: day(now - (days - 1) * DAY_MS), to: day(now) };
}

/** Every day of the range, as unix seconds at 00:00 UTC. */
export function daysOf(range: DayRange): number[] {
  const start = Date.parse(`${range.from}T00:00:00Z`);
  const end = Date.parse(`${range.to}T00:00:00Z`);
  const days: number[] = [];
  for (let t = start; t <= end && days.length <= 366; t += DAY_MS) days.push(t / 1000);
  return days;
}

function usagePath(projectId: string, range: DayRange, groupBy: UsageGrouping, format?: 'csv'): string {
  const query = new URLSearchParams({ from: range.from, to: range.to, group_by: groupBy });
  if (format) query.set('format', format);
  return `/projects/${encodeURIComponent(projectId)}/usage?${query.toString()}`;
}

export function fetchUsage(projectId: string, range: DayRange, groupBy: UsageGrouping): Promise<UsageReport> {
  return api<UsageReport>(usagePath(projectId, range, groupBy));
}

export function fetchQuota(projectId: string): Promise<QuotaStatus> {
  return api<QuotaStatus>(`/projects/${encodeURIComponent(projectId)}/quota`);
}

/** The file name the server gives (Content-Disposition), else one made here. */
function fileNameOf(res: Response, fallback: string): string {
  const match = /filename="?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') ?? '');
  return match ? match[1] : fallback;
}

/** Downloads the report as CSV: fetched with the session's token, saved through a temporary link. */
export async function downloadUsageCsv(projectId: string, range: DayRange, groupBy: UsageGrouping): Promise<string> {
  const res = await call(usagePath(projectId, range, groupBy, 'csv'), { headers: { Accept: 'text/csv' } });
  const name = fileNameOf(res, `usage-${projectId}-${range.from}-${range.to}.csv`);
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    // The download has taken the data by the next task.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  return name;
}

/** Credits: whole numbers from 100, else up to 4 decimals (a request often costs a fraction). */
export function formatCredits(value: number): string {
  return formatNumber(value, Math.abs(value) >= 100 ? 0 : 4);
}

export function formatUsd(value: number): string {
  return `$${formatNumber(value, Math.abs(value) >= 100 ? 2 : 4)}`;
}

export const NO_MODEL = '(no model)';
const OTHER_MODELS = 'Other models';
/** Models shown on their own in the charts; the rest are added up. */
const CHART_MODELS = 6;

export interface DailyByModel {
  x: number[];
  credits: ChartSeries[];
  tokens: ChartSeries[];
}

/**
 * Per-day-and-model groups as stacked bars: one series per model (the biggest by credits, the others
 * together), a value for every day of the range (0 when none).
 */
export function dailyByModel(groups: UsageGroup[], range: DayRange): DailyByModel {
  const x = daysOf(range);
  const index = new Map(x.map((t, i) => [day(t * 1000), i]));
  const credits = new Map<string, number>();
  for (const g of groups) {
    const name = g.model ?? NO_MODEL;
    credits.set(name, (credits.get(name) ?? 0) + g.credits);
  }
  const ranked = [...credits.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([m]) => m);
  const shown = ranked.length > CHART_MODELS + 1 ? ranked.slice(0, CHART_MODELS) : ranked;
  const names = shown.length < ranked.length ? [...shown, OTHER_MODELS] : shown;
  const series = (kind: 'credits' | 'tokens'): ChartSeries[] => {
    const values = names.map(() => x.map(() => 0));
    for (const g of groups) {
      const i = index.get(g.key ?? '');
      if (i === undefined) continue;
      const name = g.model ?? NO_MODEL;
      const s = shown.includes(name) ? names.indexOf(name) : names.length - 1;
      values[s][i] += kind === 'credits' ? g.credits : g.input_tokens + g.output_tokens;
    }
    return names.map((label, s) => ({ label, values: values[s], kind: 'bars' }));
  };
  return { x, credits: series('credits'), tokens: series('tokens') };
}
