import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { MemoryQuotaStore } from './memory-quota.store';
import { ProjectQuotaEntity } from './project-quota.entity';
import { ProjectQuotasRepository } from './project-quotas.repository';
import { QuotaController } from './quota.controller';
import { QUOTA_METRIC_PROVIDERS } from './quota.metrics';
import { QuotaService } from './quota.service';
import { QuotaStore } from './quota.store';
import { creditsToMicro } from './quota-units';
import { RedisQuotaStore } from './redis-quota.store';

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

/**
 * Credit budgets with per-key rpm/tpm (QuotaService), over Redis or the in-process
 * store, and their HTTP API. Above authentication: the API checks project access.
 */
@Module({
  imports: [AuthModule, TypeOrmModule.forFeature([ProjectQuotaEntity])],
  controllers: [QuotaController],
  providers: [quotaStoreProvider, ProjectQuotasRepository, QuotaService, ...QUOTA_METRIC_PROVIDERS],
  exports: [QuotaService],
})
export class QuotaModule {}
