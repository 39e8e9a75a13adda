import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { LedgerModule } from '../ledger/ledger.module';
import { LedgerService } from '../ledger/ledger.service';
import { RedisService } from '../redis/redis.service';
import { rateShareSettings } from '../rate-limit/rate-limit.api';
import { MemoryQuotaStore } from './memory-quota.store';
import { ProjectQuotaEntity } from './project-quota.entity';
import { ProjectQuotasRepository } from './project-quotas.repository';
import { QuotaController } from './quota.controller';
import { QUOTA_METRIC_PROVIDERS, QuotaStoreMetrics } from './quota.metrics';
import { QuotaService } from './quota.service';
import { QuotaStore } from './quota.store';
import { creditsToMicro } from './quota-units';
import { RedisQuotaStore } from './redis-quota.store';

/**
 * After Redis lost its data, the rebuild waits this long before reading the ledger: enough
 * for every instance's ledger writer (two flush intervals) and open-reservation check
 * (500 ms) to notice.
 */
function rebuildGatherMs(config: AppConfig): number {
  return Math.max(1000, 2 * config.LEDGER_FLUSH_INTERVAL_MS + 600);
}
/** Most time the rebuild gives the ledger to write what was recorded before it. */
const REBUILD_DRAIN_WAIT_MS = 10_000;
/** Most time a paid request waits for its project's rebuild before a 503 with Retry-After. */
const REBUILD_REQUEST_WAIT_MS = 5_000;

const quotaStoreProvider = {
  provide: QuotaStore,
  inject: [RedisService, AppConfig, LedgerService],
  useFactory: (redis: RedisService, config: AppConfig, ledger: LedgerService): QuotaStore =>
    redis.client
      ? new RedisQuotaStore(redis.client, {
          prefix: config.REDIS_KEY_PREFIX,
          timeoutMs: Math.min(config.QUOTA_REDIS_TIMEOUT_MS, config.REDIS_COMMAND_TIMEOUT_MS),
          outageAllowance: creditsToMicro(config.QUOTA_OUTAGE_ALLOWANCE_CREDITS),
          timeoutsToOpen: config.QUOTA_REDIS_TIMEOUTS_TO_OPEN,
          ledger,
          rebuildGatherMs: rebuildGatherMs(config),
          rebuildDrainWaitMs: REBUILD_DRAIN_WAIT_MS,
          rebuildWaitMs: Math.max(REBUILD_REQUEST_WAIT_MS, rebuildGatherMs(config) + 2000),
          leases: {
            requests: config.QUOTA_LEASE_REQUESTS,
            share: config.QUOTA_LEASE_SHARE_PERCENT / 100,
            lowWater: config.QUOTA_LEASE_LOW_WATER_PERCENT / 100,
            ttlMs: config.QUOTA_LEASE_TTL_MS,
            minRate: config.QUOTA_LEASE_MIN_RATE,
          },
          rateShares: rateShareSettings(config),
        })
      : new MemoryQuotaStore(),
};

/**
 * Credit budgets with per-key rpm/tpm (QuotaService), over Redis or the in-process
 * store, and their HTTP API. Above authentication: the API checks project access.
 */
@Module({
  imports: [AuthModule, LedgerModule, TypeOrmModule.forFeature([ProjectQuotaEntity])],
  controllers: [QuotaController],
  providers: [quotaStoreProvider, ProjectQuotasRepository, QuotaService, QuotaStoreMetrics, ...QUOTA_METRIC_PROVIDERS],
  exports: [QuotaService],
})
export class QuotaModule {}
