import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { QuotaStore } from './quota.store';

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
      'by project and window (daily, monthly); only projects with a limit',
    labelNames: ['project', 'window'],
  }),
];

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
