import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import Redis from 'ioredis';
import type { RateShareSettings } from '../../src/rate-limit/rate-shares';
import { redisShareWriter } from '../../src/rate-limit/redis-rate-shares';
import { RedisRateLimitStore } from '../../src/rate-limit/redis-rate-limit.store';
import { delay, dropRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../support/services';

const INSTANCES = 3;
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Idle shares go back after this (short, so that a step can wait it out). */
const IDLE_MS = 30;

type WithHits = Redis & { confluxRateHits(...args: unknown[]): Promise<number[]> };

interface Window {
  key: string;
  windowMs: number;
  limit: number;
}

/** Instances sharing one Redis, and what the steps saw. */
interface World {
  redis: Redis;
  prefix: string;
  stores: RedisRateLimitStore[];
  windows: Window[];
  hits: number;
  admitted: number;
  refused: number;
  /** Hits the stores sent to Redis one at a time (the rest were counted from shares). */
  exact: { count: number };
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/** Free units every instance holds for a window's counter. */
function freeOf(w: World, window: Window): number[] {
  const key = `${w.prefix}rl:${window.key}`;
  return w.stores.map((store) =>
    sum(
      store.shares
        .snapshot()
        .filter((s) => s.key === key)
        .map((s) => s.free),
    ),
  );
}

async function quiesce(w: World): Promise<void> {
  for (const store of w.stores) await store.shares.whenIdle();
}

/** What must hold once no write is under way. */
async function checkQuiet(w: World, settings: RateShareSettings): Promise<void> {
  await quiesce(w);
  for (const window of w.windows) {
    const count = Number((await w.redis.get(`${w.prefix}rl:${window.key}`)) ?? 0);
    const free = freeOf(w, window);
    // Every hit is counted exactly once in Redis, and so is every unit an instance holds unused.
    expect(count).toBe(w.hits + sum(free));
    // A share never holds more than its size (`requests` requests here: every hit is one unit).
    for (const f of free) expect(f).toBeLessThanOrEqual(settings.requests);
  }
}

/** One request through an instance, judged as the guard judges it. */
async function hit(w: World, instance: number): Promise<boolean> {
  const states = await w.stores[instance].hitAll(w.windows);
  w.hits += 1;
  const admitted = states.every((state, i) => state.hits <= w.windows[i].limit);
  if (admitted) w.admitted += 1;
  else w.refused += 1;
  // Never more admitted than any window's limit, whatever the interleaving of background writes.
  for (const window of w.windows) expect(w.admitted).toBeLessThanOrEqual(window.limit);
  return admitted;
}

class HitCmd implements fc.AsyncCommand<object, World> {
  constructor(readonly instance: number) {}
  check = (): boolean => true;
  async run(_m: object, w: World): Promise<void> {
    await hit(w, this.instance);
  }
  toString = (): string => `hit(${this.instance})`;
}

/** A hit from a quiet state: if refused, the documented bound must explain it. */
class CheckedHitCmd implements fc.AsyncCommand<object, World> {
  constructor(readonly instance: number) {}
  check = (): boolean => true;
  async run(_m: object, w: World): Promise<void> {
    await quiesce(w);
    const before = { hits: w.hits, free: w.windows.map((window) => sum(freeOf(w, window))) };
    if (await hit(w, this.instance)) return;
    // Refused only when the hits counted so far (admitted, and refused ones, which count as they
    // always did) plus the free parts of shares reach the limit of one of the windows: the shares'
    // error is at most their free parts, never an admission above the limit.
    const explained = w.windows.some((window, i) => before.hits + before.free[i] >= window.limit);
    expect(explained).toBe(true);
  }
  toString = (): string => `checkedHit(${this.instance})`;
}

/** Requests of several instances at once, with writes in flight. */
class BurstCmd implements fc.AsyncCommand<object, World> {
  constructor(readonly instances: number[]) {}
  check = (): boolean => true;
  async run(_m: object, w: World): Promise<void> {
    await Promise.all(this.instances.map((i) => hit(w, i)));
  }
  toString = (): string => `burst(${this.instances.join(',')})`;
}

/** Every instance goes idle long enough to give its shares back. */
class IdleCmd implements fc.AsyncCommand<object, World> {
  check = (): boolean => true;
  async run(_m: object, w: World): Promise<void> {
    await delay(IDLE_MS + 10);
    for (const store of w.stores) store.shares.tick();
  }
  toString = (): string => 'idle';
}

class CheckCmd implements fc.AsyncCommand<object, World> {
  constructor(readonly settings: RateShareSettings) {}
  check = (): boolean => true;
  async run(_m: object, w: World): Promise<void> {
    await checkQuiet(w, this.settings);
  }
  toString = (): string => 'check';
}

describe('rate-limit shares against the Redis scripts (property: the error bound)', () => {
  const prefix = uniqueRedisPrefix();
  let redis: Redis;
  const stores: RedisRateLimitStore[] = [];
  const exact = { count: 0 };
  const totals = { runs: 0, hits: 0, exact: 0, refused: 0 };

  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
  });
  afterAll(async () => {
    for (const store of stores) await store.onModuleDestroy();
    await dropRedisPrefix(redis, prefix);
  });

  function makeStore(settings: RateShareSettings): RedisRateLimitStore {
    const store = new RedisRateLimitStore(redis, { prefix, timeoutMs: 2_000, shares: settings, shareRoundMs: 0 });
    // Count the hits sent to Redis one at a time (every store defines the same script on this client).
    const client = redis as WithHits;
    const send = client.confluxRateHits.bind(client);
    client.confluxRateHits = (...args: unknown[]) => {
      exact.count += 1;
      return send(...args);
    };
    stores.push(store);
    return store;
  }

  it('never admits more than a limit, counts every hit once, and refuses only within the free parts of shares', async () => {
    const instance = fc.nat(INSTANCES - 1);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          minuteLimit: fc.integer({ min: 1, max: 300 }),
          hourLimit: fc.integer({ min: 1, max: 400 }),
          requests: fc.integer({ min: 2, max: 12 }),
          share: fc.constantFrom(0.1, 0.25, 0.5, 1),
        }),
        fc.integer({ min: 1, max: 100 }).chain((size) =>
          fc.array(
            fc.oneof(
              { weight: 6, arbitrary: instance.map((i) => new HitCmd(i) as fc.AsyncCommand<object, World>) },
              { weight: 3, arbitrary: instance.map((i) => new CheckedHitCmd(i)) },
              {
                weight: 2,
                arbitrary: fc.array(instance, { minLength: 2, maxLength: 12 }).map((l) => new BurstCmd(l)),
              },
              { weight: 1, arbitrary: fc.constant(new IdleCmd()) },
            ),
            { minLength: size, maxLength: size },
          ),
        ),
        async (limits, steps) => {
          const settings: RateShareSettings = {
            requests: limits.requests,
            share: limits.share,
            minRate: 0,
            idleMs: IDLE_MS,
          };
          const tracker = randomBytes(6).toString('hex');
          exact.count = 0;
          const world: World = {
            redis,
            prefix,
            stores: Array.from({ length: INSTANCES }, () => makeStore(settings)),
            windows: [
              { key: `minute:key:${tracker}`, windowMs: MINUTE, limit: limits.minuteLimit },
              { key: `hour:key:${tracker}`, windowMs: HOUR, limit: limits.hourLimit },
            ],
            hits: 0,
            admitted: 0,
            refused: 0,
            exact,
          };
          for (const step of steps) {
            await step.run({}, world);
            await new CheckCmd(settings).run({}, world);
          }
          totals.runs += 1;
          totals.hits += world.hits;
          totals.exact += exact.count;
          totals.refused += world.refused;
          for (const store of world.stores) await store.onModuleDestroy();
        },
      ),
      { numRuns: 40 },
    );
    process.stdout.write(`rate shares model: ${JSON.stringify(totals)}\n`);
    // The runs did count hits from shares, and did refuse some.
    expect(totals.hits - totals.exact).toBeGreaterThan(300);
    expect(totals.refused).toBeGreaterThan(20);
  }, 600_000);
});

