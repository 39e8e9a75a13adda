import { DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { isDependencyUnavailable } from '../common/errors/all-exceptions.filter';
import { AppConfig } from '../config/app-config';
import { DatabaseHealthIndicator } from './database.health';
import { runPendingMigrations } from './migrator';
import { DatabasePoolMetrics, poolMetricProviders } from './pool.metrics';
import { buildDataSourceOptions } from './typeorm-options';

export const DATABASE_URL = Symbol('DATABASE_URL');

/** Pause between attempts to reach Postgres at startup. */
const RETRY_CONNECT_AFTER_MS = 2000;

/**
 * The Postgres connection (real or embedded, same entities and migrations).
 * Pending migrations are applied before any module can use the connection. A Postgres
 * that cannot be reached at startup is tried again every 2 s until it answers. The connection pool's
 * size, idle connections and waiting queries are metrics, read at each scrape.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: { url: string; embedded: boolean; migrate: boolean }): DynamicModule {
    const { url, embedded, migrate } = options;
    return {
      module: DatabaseModule,
      imports: [
        TerminusModule,
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            ...buildDataSourceOptions({
              url,
              // PGlite is a single session: concurrent transactions on several
              // connections would interleave, so the embedded pool has one.
              poolMax: embedded ? 1 : config.DATABASE_POOL_MAX,
              connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
              statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
            }),
            autoLoadEntities: true,
            // An unreachable Postgres is waited for as long as it takes (the process answers live
            // meanwhile, see StartupServer); anything else (bad credentials, unknown database) stops startup.
            retryAttempts: Number.POSITIVE_INFINITY,
            retryDelay: RETRY_CONNECT_AFTER_MS,
            toRetry: (err: unknown) => isDependencyUnavailable(err),
          }),
          dataSourceFactory: async (options?: DataSourceOptions) => {
            if (!options) throw new Error('database options missing');
            const dataSource = await new DataSource(options).initialize();
            try {
              if (migrate) await runPendingMigrations(dataSource, !embedded);
            } catch (err) {
              await dataSource.destroy().catch(() => undefined);
              throw err;
            }
            return dataSource;
          },
        }),
      ],
      providers: [
        { provide: DATABASE_URL, useValue: url },
        DatabaseHealthIndicator,
        ...poolMetricProviders,
        DatabasePoolMetrics,
      ],
      exports: [DatabaseHealthIndicator],
    };
  }
}
