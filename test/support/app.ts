import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createTestDatabase, testRedisUrl, TestDatabase, uniqueRedisPrefix } from './services';

export const TEST_ADMIN = { email: 'admin@conflux.test', password: 'admin-password-for-tests' };
export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';

/** Collects every log line the app writes, as text, for assertions on what was logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  url: string;
  logs: LogCapture;
  db: TestDatabase;
  close(): Promise<void>;
}

export interface StartAppOptions {
  env?: Record<string, string>;
  /** Reuse a database (e.g. two instances of one deployment); otherwise a fresh clone. */
  db?: TestDatabase;
  /** Connect to this URL instead of the db's (e.g. through a TcpProxy). */
  databaseUrl?: string;
}

/** The settings every test server needs: its database, the test Redis (its own key prefix), the admin. */
export function testAppEnv(databaseUrl: string, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    DATA_DIR: dataDir,
    // The 1 s bound of lookups on the request path is for production; tests of other features run on a
    // busy machine (two suites at once) and should not answer 503 for it. Its own tests set it.
    DATABASE_HOT_PATH_TIMEOUT_MS: '5000',
  };
}

/** Boots the real application on real Postgres and Redis, listening on a free loopback port. */
export async function startApp(options: StartAppOptions = {}): Promise<TestApp> {
  const ownDb = options.db === undefined;
  const db = options.db ?? (await createTestDatabase());
  const dataDir = mkdtempSync(join(tmpdir(), 'conflux-app-'));
  const databaseUrl = options.databaseUrl ?? db.url;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ...testAppEnv(databaseUrl, dataDir),
    RATE_LIMIT_PER_MINUTE: '100000',
    RATE_LIMIT_PER_HOUR: '100000',
    ...options.env,
  });
  const logs = new LogCapture();
  const app = await createApp(config, { databaseUrl, logDestination: logs });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    url: `http://127.0.0.1:${address.port}`,
    logs,
    db,
    close: async () => {
      await app.close();
      if (ownDb) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
