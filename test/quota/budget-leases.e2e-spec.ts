import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import Redis from 'ioredis';
import type { Reservation } from '../../src/quota/dto/quota';
import type { LeaseSettings } from '../../src/quota/budget-leases';
import { UNLIMITED } from '../../src/quota/quota.store';
import { budgetWindowsAt } from '../../src/quota/quota-windows';
import { RedisQuotaStore } from '../../src/quota/redis-quota.store';
import { testRedisUrl, uniqueRedisPrefix } from '../support/services';
import { testClock } from './store-contract';

/** Small leases that expire fast, so that a few dozen steps see them granted, spent, refused and expired. */
const SETTINGS: LeaseSettings = { requests: 4, share: 0.25, lowWater: 0.5, ttlMs: 5_000, minRate: 0 };
const INSTANCES = 3;
const UNIT = 1_000;
/** The background round of a live instance, as the store runs it (a sixth of the TTL at most). */
const ROUND_MS = SETTINGS.ttlMs / 6;

const EMPTY_LEDGER = {
  ledger: { spend: () => Promise.resolve({ day: 0, month: 0 }), writtenBefore: () => Promise.resolve(true) },
  rebuildGatherMs: 0,
  rebuildDrainWaitMs: 0,
  rebuildWaitMs: 5_000,
};

interface Open {
  instance: number;
  reservation: Reservation;
  leased: boolean;
}

interface Instance {
  store: RedisQuotaStore;
  alive: boolean;
  diedAt: number;
}

/** The system under test: instances over one Redis, a clock the steps move, and what the model knows. */
interface World {
  redis: Redis;
  prefix: string;
  project: string;
  limit: number;
  clock: { now: number };
  instances: Instance[];
  /** Reads balances (and so sweeps expired holds) without leases of its own. */
  observer: RedisQuotaStore;
  open: Open[];
  /** Sum of every settled amount (what the budget must never fall short of). */
  settled: number;
  rejections: number;
  leasedServes: number;
}

interface Model {
  steps: number;
}

const holdsKey = (w: World): string => `${w.prefix}quota:{${w.project}}:d:${budgetWindowsAt(w.clock.now).day}:holds`;

/** Lease amounts Redis holds now (unexpired members of the day's holds that belong to leases), by lease id. */
async function leasesInRedis(w: World): Promise<Map<string, number>> {
  const members = await w.redis.zrangebyscore(holdsKey(w), `(${w.clock.now}`, '+inf');
  const leases = new Map<string, number>();
  for (const member of members) {
    const [amount, id] = member.split(':');
    if (id.startsWith('L')) leases.set(id, (leases.get(id) ?? 0) + Number(amount));
  }
  return leases;
}

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

async function quiesce(w: World): Promise<void> {
  for (const instance of w.instances) if (instance.alive) await instance.store.leases.whenIdle();
}

/** What must hold after every step, once background writes are done. */
async function checkInvariants(w: World): Promise<void> {
  await quiesce(w);
  const balances = await w.observer.balances(w.project, w.clock.now);
  // Never overspent, and every settle booked exactly once.
  expect(w.settled).toBeLessThanOrEqual(w.limit);
  expect(balances.daily.spent).toBe(w.settled);
  expect(balances.daily.spent + balances.daily.reserved).toBeLessThanOrEqual(w.limit);
  // Reserved = leases held in Redis + the holds of requests made one at a time (none leaked).
  const leases = await leasesInRedis(w);
  const perRequest = sum(w.open.filter((o) => !o.leased).map((o) => o.reservation.micro_credits));
  expect(balances.daily.reserved).toBe(sum(leases.values()) + perRequest);
  for (const [i, instance] of w.instances.entries()) {
    const mine = instance.store.leases.snapshot().filter((l) => l.projectId === w.project);
    if (instance.alive) {
      // What a live instance holds in Redis is exactly its free part plus what it carved and has in flight.
      for (const lease of mine) expect(lease.free + lease.inflight).toBe(lease.backed);
      const carved = sum(w.open.filter((o) => o.instance === i && o.leased).map((o) => o.reservation.micro_credits));
      expect(sum(mine.map((l) => l.inflight))).toBe(carved);
    } else if (w.clock.now > instance.diedAt + SETTINGS.ttlMs) {
      // A dead instance's leases came back once they expired.
      for (const lease of mine) expect(leases.has(lease.id)).toBe(false);
    }
  }
}

class ReserveCmd implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly instance: number,
    readonly units: number,
  ) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    m.steps += 1;
    const instance = w.instances[this.instance];
    if (!instance.alive) return;
    await quiesce(w);
    const amount = this.units * UNIT;
    const before = sum((await leasesInRedis(w)).values());
    const id = randomUUID();
    const outcome = await instance.store.reserve({
      id,
      projectId: w.project,
      apiKeyId: null,
      microCredits: amount,
      tokens: 10,
      limits: { ...UNLIMITED, daily: w.limit },
      now: w.clock.now,
    });
    const leased = instance.store.leases.owns(id);
    await quiesce(w);
    if (outcome.ok) {
      w.open.push({ instance: this.instance, reservation: outcome.reservation, leased });
      if (leased) w.leasedServes += 1;
    } else {
      expect(outcome.reason).toBe('budget_daily');
      w.rejections += 1;
      // No false rejection: refused only when what is neither spent, held by a request nor leased
      // (the documented slack: the free parts of leases) is short of the request.
      const after = sum((await leasesInRedis(w)).values());
      const held = sum(w.open.filter((o) => !o.leased).map((o) => o.reservation.micro_credits));
      expect(w.limit - w.settled - held - Math.max(before, after)).toBeLessThan(amount);
    }
    await checkInvariants(w);
  }
  toString = (): string => `reserve(${this.instance}, ${this.units})`;
}

