import { Logger, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { AuthFailuresService } from './auth-failures.service';
import { MemoryQuotaStore } from './memory-quota.store';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { ProjectQuotaEntity } from './project-quota.entity';
import { ProjectQuotasRepository } from './project-quotas.repository';
import { QUOTA_METRIC_PROVIDERS } from './quota.metrics';
import { QuotaService } from './quota.service';
import { QuotaStore } from './quota.store';
import { creditsToMicro } from './quota-units';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitStore } from './rate-limit.store';
import { RedisQuotaStore } from './redis-quota.store';
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

const quotaStoreProvider = {
  provide: QuotaStore,
  inject: [RedisService, AppConfig],
  useFactory: (redis: RedisService, config: AppConfig): QuotaStore =>
    redis.client
      ? new RedisQuotaStore(redis.client, {
          prefix: config.REDIS_KEY_PREFIX,
          timeoutMs: Math.min(config.QUOTA_REDIS_TIMEOUT_MS, config.REDIS_COMMAND_TIMEOUT_MS),
          outageAllowance: creditsToMicro(config.QUOTA_OUTAGE_ALLOWANCE_CREDITS),
          timeoutsToOpen: config.QUOTA_REDIS_TIMEOUTS_TO_OPEN,
        })
      : new MemoryQuotaStore(),
};

@Module({
  providers: [rateLimitStoreProvider],
  exports: [RateLimitStore],
})
export class QuotaStoreModule {}

/**
 * Request rate limits, and credit budgets with per-key rpm/tpm (QuotaService), over
 * Redis or the in-process store. Its HTTP API lives in QuotaApiModule.
 */
@Module({
  imports: [
    QuotaStoreModule,
    TypeOrmModule.forFeature([ProjectQuotaEntity]),
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
  providers: [
    RateLimitGuard,
    AuthFailuresService,
    quotaStoreProvider,
    ProjectQuotasRepository,
    QuotaService,
    ...QUOTA_METRIC_PROVIDERS,
  ],
  exports: [RateLimitGuard, AuthFailuresService, ThrottlerModule, QuotaService],
})
export class QuotaModule {}
