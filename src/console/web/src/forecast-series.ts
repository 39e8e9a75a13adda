/**
 * The forecast playground's input: a series pasted or uploaded as one number per line, or as CSV
 * (with or without a header) with a value column and, optionally, a time column. Empty cells and
 * NA/NaN/null mark missing values, which the server imputes.
 */

export interface ParsedSeries {
  values: (number | null)[];
  /** Times of the observations (ms since epoch), when a time column was found. */
  times: number[] | null;
  /** The columns a value may be read from (empty for one number per line). */
  columns: string[];
  /** The column the values were read from. */
  valueColumn: string | null;
  timeColumn: string | null;
}

export class SeriesError extends Error {}

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '-']);
/** Column names taken as the value without being chosen. */
const VALUE_NAMES = ['value', 'y', 'target', 'observation', 'count', 'amount'];

function isMissing(cell: string): boolean {
  return MISSING.has(cell.trim().toLowerCase());
}

function asNumber(cell: string): number | null {
  const text = cell.trim();
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** A date or time (ISO 8601 and the like): never a bare number. */
function asTime(cell: string): number | null {
  const text = cell.trim();
  if (!/^\d{4}[-/]\d{1,2}([-/]\d{1,2})?([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    return null;
  }
  const t = Date.parse(text.length === 7 ? `${text}-01` : text.replace(' ', 'T'));
  return Number.isNaN(t) ? null : t;
}

function unquote(cell: string): string {
  const t = cell.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
}

function delimiterOf(lines: string[]): string | null {
  for (const d of ['\t', ';', ',']) if (lines.some((l) => l.includes(d))) return d;
  return null;
}

/** Reads a series; `valueColumn` picks the CSV column when there are several. */
export function parseSeries(text: string, valueColumn?: string | null): ParsedSeries {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new SeriesError('The series is empty: paste numbers, one per line, or CSV');
  const delimiter = delimiterOf(lines);
  if (delimiter === null) {
    const values = lines.map((line, i) => {
      if (isMissing(line)) return null;
      const n = asNumber(line);
      if (n === null) throw new SeriesError(`Line ${i + 1}: “${line.trim()}” is not a number`);
      return n;
    });
    return checked({ values, times: null, columns: [], valueColumn: null, timeColumn: null });
  }
  const rows = lines.map((l) => l.split(delimiter).map(unquote));
  const first = rows[0];
  const header = first.some((c) => !isMissing(c) && asNumber(c) === null && asTime(c) === null);
  const width = Math.max(...rows.map((r) => r.length));
  const names = Array.from({ length: width }, (_, i) => (header && first[i] ? first[i] : `column ${i + 1}`));
  const body = header ? rows.slice(1) : rows;
  const lineOf = (i: number): number => i + 1 + (header ? 1 : 0);
  if (body.length === 0) throw new SeriesError('The CSV has a header but no rows');
  const cells = (c: number): string[] => body.map((r) => r[c] ?? '');
  const timeIndex = names.findIndex((_, c) => cells(c).every((cell) => asTime(cell) !== null));
  const numeric = names
    .map((_, c) => c)
    .filter((c) => c !== timeIndex && cells(c).every((cell) => isMissing(cell) || asNumber(cell) !== null));
  let valueIndex = valueColumn ? names.indexOf(valueColumn) : -1;
  if (valueIndex < 0) valueIndex = numeric.find((c) => VALUE_NAMES.includes(names[c].toLowerCase())) ?? -1;
  if (valueIndex < 0) valueIndex = numeric[numeric.length - 1] ?? -1;
  if (valueIndex < 0) {
    const bad = body.findIndex((r) =>
      r.some((cell, c) => c !== timeIndex && asNumber(cell) === null && !isMissing(cell)),
    );
    throw new SeriesError(`Line ${lineOf(Math.max(bad, 0))}: no column holds numbers`);
  }
  const values = cells(valueIndex).map((cell, i) => {
    if (isMissing(cell)) return null;
    const n = asNumber(cell);
    if (n === null) throw new SeriesError(`Line ${lineOf(i)}: “${cell}” in ${names[valueIndex]} is not a number`);
    return n;
  });
  const times = timeIndex >= 0 ? cells(timeIndex).map((cell) => asTime(cell)!) : null;
  return checked({
    values,
    times,
    columns: names.filter((_, c) => c !== timeIndex),
    valueColumn: names[valueIndex],
    timeColumn: timeIndex >= 0 ? names[timeIndex] : null,
  });
}

function checked(series: ParsedSeries): ParsedSeries {
  if (!series.values.some((v) => v !== null)) throw new SeriesError('The series has no observed value');
  return series;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Months from one time to the next when both fall on the same day and time of a month; else null. */
function monthsBetween(from: number, to: number): number | null {
  const a = new Date(from);
  const b = new Date(to);
  if (a.getUTCDate() !== b.getUTCDate() || from % 86_400_000 !== to % 86_400_000) return null;
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
}

/**
 * The times of the next `horizon` steps: the observations' usual step, continued. Calendar data
 * (monthly, quarterly, yearly: the same day of the month each time) steps by months, the rest by
 * the median interval.
 */
export function futureTimes(times: number[], horizon: number): number[] | null {
  if (times.length < 2) return null;
  const last = times[times.length - 1];
  const months = times.slice(1).map((t, i) => monthsBetween(times[i], t));
  if (months.every((m) => m !== null && m > 0)) {
    const step = median(months as number[]);
    return Array.from({ length: horizon }, (_, i) => {
      const d = new Date(last);
      d.setUTCMonth(d.getUTCMonth() + step * (i + 1));
      return d.getTime();
    });
  }
  const step = median(times.slice(1).map((t, i) => t - times[i]));
  if (!(step > 0)) return null;
  return Array.from({ length: horizon }, (_, i) => last + step * (i + 1));
}

/** Quantile levels typed as "0.1, 0.5, 0.9": sorted, each strictly between 0 and 1. */
export function parseQuantiles(text: string): number[] {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const levels = parts.map((p) => {
    const q = Number(p);
    if (!Number.isFinite(q) || q <= 0 || q >= 1) {
      throw new SeriesError(`Quantile “${p}” must be a number strictly between 0 and 1`);
    }
    return q;
  });
  return [...new Set(levels)].sort((a, b) => a - b);
}
