import type { AppConfig } from '../config/app-config';
import type { RateShareSettings } from './rate-shares';

/** The RATE_LIMIT_LOCAL_* settings, for the rate-limit guard's windows and the per-key rpm/tpm alike. */
export function rateShareSettings(config: AppConfig): RateShareSettings {
  return {
    requests: config.RATE_LIMIT_LOCAL_REQUESTS,
    share: config.RATE_LIMIT_LOCAL_SHARE_PERCENT / 100,
    minRate: config.RATE_LIMIT_LOCAL_MIN_RATE,
  };
}
