import { DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DatabaseHealthIndicator } from './database.health';
import { runPendingMigrations } from './migrator';
import { buildDataSourceOptions } from './typeorm-options';

export const DATABASE_URL = Symbol('DATABASE_URL');

/**
 * The Postgres connection (real or embedded, same entities and migrations).
 * Pending migrations are applied before any module can use the connection.
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
            retryAttempts: 2,
            retryDelay: 1000,
          }),
          dataSourceFactory: async (options?: DataSourceOptions) => {
            if (!options) throw new Error('database options missing');
            const dataSource = await new DataSource(options).initialize();
            if (migrate) await runPendingMigrations(dataSource, !embedded);
            return dataSource;
          },
        }),
      ],
      providers: [{ provide: DATABASE_URL, useValue: url }, DatabaseHealthIndicator],
      exports: [DatabaseHealthIndicator],
    };
  }
}
