import { randomUUID } from 'node:crypto';
import type { Reservation } from '../../src/quota/dto/quota';
import {
  HOLD_TTL_MS,
  MicroLimits,
  QuotaStore,
  ReserveCommand,
  ReserveOutcome,
  UNLIMITED,
} from '../../src/quota/quota.store';
import { budgetWindowsAt } from '../../src/quota/quota-windows';

const DAY_MS = 86_400_000;
const CREDIT = 1_000_000;

/**
 * A time in the future (so that Redis keys written with absolute expiries stay alive
 * during the test), one hour into a UTC day, so that minutes of offsets stay in it.
 */
export function testClock(): number {
  return Math.ceil(Date.now() / DAY_MS) * DAY_MS + 3_600_000 + 1_234;
}

/** A deployment whose ledger is empty: a project's counters are rebuilt at once, from zero. */
export const EMPTY_LEDGER = {
  ledger: { spend: () => Promise.resolve({ day: 0, month: 0 }), writtenBefore: () => Promise.resolve(true) },
  rebuildGatherMs: 0,
  rebuildDrainWaitMs: 0,
  rebuildWaitMs: 5_000,
};

export interface ContractContext {
  store: QuotaStore;
  project: string;
  now: number;
  reserve(overrides?: Partial<ReserveCommand>): Promise<ReserveOutcome>;
  reserveOk(overrides?: Partial<ReserveCommand>): Promise<Reservation>;
}

export function contextFor(store: QuotaStore): ContractContext {
  const project = randomUUID();
  const now = testClock();
  const reserve = (overrides: Partial<ReserveCommand> = {}): Promise<ReserveOutcome> =>
    store.reserve({
      id: randomUUID(),
      projectId: project,
      apiKeyId: null,
      microCredits: CREDIT,
      tokens: 100,
      limits: UNLIMITED,
      now,
      ...overrides,
    });
  return {
    store,
    project,
    now,
    reserve,
    reserveOk: async (overrides) => {
      const outcome = await reserve(overrides);
      if (!outcome.ok) throw new Error(`reserve refused: ${JSON.stringify(outcome)}`);
      return outcome.reservation;
    },
  };
}

const limits = (changes: Partial<MicroLimits>): MicroLimits => ({ ...UNLIMITED, ...changes });

