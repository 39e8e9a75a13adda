import { LLM_KINDS, SHORT_KINDS, type RequestRecord } from './soak-load';

/** A period of the run whose answers are judged together: the calm baseline or one fault. */
export interface SoakWindow {
  name: string;
  /** What was done, for the table. */
  action: string;
  /** ms since the soak started. */
  start: number;
  /** End of the fault itself. */
  end: number;
  /** Requests started until this moment count for the window (the fault plus its recovery). */
  until: number;
  /** Which requests the bound applies to, and how their latency is read. */
  measure: 'short' | 'trickle';
  /** The bound in ms (undefined: reported only), and where it comes from. */
  boundMs?: number;
  basis: string;
}

/** Once a second: the machine's load and how late the soak's own event loop ran (load generator and fakes). */
export interface EnvSample {
  at: number;
  load1: number;
  clientLagMs: number;
}

export interface WindowFigures {
  window: SoakWindow;
  /** Mean 1-minute load average of the machine, and the worst lag of the soak's own event loop. */
  load?: number;
  clientLagMs?: number;
  requests: number;
  ok: number;
  status4xx: number;
  status5xx: number;
  noAnswer: number;
  p50?: number;
  p99?: number;
  max?: number;
  /** The figure compared with the bound: p99 of short answers, the longest trickling stream. */
  judged?: number;
  pass: boolean;
}

export interface Check {
  name: string;
  figure: string;
  bound: string;
  pass: boolean;
  detail?: string;
}

export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Latency of one answer: the whole JSON body, or a stream from request to its end. */
export function latency(record: RequestRecord): number | undefined {
  return record.end === undefined ? undefined : record.end - record.start;
}

export function windowFigures(window: SoakWindow, records: RequestRecord[], env: EnvSample[] = []): WindowFigures {
  const samples = env.filter((e) => e.at >= window.start && e.at < Math.max(window.until, window.end));
  const inWindow = records.filter((r) => r.start >= window.start && r.start < window.until);
  const measured = inWindow.filter((r) =>
    window.measure === 'short' ? SHORT_KINDS.has(r.kind) : r.kind === 'trickle',
  );
  const answered = measured.filter((r) => r.status !== undefined);
  const latencies = answered
    .map(latency)
    .filter((v): v is number => v !== undefined)
    .sort((a, b) => a - b);
  const p99 = percentile(latencies, 99);
  const max = latencies.at(-1);
  const judged = window.measure === 'short' ? p99 : max;
  return {
    window,
    load: samples.length === 0 ? undefined : samples.reduce((sum, e) => sum + e.load1, 0) / samples.length,
    clientLagMs: samples.length === 0 ? undefined : Math.max(...samples.map((e) => e.clientLagMs)),
    requests: measured.length,
    ok: measured.filter((r) => r.status !== undefined && r.status < 300).length,
    status4xx: measured.filter((r) => r.status !== undefined && r.status >= 400 && r.status < 500).length,
    status5xx: measured.filter((r) => r.status !== undefined && r.status >= 500).length,
    noAnswer: measured.filter((r) => r.status === undefined).length,
    p50: percentile(latencies, 50),
    p99,
    max,
    judged,
    pass: window.boundMs === undefined || judged === undefined || judged <= window.boundMs,
  };
}

/** Counts of answers by kind and status, for the summary. */
export function statusMix(records: RequestRecord[]): string[] {
  const counts = new Map<string, number>();
  for (const r of records) {
    const key = `${r.kind} ${r.status ?? 'none'}${r.error ? ` ${r.error}` : ''}${r.streamEnd ? ` ${r.streamEnd}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([key, n]) => `${key}: ${n}`);
}

export interface LedgerRowLite {
  request_id: string;
  attempt: number;
  status: string;
}

/**
 * The ledger invariant per answered LLM request: a 2xx answer has exactly one row for the
 * attempt that served it (X-Conflux-Attempts), a success row when the answer was complete,
 * and at most one success row in all; a non-2xx answer has no success row.
 */
