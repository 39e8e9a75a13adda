import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { Reservation } from '../../src/quota/dto/quota';
import { SETTLE_SCRIPT } from '../../src/quota/quota.scripts';
import { HOLD_TTL_MS, TOMBSTONE_TTL_MS, UNLIMITED } from '../../src/quota/quota.store';
import { budgetWindowsAt, minuteWindowAt } from '../../src/quota/quota-windows';
import { RedisQuotaStore } from '../../src/quota/redis-quota.store';
import { delay, testRedisUrl, uniqueRedisPrefix, waitUntil } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { contextFor, quotaStoreContract, testClock } from './store-contract';

const CREDIT = 1_000_000;
const DAY_MS = 86_400_000;
/** The store skips Redis this long after a failure (see RedisCircuit). */
const CIRCUIT_RETRY_MS = 2_100;

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

/** A deployment whose ledger is empty: a project's counters are rebuilt at once, from zero. */
const EMPTY_LEDGER = {
  ledger: { spend: () => Promise.resolve({ day: 0, month: 0 }), writtenBefore: () => Promise.resolve(true) },
  rebuildGatherMs: 0,
  rebuildDrainWaitMs: 0,
  rebuildWaitMs: 5_000,
};

describe('Redis quota store: the Lua scripts on a real Redis', () => {
  const prefix = uniqueRedisPrefix();
  let redis: Redis;
  let store: RedisQuotaStore;

  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
  });
  beforeEach(() => {
    store = new RedisQuotaStore(redis, { prefix, timeoutMs: 1_000, outageAllowance: CREDIT, ...EMPTY_LEDGER });
  });
  afterEach(() => store.onModuleDestroy());
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  quotaStoreContract(() => store);

  describe('keys', () => {
    it('keeps day, month, per-key minute and reservation keys under the prefix, with expiries past each window', async () => {
      const c = contextFor(store);
      const apiKeyId = randomUUID();
      const reservation = await c.reserveOk({ apiKeyId, microCredits: 2 * CREDIT, tokens: 30 });
      const { day, month, dayEndsAt, monthEndsAt } = budgetWindowsAt(c.now);
      const minute = minuteWindowAt(c.now).index;
      const base = `${prefix}quota:{${c.project}}`;
      // The first reservation also had the project's counters rebuilt (from an empty ledger): wait for it.
      await store.balances(c.project, c.now);

      expect((await redis.keys(`${base}:*`)).sort()).toEqual(
        [
          `${base}:ready`,
          `${base}:d:${day}:reserved`,
          `${base}:d:${day}:holds`,
          `${base}:m:${month}:reserved`,
          `${base}:m:${month}:holds`,
          `${base}:k:${apiKeyId}:rpm:${minute}`,
          `${base}:k:${apiKeyId}:tpm:${minute}`,
          `${base}:r:${reservation.id}`,
        ].sort(),
      );
      expect(await redis.get(`${base}:d:${day}:reserved`)).toBe(String(2 * CREDIT));
      expect(await redis.zrange(`${base}:m:${month}:holds`, 0, -1, 'WITHSCORES')).toEqual([
        `${2 * CREDIT}:${reservation.id}`,
        String(c.now + HOLD_TTL_MS),
      ]);
      expect(await redis.get(`${base}:k:${apiKeyId}:rpm:${minute}`)).toBe('1');
      expect(await redis.get(`${base}:k:${apiKeyId}:tpm:${minute}`)).toBe('30');

      expect(await redis.pexpiretime(`${base}:d:${day}:reserved`)).toBe(dayEndsAt + DAY_MS);
      expect(await redis.pexpiretime(`${base}:d:${day}:holds`)).toBe(dayEndsAt + DAY_MS);
      expect(await redis.pexpiretime(`${base}:m:${month}:reserved`)).toBe(monthEndsAt + DAY_MS);
      expect(await redis.pexpiretime(`${base}:k:${apiKeyId}:rpm:${minute}`)).toBe((minute + 2) * 60_000);
      expect(await redis.pttl(`${base}:r:${reservation.id}`)).toBeGreaterThan(HOLD_TTL_MS + TOMBSTONE_TTL_MS - 5_000);
      expect(await redis.hgetall(`${base}:r:${reservation.id}`)).toEqual({
        state: 'held',
        amount: String(2 * CREDIT),
        tokens: '30',
        tpm_key: `${base}:k:${apiKeyId}:tpm:${minute}`,
      });

      await store.settle(reservation, 1_500_000, 20, c.now);
      expect(await redis.get(`${base}:d:${day}:spent`)).toBe('1500000');
      expect(await redis.pexpiretime(`${base}:d:${day}:spent`)).toBe(dayEndsAt + DAY_MS);
      expect(await redis.pexpiretime(`${base}:m:${month}:spent`)).toBe(monthEndsAt + DAY_MS);
      expect(await redis.get(`${base}:d:${day}:reserved`)).toBe('0');
      expect(await redis.zcard(`${base}:d:${day}:holds`)).toBe(0);
      expect(await redis.get(`${base}:k:${apiKeyId}:tpm:${minute}`)).toBe('20');
      expect(await redis.hget(`${base}:r:${reservation.id}`, 'state')).toBe('settled');
      const tombstone = await redis.pttl(`${base}:r:${reservation.id}`);
      expect(tombstone).toBeLessThanOrEqual(TOMBSTONE_TTL_MS);
      expect(tombstone).toBeGreaterThan(TOMBSTONE_TTL_MS - 5_000);
    });

    it('puts a signed-in user (no API key) under no per-key counter', async () => {
      const c = contextFor(store);
      await c.reserveOk({ apiKeyId: null, limits: { ...UNLIMITED, rpm: 1 } });
      await c.reserveOk({ apiKeyId: null, limits: { ...UNLIMITED, rpm: 1 } });
      expect(await redis.keys(`${prefix}quota:{${c.project}}:k:*`)).toEqual([]);
    });
  });

  describe('replay of spend made while Redis was unreachable', () => {
    function runSettle(reservation: Reservation, actual: number, book: boolean): Promise<unknown> {
      const { dayEndsAt, monthEndsAt } = budgetWindowsAt(testClock());
      const base = `${prefix}quota:{${reservation.project_id}}`;
      const keys = [`${base}:r:${reservation.id}`];
      for (const window of [`d:${reservation.day}`, `m:${reservation.month}`]) {
        keys.push(`${base}:${window}:spent`, `${base}:${window}:reserved`, `${base}:${window}:holds`);
      }
      keys.push(`${base}:ready`, `${base}:d:${reservation.day}:late`, `${base}:m:${reservation.month}:late`);
      const args = [
        reservation.id,
        actual,
        -1,
        dayEndsAt + DAY_MS,
        monthEndsAt + DAY_MS,
        TOMBSTONE_TTL_MS,
        book ? 1 : 0,
      ];
      return redis.eval(SETTLE_SCRIPT, keys.length, ...keys, ...args);
    }

    it('books the spend of a reservation Redis never saw, exactly once', async () => {
      const windows = budgetWindowsAt(testClock());
      const reservation: Reservation = {
        id: randomUUID(),
        project_id: randomUUID(),
        micro_credits: CREDIT,
        day: windows.day,
        month: windows.month,
      };
      expect(await runSettle(reservation, 700_000, false)).toBe('unknown');
      expect(await runSettle(reservation, 700_000, true)).toBe('closed');
      expect(await runSettle(reservation, 700_000, true)).toBe('already_closed');
      const balances = await store.balances(reservation.project_id, testClock());
      expect(balances).toEqual({ daily: { spent: 700_000, reserved: 0 }, monthly: { spent: 700_000, reserved: 0 } });
    });
  });
});

