import { makeCounterProvider } from '@willsoto/nestjs-prometheus';

export const QUOTA_REJECTIONS = 'conflux_quota_rejections_total';

export const QUOTA_METRIC_PROVIDERS = [
  makeCounterProvider({
    name: QUOTA_REJECTIONS,
    help: 'Quota reservations refused, by reason: budget_daily, budget_monthly, rpm, tpm, redis_unavailable',
    labelNames: ['reason'],
  }),
];
