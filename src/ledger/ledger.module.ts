import { Logger, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import { LedgerBuffer } from './ledger.buffer';
import { LEDGER_METRIC_PROVIDERS } from './ledger.metrics';
import { LedgerRepository } from './ledger.repository';
import { LedgerService } from './ledger.service';
import { LedgerWriter, staleAfterMs } from './ledger-writer';
import { MemoryLedgerBuffer } from './memory-ledger.buffer';
import { RedisLedgerBuffer } from './redis-ledger.buffer';
import { UsageController } from './usage.controller';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';

const ledgerBufferProvider = {
  provide: LedgerBuffer,
  inject: [RedisService, AppConfig],
  useFactory: (redis: RedisService, config: AppConfig): LedgerBuffer => {
    if (redis.client) {
      return new RedisLedgerBuffer(redis.client, {
        prefix: config.REDIS_KEY_PREFIX,
        staleAfterMs: staleAfterMs(config),
        maxEntries: config.LEDGER_STREAM_MAX_ENTRIES,
        commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
      });
    }
    new Logger('LedgerModule').warn(
      'No REDIS_URL: ledger rows wait in this process until written (flushed at shutdown, lost on a crash)',
    );
    return new MemoryLedgerBuffer();
  },
};

/**
 * The usage ledger: `LedgerService.record` buffers one row per attempt (Redis Stream,
 * or memory without REDIS_URL), a background writer batches them into the append-only
 * usage_ledger table, and `GET /projects/:id/usage` reports them.
 */
@Module({
  imports: [AuthModule],
  controllers: [UsageController],
  providers: [
    ledgerBufferProvider,
    ...LEDGER_METRIC_PROVIDERS,
    LedgerRepository,
    LedgerWriter,
    LedgerService,
    UsageRepository,
    UsageService,
  ],
  exports: [LedgerService],
})
export class LedgerModule {}
