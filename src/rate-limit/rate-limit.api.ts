/** What the rate-limit module shares with others: counting busy counters from local shares. */
export { RateShares } from './rate-shares';
export type { RateShareSettings, ShareCounter, ShareExpiry, ShareWriter } from './rate-shares';
export { rateShareSettings } from './rate-shares.settings';
export { redisShareWriter } from './redis-rate-shares';