/** A store reaching Redis through a TcpProxy (to stall or cut), and a direct client to read Redis's own view. */
interface ProxiedStore {
  prefix: string;
  proxy: TcpProxy;
  direct: Redis;
  store: RedisQuotaStore;
}

/** Sets up a ProxiedStore for a describe block (75 ms bound, 1 credit of outage allowance). */
function useProxiedStore(timeoutsToOpen?: number): ProxiedStore {
  const ctx = { prefix: uniqueRedisPrefix() } as ProxiedStore;
  let viaProxy: Redis | undefined;
  beforeAll(async () => {
    ctx.proxy = await TcpProxy.forUrl(testRedisUrl());
    // No command timeout: a command sent during a stall is delivered once the proxy relays again.
    viaProxy = new Redis(proxiedUrl(testRedisUrl(), ctx.proxy), { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    viaProxy.on('error', () => undefined);
    ctx.direct = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
    await new Promise((resolve) => viaProxy?.once('ready', resolve));
    ctx.store = new RedisQuotaStore(viaProxy, {
      prefix: ctx.prefix,
      timeoutMs: 75,
      outageAllowance: CREDIT,
      timeoutsToOpen,
      ...EMPTY_LEDGER,
    });
  });
  afterEach(() => ctx.proxy.restore());
  afterAll(async () => {
    await ctx.store?.onModuleDestroy();
    viaProxy?.disconnect();
    await deleteKeys(ctx.direct, ctx.prefix);
    await ctx.direct.quit();
    await ctx.proxy.close();
  });
  return ctx;
}

describe('Redis quota store when Redis hangs', () => {
  // The first timeout opens the circuit here (by default three in a row do: see below).
  const ctx = useProxiedStore(1);
  /** Far below a hang, far above the 75 ms bound plus the scheduling delays of a busy CI machine. */
  const DECIDED_WITHOUT_REDIS_MS = 1_000;

  /** Redis's own view, read without the ctx.proxy. */
  const shared = (projectId: string) => {
    const { day } = budgetWindowsAt(Date.now());
    const base = `${ctx.prefix}quota:{${projectId}}:d:${day}`;
    return Promise.all([ctx.direct.get(`${base}:spent`), ctx.direct.get(`${base}:reserved`)]).then(
      ([spent, reserved]) => ({
        spent: Number(spent ?? 0),
        reserved: Number(reserved ?? 0),
      }),
    );
  };

  async function waitForReplay(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (ctx.store.pendingWrites > 0 && Date.now() < deadline) {
      await delay(100);
      await ctx.store.flush();
    }
    expect(ctx.store.pendingWrites).toBe(0);
  }

  it('decides locally within the bound, then replays the local settle so that Redis ends up exact', async () => {
    const projectId = randomUUID();
    const command = {
      projectId,
      apiKeyId: null,
      tokens: 10,
      limits: { ...UNLIMITED, daily: 100 * CREDIT },
    };
    // The project's counters are known (rebuilt from an empty ledger) before Redis stalls.
    await ctx.store.balances(projectId, Date.now());

    ctx.proxy.stall();
    const started = performance.now();
    const outcome = await ctx.store.reserve({ ...command, id: randomUUID(), microCredits: 600_000, now: Date.now() });
    // The 75 ms bound answers (a stalled Redis never would); the margin absorbs a loaded machine.
    expect(performance.now() - started).toBeLessThan(DECIDED_WITHOUT_REDIS_MS);
    if (!outcome.ok) throw new Error(`expected a local reservation, got ${JSON.stringify(outcome)}`);

    // The circuit is open now: no more waiting on Redis; the allowance (1 credit) is the limit.
    const fast = performance.now();
    const refused = await ctx.store.reserve({ ...command, id: randomUUID(), microCredits: 500_000, now: Date.now() });
    expect(performance.now() - fast).toBeLessThan(10);
    expect(refused).toEqual({ ok: false, reason: 'redis_unavailable', allowance: CREDIT });
    expect(await ctx.store.settle(outcome.reservation, 400_000, null, Date.now())).toBe('closed');
    expect(ctx.store.pendingWrites).toBe(1);

    // The stalled reserve script reaches Redis once it relays again: a hold Redis alone would keep.
    ctx.proxy.restore();
    const phantomSeen = await waitUntil(async () => (await shared(projectId)).reserved === 600_000, 5_000, 50);
    expect(phantomSeen).toBe(true);

    await delay(CIRCUIT_RETRY_MS);
    await waitForReplay();
    expect(await shared(projectId)).toEqual({ spent: 400_000, reserved: 0 });
    // A repeated settle of the local reservation is still a no-op.
    expect(await ctx.store.settle(outcome.reservation, 400_000, null, Date.now())).toBe('already_closed');
    expect(await ctx.store.balances(projectId, Date.now())).toEqual({
      daily: { spent: 400_000, reserved: 0 },
      monthly: { spent: 400_000, reserved: 0 },
    });
  });

  it('queues a settle of a Redis reservation while Redis is away, and writes it once Redis is back', async () => {
    await delay(CIRCUIT_RETRY_MS);
    const projectId = randomUUID();
    const outcome = await ctx.store.reserve({
      id: randomUUID(),
      projectId,
      apiKeyId: null,
      microCredits: 3 * CREDIT,
      tokens: 10,
      limits: UNLIMITED,
      now: Date.now(),
    });
    if (!outcome.ok) throw new Error('expected the reservation in Redis');
    expect(await shared(projectId)).toEqual({ spent: 0, reserved: 3 * CREDIT });

    ctx.proxy.cut();
    const started = performance.now();
    expect(await ctx.store.settle(outcome.reservation, 2 * CREDIT, null, Date.now())).toBe('deferred');
    // The 75 ms bound answers (a stalled Redis never would); the margin absorbs a loaded machine.
    expect(performance.now() - started).toBeLessThan(DECIDED_WITHOUT_REDIS_MS);
    await expect(ctx.store.balances(projectId, Date.now())).rejects.toMatchObject({ code: 'service_unavailable' });

    ctx.proxy.restore();
    await delay(CIRCUIT_RETRY_MS);
    await waitForReplay();
    expect(await shared(projectId)).toEqual({ spent: 2 * CREDIT, reserved: 0 });
  });
});

describe('Redis quota store under load: one late reply is not an outage', () => {
  const ctx = useProxiedStore();

  const reserve = (projectId: string, microCredits: number) =>
    ctx.store.reserve({
      id: randomUUID(),
      projectId,
      apiKeyId: null,
      microCredits,
      tokens: 10,
      limits: { ...UNLIMITED, daily: 100 * CREDIT },
      now: Date.now(),
    });

  it('decides a timed-out call locally and keeps using Redis for the next ones', async () => {
    const projectId = randomUUID();
    // The project's counters are known (rebuilt from an empty ledger) before Redis stalls.
    await ctx.store.balances(projectId, Date.now());
    ctx.proxy.stall();
    const late = await reserve(projectId, 200_000);
    ctx.proxy.restore();
    if (!late.ok) throw new Error(`expected a local reservation, got ${JSON.stringify(late)}`);
    // The very next call goes to Redis (the circuit stayed closed) and holds there.
    const next = await reserve(projectId, 300_000);
    if (!next.ok) throw new Error('expected a reservation in Redis');
    const { day } = budgetWindowsAt(Date.now());
    const reserved = async () =>
      Number((await ctx.direct.get(`${ctx.prefix}quota:{${projectId}}:d:${day}:reserved`)) ?? 0);
    // Redis holds the late script's 0.2 (it ran once relayed) and the next call's 0.3.
    expect(await waitUntil(async () => (await reserved()) === 500_000, 5_000, 20)).toBe(true);
    await ctx.store.release(next.reservation, Date.now());
    await ctx.store.release(late.reservation, Date.now());
    await ctx.store.flush();
    expect(await waitUntil(async () => (await reserved()) === 0, 5_000, 50)).toBe(true);
  });

  it('opens after three timeouts in a row: then no call waits on Redis', async () => {
    const projectId = randomUUID();
    ctx.proxy.stall();
    for (let i = 0; i < 3; i++) await reserve(projectId, 100_000);
    const started = performance.now();
    const skipped = await reserve(projectId, 100_000);
    expect(performance.now() - started).toBeLessThan(10);
    expect(skipped.ok).toBe(true);
  });
});
