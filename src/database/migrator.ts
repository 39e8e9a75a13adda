import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './typeorm-options';

/** Advisory lock key shared by every Conflux replica: only one migrates at a time. */
const MIGRATION_LOCK_KEY = 7_424_617_301;

/**
 * Applies pending migrations on an open data source. With `lock`, a Postgres
 * advisory lock serialises replicas that start together; the embedded database is
 * a single session and runs them without it.
 */
export async function runPendingMigrations(dataSource: DataSource, lock: boolean): Promise<string[]> {
  if (!lock) return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** Migrates the database at `url` and closes the connection; returns the names applied. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const dataSource = new DataSource(
    buildDataSourceOptions({ url, poolMax: 2, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000 }),
  );
  await dataSource.initialize();
  try {
    return await runPendingMigrations(dataSource, true);
  } finally {
    await dataSource.destroy();
  }
}