/** The semantics both QuotaStore adapters must share (see QuotaStore). */
export function quotaStoreContract(getStore: () => QuotaStore): void {
  let c: ContractContext;
  beforeEach(() => {
    c = contextFor(getStore());
  });

  const balances = (at = c.now) => c.store.balances(c.project, at);

  describe('reserve and settle', () => {
    it('holds the amount in the day and the month, then settles the actual amount and refunds the rest', async () => {
      const reservation = await c.reserveOk({ microCredits: 3 * CREDIT });
      const windows = budgetWindowsAt(c.now);
      expect(reservation).toMatchObject({
        project_id: c.project,
        micro_credits: 3 * CREDIT,
        day: windows.day,
        month: windows.month,
      });
      expect(await balances()).toEqual({
        daily: { spent: 0, reserved: 3 * CREDIT },
        monthly: { spent: 0, reserved: 3 * CREDIT },
      });

      expect(await c.store.settle(reservation, 1_250_000, null, c.now + 1000)).toBe('closed');
      expect(await balances()).toEqual({
        daily: { spent: 1_250_000, reserved: 0 },
        monthly: { spent: 1_250_000, reserved: 0 },
      });
    });

    it('settles once: a repeated settle or a later release does nothing', async () => {
      const reservation = await c.reserveOk({ microCredits: 2 * CREDIT });
      expect(await c.store.settle(reservation, CREDIT, null, c.now)).toBe('closed');
      expect(await c.store.settle(reservation, CREDIT, null, c.now)).toBe('already_closed');
      expect(await c.store.settle(reservation, 5 * CREDIT, null, c.now)).toBe('already_closed');
      expect(await c.store.release(reservation, c.now)).toBe('already_closed');
      expect((await balances()).daily).toEqual({ spent: CREDIT, reserved: 0 });
    });

    it('releases once: nothing is spent, and a later settle or release does nothing', async () => {
      const kept = await c.reserveOk({ microCredits: CREDIT });
      const reservation = await c.reserveOk({ microCredits: 2 * CREDIT });
      expect(await c.store.release(reservation, c.now)).toBe('closed');
      expect(await c.store.release(reservation, c.now)).toBe('already_closed');
      expect(await c.store.settle(reservation, 2 * CREDIT, null, c.now)).toBe('already_closed');
      expect(await balances()).toEqual({
        daily: { spent: 0, reserved: CREDIT },
        monthly: { spent: 0, reserved: CREDIT },
      });
      expect(kept.micro_credits).toBe(CREDIT);
    });

    it('spends more than the hold when the actual cost is higher, and then refuses further paid requests', async () => {
      const budget = limits({ daily: 2 * CREDIT });
      const reservation = await c.reserveOk({ microCredits: 2 * CREDIT, limits: budget });
      expect(await c.store.settle(reservation, 2_500_000, null, c.now)).toBe('closed');
      expect((await balances()).daily).toEqual({ spent: 2_500_000, reserved: 0 });
      expect(await c.reserve({ microCredits: 1, limits: budget })).toMatchObject({ ok: false, reason: 'budget_daily' });
    });

    it('knows nothing of a reservation it never made', async () => {
      const windows = budgetWindowsAt(c.now);
      const stranger: Reservation = {
        id: randomUUID(),
        project_id: c.project,
        micro_credits: CREDIT,
        day: windows.day,
        month: windows.month,
      };
      expect(await c.store.settle(stranger, CREDIT, null, c.now)).toBe('unknown');
      expect(await c.store.release(stranger, c.now)).toBe('unknown');
      expect((await balances()).daily).toEqual({ spent: 0, reserved: 0 });
    });

    it('ignores a reserve of an id it already knows (a script that reached Redis after its settle)', async () => {
      const id = randomUUID();
      const settled = await c.reserveOk({ id, microCredits: CREDIT, apiKeyId: 'k', limits: limits({ rpm: 1 }) });
      await c.store.settle(settled, CREDIT, null, c.now);
      expect((await c.reserve({ id, microCredits: CREDIT, apiKeyId: 'k', limits: limits({ rpm: 1 }) })).ok).toBe(true);
      expect(await balances()).toEqual({
        daily: { spent: CREDIT, reserved: 0 },
        monthly: { spent: CREDIT, reserved: 0 },
      });
      expect(await c.store.settle(settled, CREDIT, null, c.now)).toBe('already_closed');
    });

    it('keeps large amounts exact', async () => {
      const amount = 900_000_000_000_000;
      const reservation = await c.reserveOk({ microCredits: amount });
      expect((await balances()).monthly).toEqual({ spent: 0, reserved: amount });
      await c.store.settle(reservation, amount + 7, null, c.now);
      expect((await balances()).monthly).toEqual({ spent: amount + 7, reserved: 0 });
    });
  });

  describe('budgets', () => {
    it('accepts a reservation iff spent + reserved + amount ≤ the daily limit', async () => {
      const budget = limits({ daily: 10 * CREDIT });
      const first = await c.reserveOk({ microCredits: 4 * CREDIT, limits: budget });
      await c.store.settle(first, 3 * CREDIT, null, c.now);
      await c.reserveOk({ microCredits: 5 * CREDIT, limits: budget });
      // 3 spent + 5 reserved: 2 credits left, exactly.
      const refused = await c.reserve({ microCredits: 2 * CREDIT + 1, limits: budget });
      expect(refused).toEqual({
        ok: false,
        reason: 'budget_daily',
        limit: 10 * CREDIT,
        spent: 3 * CREDIT,
        reserved: 5 * CREDIT,
      });
      await c.reserveOk({ microCredits: 2 * CREDIT, limits: budget });
      expect(await c.reserve({ microCredits: 1, limits: budget })).toMatchObject({ ok: false, reason: 'budget_daily' });
      expect((await balances()).daily).toEqual({ spent: 3 * CREDIT, reserved: 7 * CREDIT });
    });

    it('checks the monthly limit too', async () => {
      const budget = limits({ daily: 100 * CREDIT, monthly: 3 * CREDIT });
      await c.reserveOk({ microCredits: 2 * CREDIT, limits: budget });
      expect(await c.reserve({ microCredits: 2 * CREDIT, limits: budget })).toEqual({
        ok: false,
        reason: 'budget_monthly',
        limit: 3 * CREDIT,
        spent: 0,
        reserved: 2 * CREDIT,
      });
    });

    it('always lets a zero-cost request through, even with a zero or overspent budget', async () => {
      expect((await c.reserve({ microCredits: 0, limits: limits({ daily: 0, monthly: 0 }) })).ok).toBe(true);
      const paid = await c.reserveOk({ microCredits: CREDIT });
      await c.store.settle(paid, 5 * CREDIT, null, c.now);
      const free = await c.reserve({ microCredits: 0, limits: limits({ daily: CREDIT }) });
      expect(free.ok).toBe(true);
      expect(await c.reserve({ microCredits: 1, limits: limits({ daily: 0 }) })).toMatchObject({ ok: false });
    });

    it('changes nothing when it refuses', async () => {
      const strict = limits({ daily: CREDIT, rpm: 10, tpm: 1000 });
      const apiKeyId = randomUUID();
      expect(await c.reserve({ microCredits: 2 * CREDIT, apiKeyId, tokens: 10, limits: strict })).toMatchObject({
        ok: false,
        reason: 'budget_daily',
      });
      expect(await balances()).toEqual({ daily: { spent: 0, reserved: 0 }, monthly: { spent: 0, reserved: 0 } });
      // Neither the request nor its tokens were counted: the whole tpm and rpm budget is still there.
      const all = limits({ rpm: 1, tpm: 1000 });
      expect((await c.reserve({ microCredits: 0, apiKeyId, tokens: 1000, limits: all })).ok).toBe(true);
    });

    it('gives back the amount of a hold never settled once it expires, and a late settle still spends', async () => {
      const budget = limits({ daily: 5 * CREDIT });
      const leaked = await c.reserveOk({ microCredits: 4 * CREDIT, limits: budget });
      expect(await c.reserve({ microCredits: 2 * CREDIT, limits: budget })).toMatchObject({ ok: false });

      // The reserve itself notices the expired hold (no balance read in between).
      const later = c.now + HOLD_TTL_MS + 1;
      const fresh = await c.reserveOk({ microCredits: 2 * CREDIT, limits: budget, now: later });
      expect((await balances(later)).daily).toEqual({ spent: 0, reserved: 2 * CREDIT });

      expect(await c.store.settle(leaked, 3 * CREDIT, null, later + 1)).toBe('closed');
      // The late settle spends, and does not take the expired hold off `reserved` a second time.
      expect((await balances(later + 2)).daily).toEqual({ spent: 3 * CREDIT, reserved: 2 * CREDIT });
      expect(await c.store.settle(fresh, 2 * CREDIT, null, later + 3)).toBe('closed');
      expect((await balances(later + 4)).daily).toEqual({ spent: 5 * CREDIT, reserved: 0 });
    });

    it('shows expired holds as given back in the balances', async () => {
      await c.reserveOk({ microCredits: 4 * CREDIT });
      expect((await balances(c.now + HOLD_TTL_MS - 1)).daily).toEqual({ spent: 0, reserved: 4 * CREDIT });
      expect(await balances(c.now + HOLD_TTL_MS)).toEqual({
        daily: { spent: 0, reserved: 0 },
        monthly: { spent: 0, reserved: 0 },
      });
    });

    it('settles into the day and month the reservation was made in, even after midnight', async () => {
      const windows = budgetWindowsAt(c.now);
      const beforeMidnight = windows.dayEndsAt - 1000;
      const reservation = await c.reserveOk({ microCredits: 2 * CREDIT, now: beforeMidnight });
      expect(reservation.day).toBe(windows.day);

      const afterMidnight = windows.dayEndsAt + 5000;
      expect((await balances(afterMidnight)).daily).toEqual({ spent: 0, reserved: 0 });
      expect(await c.store.settle(reservation, CREDIT, null, afterMidnight)).toBe('closed');
      expect((await balances(afterMidnight)).daily).toEqual({ spent: 0, reserved: 0 });
      expect((await balances(beforeMidnight)).daily).toEqual({ spent: CREDIT, reserved: 0 });
    });
  });

  describe('rpm and tpm per API key', () => {
    it('counts requests per key and minute, and tells when the minute ends', async () => {
      const apiKeyId = randomUUID();
      const rpm = limits({ rpm: 2 });
      const minuteStart = Math.floor(c.now / 60_000) * 60_000;
      const now = minuteStart + 15_000;
      await c.reserveOk({ apiKeyId, limits: rpm, now });
      await c.reserveOk({ apiKeyId, limits: rpm, now });
      expect(await c.reserve({ apiKeyId, limits: rpm, now })).toEqual({
        ok: false,
        reason: 'rpm',
        limit: 2,
        retryAfterMs: 45_000,
      });
      // Another key, a signed-in user (no key) and the next minute are not affected.
      expect((await c.reserve({ apiKeyId: randomUUID(), limits: rpm, now })).ok).toBe(true);
      expect((await c.reserve({ apiKeyId: null, limits: rpm, now })).ok).toBe(true);
      expect((await c.reserve({ apiKeyId, limits: rpm, now: minuteStart + 60_000 })).ok).toBe(true);
    });

    it('counts tokens; a settle corrects them to the actual count and a release gives them back', async () => {
      const apiKeyId = randomUUID();
      const tpm = limits({ tpm: 1000 });
      const first = await c.reserveOk({ apiKeyId, tokens: 600, limits: tpm });
      expect(await c.reserve({ apiKeyId, tokens: 500, limits: tpm })).toMatchObject({ ok: false, reason: 'tpm' });

      await c.store.settle(first, CREDIT, 100, c.now);
      const second = await c.reserveOk({ apiKeyId, tokens: 500, limits: tpm });
      // 100 + 500 counted: 400 left.
      expect(await c.reserve({ apiKeyId, tokens: 401, limits: tpm })).toMatchObject({ ok: false, reason: 'tpm' });
      await c.store.release(second, c.now);
      expect((await c.reserve({ apiKeyId, tokens: 900, limits: tpm })).ok).toBe(true);
    });

    it('keeps the worst-case token count when the actual one is not given', async () => {
      const apiKeyId = randomUUID();
      const tpm = limits({ tpm: 1000 });
      const first = await c.reserveOk({ apiKeyId, tokens: 600, limits: tpm });
      await c.store.settle(first, CREDIT, null, c.now);
      expect(await c.reserve({ apiKeyId, tokens: 401, limits: tpm })).toMatchObject({ ok: false, reason: 'tpm' });
      expect((await c.reserve({ apiKeyId, tokens: 400, limits: tpm })).ok).toBe(true);
    });
  });
}