describe('the share script on a real Redis', () => {
  const prefix = uniqueRedisPrefix();
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
  });
  afterAll(() => dropRedisPrefix(redis, prefix));

  const base = {
    want: 0,
    least: 2,
    share: 0.5,
    limit: 100,
    giveBack: 0,
    maxTtlMs: 0,
    extra: 0,
    expiry: { kind: 'ttl', ms: MINUTE } as const,
  };

  it('grants at most its share of what the limit has left, and nothing below the least grant', async () => {
    const write = redisShareWriter(redis);
    const key = `${prefix}grant`;
    await redis.set(key, '90', 'PX', MINUTE);
    expect(await write({ ...base, key, want: 50 })).toMatchObject({ granted: 5, count: 95 });
    // 5 left: half of it is 2 (floor), the least grant: granted.
    expect(await write({ ...base, key, want: 50 })).toMatchObject({ granted: 2, count: 97 });
    // 3 left: 1 is below the least grant.
    expect(await write({ ...base, key, want: 50 })).toMatchObject({ granted: 0, count: 97 });
  });

  it('creates a window with its expiry, as a first hit does', async () => {
    const write = redisShareWriter(redis);
    const key = `${prefix}new`;
    const reply = await write({ ...base, key, want: 10 });
    expect(reply).toMatchObject({ granted: 10, count: 10 });
    expect(reply.ttlMs).toBeGreaterThan(MINUTE - 5_000);
    expect(await redis.pttl(key)).toBeGreaterThan(MINUTE - 5_000);
  });

  it('gives units back only to the window they came from', async () => {
    const write = redisShareWriter(redis);
    const key = `${prefix}back`;
    // A later window of the key (more time left than the share's window could have): untouched.
    await redis.set(key, '10', 'PX', MINUTE);
    expect(await write({ ...base, key, giveBack: 5, maxTtlMs: 2_000 })).toMatchObject({ count: 10 });
    expect(await redis.get(key)).toBe('10');
    // The share's own window: lowered, its expiry kept.
    expect(await write({ ...base, key, giveBack: 5, maxTtlMs: MINUTE + 2_000 })).toMatchObject({ count: 5 });
    expect(await redis.pttl(key)).toBeGreaterThan(MINUTE - 5_000);
    // Never below zero.
    expect(await write({ ...base, key, giveBack: 50, maxTtlMs: MINUTE + 2_000 })).toMatchObject({ count: 0 });
  });

  it('adds units counted beyond a share to a live window only', async () => {
    const write = redisShareWriter(redis);
    const key = `${prefix}extra`;
    expect(await write({ ...base, key, extra: 7 })).toMatchObject({ count: 0 });
    expect(await redis.exists(key)).toBe(0);
    await redis.set(key, '3', 'PX', MINUTE);
    expect(await write({ ...base, key, extra: 7 })).toMatchObject({ count: 10 });
  });
});
