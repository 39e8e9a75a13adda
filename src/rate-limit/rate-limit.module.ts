import { Logger, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { AuthFailuresService } from './auth-failures.service';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitStore } from './rate-limit.store';
import { RedisRateLimitStore } from './redis-rate-limit.store';
import { rateShareSettings } from './rate-shares.settings';

const rateLimitStoreProvider = {
  provide: RateLimitStore,
  inject: [RedisService, AppConfig],
  useFactory: (redis: RedisService, config: AppConfig): RateLimitStore => {
    if (redis.client) {
      return new RedisRateLimitStore(redis.client, {
        prefix: config.REDIS_KEY_PREFIX,
        timeoutMs: Math.min(config.QUOTA_REDIS_TIMEOUT_MS, config.REDIS_COMMAND_TIMEOUT_MS),
        timeoutsToOpen: config.QUOTA_REDIS_TIMEOUTS_TO_OPEN,
        shares: rateShareSettings(config),
      });
    }
    new Logger('RateLimitModule').warn(
      'No REDIS_URL: rate limits and quotas are kept in this process (single instance only)',
    );
    return new MemoryRateLimitStore();
  },
};

/**
 * Request rate limits per caller (RateLimitGuard, global) and per client address
 * for failed authentications (AuthFailuresService), over Redis or the in-process
 * store. Below authentication: it knows callers only by what AuthGuard put on the request.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [
          { name: 'minute', ttl: 60_000, limit: config.RATE_LIMIT_PER_MINUTE },
          { name: 'hour', ttl: 3_600_000, limit: config.RATE_LIMIT_PER_HOUR },
        ],
      }),
    }),
  ],
  providers: [rateLimitStoreProvider, RateLimitGuard, AuthFailuresService],
  exports: [RateLimitGuard, AuthFailuresService],
})
export class RateLimitModule {}
