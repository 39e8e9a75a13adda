import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { CompatModule } from './compat/compat.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LedgerModule } from './ledger/ledger.module';
import { LlmModule } from './llm/llm.module';
import { ForecastingModule } from './forecasting/forecasting.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { MlModule } from './ml/ml.module';
import { QuotaModule } from './quota/quota.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';
import { RoutingModule } from './routing/routing.module';
import { ProvidersModule } from './providers/providers.module';

export interface AppModuleOptions {
  config: AppConfig;
  /** The Postgres URL actually used (the embedded server's when DATABASE_URL is unset). */
  databaseUrl: string;
  /** Where logs go (stdout by default; tests capture them). */
  logDestination?: DestinationStream;
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { config } = options;
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(options.logDestination),
        LifecycleModule,
        DatabaseModule.forRoot({
          url: options.databaseUrl,
          embedded: config.embeddedDatabase,
          migrate: config.MIGRATIONS_RUN,
        }),
        RedisModule,
        MetricsModule,
        RateLimitModule,
        AuthModule,
        QuotaModule,
        LedgerModule,
        ProvidersModule,
        RoutingModule,
        LlmModule,
        ForecastingModule,
        MlModule,
        HealthModule,
        CompatModule,
      ],
      providers: [
        // Order matters: authenticate first, then rate-limit by the caller's identity.
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_GUARD, useExisting: RateLimitGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
