import Redis from 'ioredis';
import { Client } from 'pg';
import {
  createTestDatabase,
  redisAnswersPing,
  startRedisServer,
  testRedisUrl,
  uniqueRedisPrefix,
  type RedisServer,
  type TestDatabase,
} from './support/services';
import { TcpProxy, proxiedUrl } from './support/tcp-proxy';

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function tableExists(url: string, table: string): Promise<boolean> {
  const rows = await query<{ found: string | null }>(url, `SELECT to_regclass('public.${table}')::text AS found`);
  return rows[0]?.found !== null;
}

function redisClient(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  return client;
}

describe('test harness', () => {
  describe('PostgreSQL', () => {
    const databases: TestDatabase[] = [];

    async function newDatabase(): Promise<TestDatabase> {
      const database = await createTestDatabase();
      databases.push(database);
      return database;
    }

    afterAll(async () => {
      await Promise.all(databases.map((database) => database.drop()));
    });

    it('clones databases that do not see each other', async () => {
      const [first, second] = await Promise.all([newDatabase(), newDatabase()]);
      expect(first.name).not.toBe(second.name);

      await query(first.url, 'CREATE TABLE only_in_first (id int)');

      await expect(tableExists(first.url, 'only_in_first')).resolves.toBe(true);
      await expect(tableExists(second.url, 'only_in_first')).resolves.toBe(false);
    });

    it('clones the migrated template, migrations table included', async () => {
      const database = await newDatabase();

      const rows = await query<{ name: string }>(database.url, 'SELECT name FROM migrations ORDER BY id');

      expect(rows.length).toBeGreaterThan(0);
    });

    it('drops a database, and dropping twice is harmless', async () => {
      const database = await createTestDatabase();

      await database.drop();
      await database.drop();

      await expect(query(database.url, 'SELECT 1')).rejects.toThrow(/does not exist/);
    });
  });

  describe('Redis', () => {
    it('answers PING on the shared server', async () => {
      const client = redisClient(testRedisUrl());
      await client.connect();
      try {
        await expect(client.ping()).resolves.toBe('PONG');
      } finally {
        client.disconnect();
      }
    });

    it('hands out distinct key prefixes', () => {
      const prefixes = new Set(Array.from({ length: 100 }, () => uniqueRedisPrefix()));

      expect(prefixes.size).toBe(100);
      for (const prefix of prefixes) expect(prefix).toMatch(/^t:[0-9a-f]+:$/);
    });

    describe('a dedicated server', () => {
      let server: RedisServer;

      beforeAll(async () => {
        server = await startRedisServer();
      });

      afterAll(async () => {
        await server.stop();
      });

      it('stops and starts again on the same port', async () => {
        await server.stop();
        await expect(redisAnswersPing(server.url)).resolves.toBe(false);

        await server.start();

        const client = redisClient(`redis://127.0.0.1:${server.port}`);
        await client.connect();
        try {
          await expect(client.ping()).resolves.toBe('PONG');
        } finally {
          client.disconnect();
        }
      });
    });
  });

  describe('TcpProxy', () => {
    let database: TestDatabase;
    let proxy: TcpProxy;

    beforeAll(async () => {
      database = await createTestDatabase();
      proxy = await TcpProxy.forUrl(database.url);
    });

    afterAll(async () => {
      await proxy.close();
      await database.drop();
    });

    it('rewrites the host and port of a URL to the proxy', () => {
      const url = proxiedUrl('postgres://user:secret@db.example:5432/app?sslmode=disable', proxy);

      expect(url).toBe(`postgres://user:secret@127.0.0.1:${proxy.port}/app?sslmode=disable`);
      expect(proxiedUrl('redis://10.0.0.1:6379/2', proxy)).toBe(`redis://127.0.0.1:${proxy.port}/2`);
    });

    it('cuts live and new connections, and restore lets new ones through', async () => {
      const url = proxiedUrl(database.url, proxy);
      const live = new Client({ connectionString: url });
      live.on('error', () => undefined);
      await live.connect();
      await expect(live.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });

      proxy.cut();

      await expect(live.query('SELECT 1')).rejects.toThrow();
      await expect(query(url, 'SELECT 1')).rejects.toThrow();
      await live.end().catch(() => undefined);

      proxy.restore();

      await expect(query<{ one: number }>(url, 'SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    });
  });
});
