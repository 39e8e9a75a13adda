/** Calendar windows of the credit budgets (UTC) and the one-minute windows of rpm/tpm. */

export const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Counters outlive their window by this much, so that a late settle still finds them. */
export const WINDOW_GRACE_MS = DAY_MS;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

export interface BudgetWindows {
  day: string;
  month: string;
  /** When each window ends (ms since epoch), i.e. when it resets. */
  dayEndsAt: number;
  monthEndsAt: number;
}

export interface MinuteWindow {
  index: number;
  endsAt: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The day (`YYYY-MM-DD`) and month (`YYYY-MM`) windows containing `now`. */
export function budgetWindowsAt(now: number): BudgetWindows {
  const date = new Date(now);
  const month = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}`;
  return budgetWindowsOf(`${month}-${pad(date.getUTCDate())}`, month);
}

/** The windows a reservation was made in; throws on a malformed day or month. */
export function budgetWindowsOf(day: string, month: string): BudgetWindows {
  const d = DAY.exec(day);
  const m = MONTH.exec(month);
  if (!d || !m) throw new TypeError(`Malformed quota window: ${day} / ${month}`);
  return {
    day,
    month,
    dayEndsAt: Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]) + 1),
    monthEndsAt: Date.UTC(Number(m[1]), Number(m[2]), 1),
  };
}

/** The fixed one-minute window of rpm/tpm containing `now`. */
export function minuteWindowAt(now: number): MinuteWindow {
  const index = Math.floor(now / MINUTE_MS);
  return { index, endsAt: (index + 1) * MINUTE_MS };
}
