import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';

export interface DatabaseConnectionSettings {
  url: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  applicationName?: string;
}

/**
 * The one options object behind the app's connection and the migration CLI.
 * `synchronize` is always false: the schema changes only through migrations.
 */
export function buildDataSourceOptions(settings: DatabaseConnectionSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: settings.applicationName ?? 'conflux',
    connectTimeoutMS: settings.connectTimeoutMs,
    poolSize: settings.poolMax,
    extra: {
      max: settings.poolMax,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      statement_timeout: settings.statementTimeoutMs || undefined,
      query_timeout: settings.statementTimeoutMs ? settings.statementTimeoutMs + 1000 : undefined,
      keepAlive: true,
    },
  };
}
