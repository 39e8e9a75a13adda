import { Logger, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { AuthFailuresService } from './auth-failures.service';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitStore } from './rate-limit.store';
import { RedisRateLimitStore } from './redis-rate-limit.store';
import { ThrottlerStorageAdapter } from './throttler-storage';

const rateLimitStoreProvider = {
  provide: RateLimitStore,
  inject: [RedisService, AppConfig],
  useFactory: (redis: RedisService, config: AppConfig): RateLimitStore => {
    if (redis.client) return new RedisRateLimitStore(redis.client, config.REDIS_KEY_PREFIX);
    new Logger('QuotaModule').warn(
      'No REDIS_URL: rate limits and quotas are kept in this process (single instance only)',
    );
    return new MemoryRateLimitStore();
  },
};

@Module({
  providers: [rateLimitStoreProvider],
  exports: [RateLimitStore],
})
export class QuotaStoreModule {}

/** Request rate limits (and, later, credit budgets) over Redis or the in-process store. */
@Module({
  imports: [
    QuotaStoreModule,
    ThrottlerModule.forRootAsync({
      imports: [QuotaStoreModule],
      inject: [AppConfig, RateLimitStore],
      useFactory: (config: AppConfig, store: RateLimitStore) => ({
        throttlers: [
          { name: 'minute', ttl: 60_000, limit: config.RATE_LIMIT_PER_MINUTE },
          { name: 'hour', ttl: 3_600_000, limit: config.RATE_LIMIT_PER_HOUR },
        ],
        storage: new ThrottlerStorageAdapter(store),
      }),
    }),
  ],
  providers: [RateLimitGuard, AuthFailuresService],
  exports: [RateLimitGuard, AuthFailuresService, ThrottlerModule],
})
export class QuotaModule {}
