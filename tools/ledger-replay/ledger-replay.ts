/**
 * Writes the ledger's dead letters (rows Postgres refused, kept in the Redis stream
 * `<REDIS_KEY_PREFIX>ledger:dead`) into usage_ledger once their cause is fixed:
 *
 *   DATABASE_URL=… REDIS_URL=… [REDIS_KEY_PREFIX=conflux:] npm run ledger:replay
 *
 * Idempotent on (request_id, attempt): a row already in the ledger is not written twice.
 * Prints a JSON summary; exits 0 when the stream is empty afterwards, 2 when entries were
 * kept (each listed with its reason), 1 on an error (Postgres or Redis unreachable).
 */
import Redis from 'ioredis';
import { Client } from 'pg';
import { replayDeadLetters } from './replay';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<number> {
  const prefix = process.env.REDIS_KEY_PREFIX ?? 'conflux:';
  const db = new Client({ connectionString: required('DATABASE_URL'), connectionTimeoutMillis: 5_000 });
  const redis = new Redis(required('REDIS_URL'), { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await db.connect();
    await redis.connect();
    const result = await replayDeadLetters(redis, db, { prefix });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.kept.length === 0 ? 0 : 2;
  } finally {
    await db.end().catch(() => undefined);
    redis.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ledger replay failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
