/**
 * Data source for the TypeORM CLI (`npm run migration:run`). It is built from the
 * same options as the application and needs DATABASE_URL.
 */
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { buildDataSourceOptions } from './typeorm-options';

const config = loadConfig(process.env);
if (!config.DATABASE_URL) {
  throw new Error('DATABASE_URL is required for the migration CLI (the embedded database migrates on start)');
}

export default new DataSource(
  buildDataSourceOptions({
    url: config.DATABASE_URL,
    poolMax: 2,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: 0,
  }),
);
