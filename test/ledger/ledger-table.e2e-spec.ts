import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/typeorm-options';
import { Api } from '../support/http';
import { killAllServers, makeTempDir, minimalEnv, removeDir, ServerProcess } from '../support/process';
import { createTestDatabase, TestDatabase, withClient } from '../support/services';
import { requestId } from './ledger-support';

const MIGRATION = 'UsageLedger1764400000000';

/** An INSERT of one valid row, with the given project id. */
function insertRow(projectId: string): [string, unknown[]] {
  return [
    `INSERT INTO usage_ledger (request_id, attempt, project_id, endpoint, input_tokens, output_tokens,
       micro_credits, usd, latency_ms, status, created_at)
     VALUES ($1, 1, $2, '/v1/chat/completions', 1, 1, 1, 0.000001, 1, 'success', now())`,
    [requestId('table'), projectId],
  ];
}

describe('usage_ledger table', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('accepts rows whatever their project (no foreign keys), once per (request_id, attempt)', async () => {
    await withClient(db.url, async (client) => {
      const [sql, params] = insertRow(randomUUID());
      expect((await client.query(sql, params)).rowCount).toBe(1);
      await expect(client.query(sql, params)).rejects.toThrow(/usage_ledger_request_attempt_key/);
      const onConflict = `${sql} ON CONFLICT (request_id, attempt) DO NOTHING`;
      expect((await client.query(onConflict, params)).rowCount).toBe(0);
      const fks = await client.query(
        `SELECT conname FROM pg_constraint WHERE conrelid = 'usage_ledger'::regclass AND contype = 'f'`,
      );
      expect(fks.rows).toEqual([]);
      const indexes = await client.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE tablename = 'usage_ledger'`,
      );
      expect(indexes.rows.map((r) => r.indexdef).join('\n')).toContain('(project_id, created_at)');
    });
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    await withClient(db.url, async (client) => {
      const [sql, params] = insertRow(randomUUID());
      await client.query(sql, params);
      await expect(client.query(`UPDATE usage_ledger SET attempt = 2`)).rejects.toThrow(/append-only: UPDATE/);
      await expect(client.query(`DELETE FROM usage_ledger`)).rejects.toThrow(/append-only: DELETE/);
      await expect(client.query(`TRUNCATE usage_ledger`)).rejects.toThrow(/append-only: TRUNCATE/);
      const count = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_ledger');
      expect(Number(count.rows[0].n)).toBeGreaterThan(0);
    });
  });

  it('refuses values the application would refuse too (negative amounts, unknown status)', async () => {
    await withClient(db.url, async (client) => {
      const [sql, params] = insertRow(randomUUID());
      await expect(client.query(sql.replace("'success'", "'maybe'"), params)).rejects.toThrow(/check constraint/);
      await expect(client.query(sql.replace('0.000001', '-1'), params)).rejects.toThrow(/check constraint/);
    });
  });

  it('reverts and re-applies', async () => {
    const dataSource = new DataSource(
      buildDataSourceOptions({ url: db.url, poolMax: 1, connectTimeoutMs: 5_000, statementTimeoutMs: 30_000 }),
    );
    await dataSource.initialize();
    const applied = async (): Promise<string[]> =>
      (await dataSource.query<{ name: string }[]>('SELECT name FROM migrations')).map((m) => m.name);
    const tableExists = async (): Promise<boolean> =>
      (await dataSource.query<{ t: string | null }[]>(`SELECT to_regclass('usage_ledger')::text AS t`))[0].t !== null;
    try {
      // Later migrations (if any) are reverted first, then this one.
      while ((await applied()).includes(MIGRATION)) await dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tableExists()).toBe(false);
      const fn = await dataSource.query<unknown[]>(`SELECT 1 FROM pg_proc WHERE proname = 'usage_ledger_append_only'`);
      expect(fn).toEqual([]);
      await dataSource.runMigrations({ transaction: 'each' });
      expect(await applied()).toContain(MIGRATION);
      expect(await tableExists()).toBe(true);
    } finally {
      await dataSource.destroy();
    }
  });
});

describe('the built server on the embedded database (PGlite) without Redis', () => {
  const ADMIN = { email: 'ledger-admin@conflux.test', password: 'ledger-admin-password-0123' };
  let dataDir: string | undefined;

  afterAll(async () => {
    await killAllServers();
    if (dataDir) await removeDir(dataDir);
  });

  it('applies the ledger migration, answers the usage report and flushes the ledger at SIGTERM', async () => {
    dataDir = makeTempDir('conflux-ledger-pglite-');
    const server = await ServerProcess.start({
      env: minimalEnv({
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      }),
    });
    await server.waitForLive(90_000);
    const api = new Api(server.url);
    const { access_token: token } = await api.login(ADMIN.email, ADMIN.password);
    const project = await api.post<{ id: string }>('/projects', { name: 'embedded' }, { token });
    expect(project.status).toBe(201);
    for (const groupBy of ['day', 'model', 'provider']) {
      const res = await api.get(`/projects/${project.body.id}/usage?group_by=${groupBy}`, { token });
      expect({ status: res.status, totals: res.body.totals, groups: res.body.groups }).toEqual({
        status: 200,
        totals: {
          requests: 0,
          attempts: 0,
          input_tokens: 0,
          output_tokens: 0,
          cached_input_tokens: 0,
          cache_write_input_tokens: 0,
          reasoning_tokens: 0,
          credits: 0,
          usd: 0,
        },
        groups: [],
      });
    }
    expect(server.stdout).toContain('No REDIS_URL: ledger rows wait in this process');

    const exit = await server.stop('SIGTERM', 30_000);
    expect(exit?.code).toBe(0);
    expect(server.stdout).toContain('Ledger flushed at shutdown');
  }, 120_000);
});