export function ledgerViolations(records: RequestRecord[], rows: LedgerRowLite[]): Map<string, string[]> {
  const byRequest = new Map<string, LedgerRowLite[]>();
  for (const row of rows) {
    const list = byRequest.get(row.request_id) ?? [];
    list.push(row);
    byRequest.set(row.request_id, list);
  }
  const violations = new Map<string, string[]>();
  const add = (kind: string, id: string): void => {
    const list = violations.get(kind) ?? [];
    list.push(id);
    violations.set(kind, list);
  };
  for (const r of records) {
    if (!LLM_KINDS.has(r.kind) || r.status === undefined) continue;
    const own = byRequest.get(r.id) ?? [];
    const successes = own.filter((row) => row.status === 'success');
    if (r.status >= 300) {
      if (successes.length > 0) add(`success row for a ${r.status} answer`, r.id);
      continue;
    }
    if (successes.length > 1) add('more than one success row', r.id);
    const served = own.filter((row) => row.attempt === r.attempts);
    if (served.length === 0) {
      add('2xx answer without its ledger row', r.id);
      continue;
    }
    const complete = r.kind === 'chat' || r.streamEnd === 'done';
    if (complete && served[0].status !== 'success') add('complete answer billed as an error', r.id);
  }
  return violations;
}

// ---------------------------------------------------------------- printing

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${Math.round(value)} ms`;
}

export function seconds(valueMs: number): string {
  return `${(valueMs / 1000).toFixed(1)} s`;
}

export function windowTable(figures: WindowFigures[]): string {
  return table(
    [
      'window',
      'action',
      'from-to',
      'load avg',
      'client lag',
      'requests',
      '2xx',
      '4xx',
      '5xx',
      'no answer',
      'p50',
      'p99',
      'max',
      'bound',
      'verdict',
    ],
    figures.map((f) => [
      f.window.name,
      f.window.action,
      `${seconds(f.window.start)}-${seconds(f.window.until)}`,
      f.load === undefined ? '-' : f.load.toFixed(1),
      ms(f.clientLagMs),
      String(f.requests),
      String(f.ok),
      String(f.status4xx),
      String(f.status5xx),
      String(f.noAnswer),
      ms(f.p50),
      ms(f.p99),
      ms(f.max),
      f.window.boundMs === undefined
        ? '-'
        : `${f.window.measure === 'short' ? 'p99' : 'max'} <= ${ms(f.window.boundMs)}`,
      f.window.boundMs === undefined ? 'info' : f.pass ? 'PASS' : 'FAIL',
    ]),
  );
}

export function checkTable(checks: Check[]): string {
  return table(
    ['assertion', 'figure', 'bound', 'verdict'],
    checks.map((c) => [c.name, c.figure, c.bound, c.pass ? 'PASS' : 'FAIL']),
  );
}

/** Spend of one project between the starts of consecutive phases; the last one also gets what was billed up to `lateMs` after the end. */
export function spendByPhase(
  timeline: { at: number; micro: number }[],
  phases: { name: string; start: number }[],
  endMs: number,
  lateMs: number,
): string[][] {
  return phases.map((phase, i) => {
    const until = i + 1 < phases.length ? phases[i + 1].start : endMs + lateMs;
    const billed = timeline.filter((e) => e.at >= phase.start && e.at < until);
    const credits = billed.reduce((sum, e) => sum + e.micro, 0) / 1e6;
    return [
      phase.name,
      `${seconds(phase.start)}-${seconds(Math.min(until, endMs))}`,
      String(billed.length),
      credits.toFixed(4),
    ];
  });
}

export function mb(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MB`;
}

export /** Messages of warn/error log lines with their counts, most frequent first. */
function logDigest(text: string): string {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 40) continue;
      const key = `${entry.level === 40 ? 'warn' : 'error'} "${entry.msg ?? ''}"${entry.err?.message ? `: ${entry.err.message.slice(0, 80)}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // not a JSON line
    }
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return top.length === 0 ? 'none' : top.map(([key, n]) => `${n} x ${key}`).join('\n     ');
}
