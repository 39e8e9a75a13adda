/**
 * Frequencies and timestamps of KServe's time-series protocol: the frequency codes it accepts, what
 * each means for the seasonal period, and the start of a forecast (`start_timestamp` advanced by the
 * series' length, in calendar months for M, Q and Y, as KServe's reference server computes it).
 */
import { type Frequency } from './engines/prepare';

export const TIME_SERIES_TYPES = ['univariate_time_series', 'multivariate_time_series'] as const;
export type TimeSeriesType = (typeof TIME_SERIES_TYPES)[number];

/** One step of each frequency code: a fixed duration, or calendar months. */
type Step = { readonly ms: number } | { readonly months: number };

interface FrequencyUnit {
  readonly step: Step;
  /** The /forecast frequency with the same seasonal period; none for seconds and minutes (detected). */
  readonly frequency?: Frequency;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const UNITS: Record<string, FrequencyUnit> = {
  S: { step: { ms: 1000 } },
  T: { step: { ms: 60_000 } },
  H: { step: { ms: HOUR_MS }, frequency: 'hourly' },
  D: { step: { ms: DAY_MS }, frequency: 'daily' },
  W: { step: { ms: 7 * DAY_MS }, frequency: 'weekly' },
  M: { step: { months: 1 }, frequency: 'monthly' },
  Q: { step: { months: 3 }, frequency: 'quarterly' },
  Y: { step: { months: 12 }, frequency: 'yearly' },
};

const LONG_NAMES: Record<string, string> = {
  second: 'S',
  minute: 'T',
  hour: 'H',
  day: 'D',
  week: 'W',
  month: 'M',
  quarter: 'Q',
  year: 'Y',
};

/**
 * The frequency codes accepted: the reference server's values (`second`, `S`, … `year`, `Y`) and the
 * upper-case names the documentation lists (`SECOND`, … `YEAR`).
 */
export const KSERVE_FREQUENCIES: readonly string[] = [
  ...Object.entries(LONG_NAMES).flatMap(([name, code]) => [name, name.toUpperCase(), code]),
];

function unitOf(code: string): FrequencyUnit | undefined {
  return UNITS[LONG_NAMES[code.toLowerCase()] ?? code];
}

/** The /forecast frequency (seasonal period) of a KServe frequency code; undefined: to be detected. */
export function frequencyOf(code: string): Frequency | undefined {
  return unitOf(code)?.frequency;
}

/** The KServe code of a /forecast frequency (the remote worker is told the series' frequency). */
export function kserveFrequencyOf(frequency: Frequency): string {
  return Object.entries(UNITS).find(([, unit]) => unit.frequency === frequency)![0];
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A timestamp's wall-clock time (as UTC milliseconds) and how it was written, to write the result alike. */
interface Parsed {
  readonly wall: number;
  readonly dateOnly: boolean;
  readonly fraction: boolean;
  readonly zone: string;
}

function parse(text: string): Parsed | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0));
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const date = new Date(wall);
  // Refuses 2025-02-30, 24:00 and the like: the fields must survive the round trip.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  const zone = m[8] === undefined ? '' : m[8].toUpperCase() === 'Z' ? 'Z' : normaliseOffset(m[8]);
  return { wall, dateOnly: m[4] === undefined, fraction: m[7] !== undefined, zone };
}

function normaliseOffset(offset: string): string {
  const digits = offset.slice(1).replace(':', '');
  return `${offset[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
}

/** True for an ISO 8601 date (2025-06-05) or date-time (2025-06-05T13:10:00Z, with or without an offset). */
export function isTimestamp(text: string): boolean {
  return parse(text) !== undefined;
}

function addMonths(wall: number, months: number): number {
  const date = new Date(wall);
  const total = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  // The day of month is kept, clamped to the target month's length (31 January + 1 month = 28 February).
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const time = wall - Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return Date.UTC(year, month, Math.min(date.getUTCDate(), lastDay)) + time;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function format(wall: number, like: Parsed): string {
  const d = new Date(wall);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const midnight = wall % DAY_MS === 0;
  if (like.dateOnly && midnight) return date;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const fraction = like.fraction ? `.${pad(d.getUTCMilliseconds(), 3)}` : '';
  return `${date}T${time}${fraction}${like.zone}`;
}

/**
 * The time of the first forecast step: `start` advanced by `steps` steps of `frequency`, written like
 * `start` (same offset; a date stays a date when the result falls on midnight). Wall-clock arithmetic
 * in the given offset, as the reference server does with Python's datetime.
 */
export function advance(start: string, frequency: string, steps: number): string {
  const parsed = parse(start);
  const unit = unitOf(frequency);
  if (!parsed || !unit) throw new Error(`cannot advance ${start} by ${frequency}`);
  const step = unit.step;
  const wall = 'ms' in step ? parsed.wall + step.ms * steps : addMonths(parsed.wall, step.months * steps);
  return format(wall, parsed);
}
