import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { MIGRATIONS } from '../migrations';
import { createTestDatabase, TestDatabase } from './support/services';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

async function tables(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    return res.rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

/** `npm run migration:*` is the TypeORM CLI on the built data source. */
async function migration(command: 'run' | 'revert' | 'show', url: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT, 'node_modules', 'typeorm', 'cli.js'), `migration:${command}`, '-d', 'dist/src/database/data-source.js'],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: url }, timeout: 60_000 },
  );
  return stdout;
}

describe('migration CLI', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('reverts and re-applies the schema on a real database', async () => {
    const migrated = await tables(db.url);
    expect(migrated).toEqual(
      expect.arrayContaining(['users', 'projects', 'api_keys', 'api_key_secrets', 'migrations']),
    );

    expect(await migration('show', db.url)).toMatch(/\[X\].*AuthFoundation/);
    for (let i = 0; i < MIGRATIONS.length; i += 1) await migration('revert', db.url);
    expect(await tables(db.url)).toEqual(['migrations']);
    expect(await migration('show', db.url)).toMatch(/\[ \].*AuthFoundation/);

    await migration('run', db.url);
    expect(await tables(db.url)).toEqual(migrated);
  });

  it('refuses to run without DATABASE_URL, saying so', async () => {
    await expect(
      run(
        process.execPath,
        [join(ROOT, 'node_modules', 'typeorm', 'cli.js'), 'migration:show', '-d', 'dist/src/database/data-source.js'],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '' },
        },
      ),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('DATABASE_URL is required') });
  });
});
