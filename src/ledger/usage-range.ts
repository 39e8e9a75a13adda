import { AppError } from '../common/errors/app-error';

export const USAGE_GROUPINGS = ['day', 'model', 'provider', 'api_key', 'day_model'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

export const USAGE_FORMATS = ['json', 'csv'] as const;
export type UsageFormat = (typeof USAGE_FORMATS)[number];

/** Longest range a report may cover, both ends included. */
export const MAX_RANGE_DAYS = 366;
/** The range when none is given: the last 30 days, today included. */
export const DEFAULT_RANGE_DAYS = 30;

const DAY_MS = 86_400_000;
const DAY_FORMAT = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface UsageRange {
  /** First day, `YYYY-MM-DD` (UTC), included. */
  from: string;
  /** Last day, `YYYY-MM-DD` (UTC), included. */
  to: string;
  /** `from` at 00:00 UTC. */
  start: Date;
  /** The day after `to` at 00:00 UTC (exclusive bound). */
  end: Date;
}

/** The UTC midnight of a real calendar day written `YYYY-MM-DD`, or null. */
export function parseDay(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const match = DAY_FORMAT.exec(value);
  if (!match) return null;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? date : null;
}

export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `Request is invalid: ${field}: ${message}`, {
    details: [{ field, messages: [message] }],
  });
}

/**
 * Resolves the optional `from`/`to` (already checked to be calendar days) against
 * `now`: `to` defaults to today (UTC), `from` to 29 days before `to`. Refuses a
 * range that ends before it starts or covers more than MAX_RANGE_DAYS days.
 */
export function resolveUsageRange(query: { from?: string; to?: string }, now: Date = new Date()): UsageRange {
  const to = query.to === undefined ? parseDay(formatDay(now)) : parseDay(query.to);
  if (!to) throw invalid('to', 'must be a calendar day YYYY-MM-DD');
  const from = query.from === undefined ? addDays(to, 1 - DEFAULT_RANGE_DAYS) : parseDay(query.from);
  if (!from) throw invalid('from', 'must be a calendar day YYYY-MM-DD');
  if (from > to) throw invalid('from', 'must not be after to');
  const days = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
  if (days > MAX_RANGE_DAYS)
    throw invalid('to', `the range covers ${days} days, at most ${MAX_RANGE_DAYS} are allowed`);
  return { from: formatDay(from), to: formatDay(to), start: from, end: addDays(to, 1) };
}