class CloseCmd implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly pick: number,
    /** Share of the hold actually spent, in percent; null releases it. */
    readonly percent: number | null,
  ) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    m.steps += 1;
    const live = w.open.filter((o) => w.instances[o.instance].alive);
    if (live.length === 0) return;
    const open = live[this.pick % live.length];
    const { store } = w.instances[open.instance];
    w.open.splice(w.open.indexOf(open), 1);
    if (this.percent === null) {
      expect(await store.release(open.reservation, w.clock.now)).toBe('closed');
    } else {
      const actual = Math.floor((open.reservation.micro_credits * this.percent) / 100);
      expect(await store.settle(open.reservation, actual, null, w.clock.now)).toBe('closed');
      w.settled += actual;
    }
    await checkInvariants(w);
  }
  toString = (): string => `close(${this.pick}, ${this.percent ?? 'release'})`;
}

class TickCmd implements fc.AsyncCommand<Model, World> {
  constructor(readonly instance: number) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    m.steps += 1;
    const instance = w.instances[this.instance];
    if (!instance.alive) return;
    instance.store.leases.tick();
    await checkInvariants(w);
  }
  toString = (): string => `tick(${this.instance})`;
}

class AdvanceCmd implements fc.AsyncCommand<Model, World> {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    m.steps += 1;
    // Live instances run their background round as time goes by (renewing their leases in time).
    for (let left = this.ms; left > 0; left -= ROUND_MS) {
      w.clock.now += Math.min(ROUND_MS, left);
      for (const instance of w.instances) if (instance.alive) instance.store.leases.tick();
      await quiesce(w);
    }
    await checkInvariants(w);
  }
  toString = (): string => `advance(${this.ms})`;
}

/** The instance stops at once: no shutdown, its leases and open reservations left as they are. */
class KillCmd implements fc.AsyncCommand<Model, World> {
  constructor(readonly instance: number) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    m.steps += 1;
    const instance = w.instances[this.instance];
    if (!instance.alive || w.instances.filter((i) => i.alive).length === 1) return;
    await instance.store.leases.whenIdle();
    instance.alive = false;
    instance.diedAt = w.clock.now;
    // Its open requests die with it: per-request holds stay held in Redis (until HOLD_TTL), leased ones go with the lease.
    w.open = w.open.filter((o) => o.instance !== this.instance || !o.leased);
    await checkInvariants(w);
  }
  toString = (): string => `kill(${this.instance})`;
}

const reserve = fc.tuple(fc.nat(INSTANCES - 1), fc.integer({ min: 1, max: 6 })).map(([i, u]) => new ReserveCmd(i, u));
const commands = [
  reserve,
  reserve,
  reserve,
  reserve,
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 100 })).map(([p, pct]) => new CloseCmd(p, pct)),
  fc.nat().map((p) => new CloseCmd(p, null)),
  fc.nat(INSTANCES - 1).map((i) => new TickCmd(i)),
  fc.constantFrom(200, 1_000, SETTINGS.ttlMs + 1_000).map((ms) => new AdvanceCmd(ms)),
  fc.nat(INSTANCES - 1).map((i) => new KillCmd(i)),
];

describe('budget leases against the Redis scripts (model-based)', () => {
  const prefix = uniqueRedisPrefix();
  let redis: Redis;
  const stores: RedisQuotaStore[] = [];
  const totals = { runs: 0, leasedServes: 0, rejections: 0 };

  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
  });
  afterAll(async () => {
    for (const store of stores) await store.onModuleDestroy();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  function makeStore(clock: { now: number }, leases?: LeaseSettings): RedisQuotaStore {
    const store = new RedisQuotaStore(redis, {
      prefix,
      timeoutMs: 2_000,
      outageAllowance: 0,
      ...EMPTY_LEDGER,
      leases,
      clock: () => clock.now,
      leaseRoundMs: 0,
    });
    stores.push(store);
    return store;
  }

  it('never overspends, refuses only within the slack of leases, and gets the leases of dead instances back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 10, max: 400 }),
        fc.commands(commands, { maxCommands: 60, size: 'max' }),
        async (budgetUnits, cmds) => {
          const clock = { now: testClock() };
          const world: World = {
            redis,
            prefix,
            project: randomUUID(),
            limit: budgetUnits * UNIT,
            clock,
            instances: Array.from({ length: INSTANCES }, () => ({
              store: makeStore(clock, SETTINGS),
              alive: true,
              diedAt: 0,
            })),
            observer: makeStore(clock),
            open: [],
            settled: 0,
            rejections: 0,
            leasedServes: 0,
          };
          // The project's counters are ready (rebuilt from an empty ledger) before the first step.
          await world.observer.balances(world.project, clock.now);
          await fc.asyncModelRun(() => ({ model: { steps: 0 }, real: world }), cmds);
          totals.runs += 1;
          totals.leasedServes += world.leasedServes;
          totals.rejections += world.rejections;
        },
      ),
      { numRuns: 40 },
    );
    // The runs did exercise leases and refusals, not only holds one at a time.
    process.stdout.write(`budget leases model: ${JSON.stringify(totals)}\n`);
    expect(totals.leasedServes).toBeGreaterThan(50);
    expect(totals.rejections).toBeGreaterThan(5);
  }, 600_000);
});
