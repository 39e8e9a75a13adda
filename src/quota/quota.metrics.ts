import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { QuotaStore } from './quota.store';
import { budgetWindowsAt } from './quota-windows';

export const QUOTA_REJECTIONS = 'conflux_quota_rejections_total';
export const QUOTA_OUTAGE_ALLOWANCE_ACTIVE = 'conflux_quota_outage_allowance_active';
export const BUDGET_USED_RATIO = 'conflux_budget_used_ratio';
export const QUOTA_CREDITS = 'conflux_quota_credits_total';

/**
 * The quota stores of the process's applications, read at each scrape. One in production; several
 * applications in one process (tests) share the registry, and any of them on its allowance counts.
 */
const stores = new Set<QuotaStore>();

export const QUOTA_METRIC_PROVIDERS = [
  makeCounterProvider({
    name: QUOTA_REJECTIONS,
    help: 'Quota reservations refused, by reason: budget_daily, budget_monthly, rpm, tpm, redis_unavailable, quota_rebuilding, ledger_backlog',
    labelNames: ['reason'],
  }),
  makeGaugeProvider({
    name: QUOTA_OUTAGE_ALLOWANCE_ACTIVE,
    help: '1 while the quota store is unreachable and paid requests are decided on the per-instance outage allowance, else 0',
    collect(this: Gauge<string>) {
      let active = false;
      for (const store of stores) active ||= store.onOutageAllowance;
      this.set(active ? 1 : 0);
    },
  }),
  makeCounterProvider({
    name: QUOTA_CREDITS,
    help: 'Credits held by granted reservations (kind=reserved), then spent (settled) or given back (released), by project',
    labelNames: ['project', 'kind'],
  }),
  makeGaugeProvider({
    name: BUDGET_USED_RATIO,
    help:
      "Share of a project's credit budget committed (spent plus held) as its last paid reservation found it, " +
      'by project and window (daily, monthly); 0 once that window has ended; only projects with a limit',
    labelNames: ['project', 'window'],
    collect: endBudgetRatios,
  }),
];

type BudgetWindowName = 'daily' | 'monthly';

/** When each exported budget ratio was last set, so that a scrape after its window ended reads 0. */
const budgetRatios = new Map<string, { project: string; window: BudgetWindowName; at: number }>();

/** The collect of conflux_budget_used_ratio: the ratios whose window has ended read 0. */
export function endBudgetRatios(this: Gauge<string>): void {
  const now = Date.now();
  for (const [key, ratio] of budgetRatios) {
    if (windowEndOf(ratio.window, ratio.at) > now) continue;
    this.set({ project: ratio.project, window: ratio.window }, 0);
    budgetRatios.delete(key);
  }
}

function windowEndOf(window: BudgetWindowName, at: number): number {
  const windows = budgetWindowsAt(at);
  return window === 'daily' ? windows.dayEndsAt : windows.monthEndsAt;
}

/**
 * Sets conflux_budget_used_ratio for a project's window as of `now`. Without a later paid request the
 * value would outlive its window (an alert on it firing all the next day); the gauge's collect resets it
 * to 0 at the first scrape after the window's end, when the new window has started empty.
 */
export function setBudgetRatio(
  gauge: Gauge<string>,
  project: string,
  window: BudgetWindowName,
  ratio: number,
  now: number,
): void {
  gauge.set({ project, window }, ratio);
  const key = `${window}:${project}`;
  const known = budgetRatios.get(key);
  if (known) known.at = now;
  else budgetRatios.set(key, { project, window, at: now });
}

/** Exposes the quota store's outage state while the module lives (read at scrape time, never on the hot path). */
@Injectable()
export class QuotaStoreMetrics implements OnModuleInit, OnModuleDestroy {
  constructor(private readonly store: QuotaStore) {}

  onModuleInit(): void {
    stores.add(this.store);
  }

  onModuleDestroy(): void {
    stores.delete(this.store);
  }
}
