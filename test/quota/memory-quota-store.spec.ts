import { randomUUID } from 'node:crypto';
import { MemoryQuotaStore } from '../../src/quota/memory-quota.store';
import { OutageFallback } from '../../src/quota/quota-outage';
import { UNLIMITED } from '../../src/quota/quota.store';
import { budgetWindowsAt, budgetWindowsOf, minuteWindowAt } from '../../src/quota/quota-windows';
import { quotaStoreContract } from './store-contract';

describe('in-process quota store (embedded mode)', () => {
  let store: MemoryQuotaStore;
  beforeEach(() => {
    store = new MemoryQuotaStore();
  });
  afterEach(() => store.onModuleDestroy());

  quotaStoreContract(() => store);
});

describe('quota windows', () => {
  it('names UTC days and months and knows when they end', () => {
    const at = Date.parse('2026-12-31T23:59:59.999Z');
    expect(budgetWindowsAt(at)).toEqual({
      day: '2026-12-31',
      month: '2026-12',
      dayEndsAt: Date.parse('2027-01-01T00:00:00Z'),
      monthEndsAt: Date.parse('2027-01-01T00:00:00Z'),
    });
    expect(budgetWindowsAt(Date.parse('2028-02-29T00:00:00Z'))).toMatchObject({
      day: '2028-02-29',
      month: '2028-02',
      dayEndsAt: Date.parse('2028-03-01T00:00:00Z'),
    });
  });

  it('refuses malformed windows (they become Redis key names)', () => {
    expect(() => budgetWindowsOf('2026-1-01', '2026-01')).toThrow(TypeError);
    expect(() => budgetWindowsOf('2026-01-01', '2026-01:x')).toThrow(TypeError);
  });

  it('cuts minutes on the clock', () => {
    expect(minuteWindowAt(Date.parse('2026-01-01T10:00:59.999Z')).endsAt).toBe(Date.parse('2026-01-01T10:01:00Z'));
    expect(minuteWindowAt(Date.parse('2026-01-01T10:01:00Z')).endsAt).toBe(Date.parse('2026-01-01T10:02:00Z'));
  });
});

describe('outage allowance', () => {
  const CREDIT = 1_000_000;
  let fallback: OutageFallback;
  beforeEach(() => {
    fallback = new OutageFallback(CREDIT);
  });
  afterEach(() => fallback.close());

  const command = (projectId: string, microCredits: number, now = Date.now()) => ({
    id: randomUUID(),
    projectId,
    apiKeyId: null,
    microCredits,
    tokens: 10,
    limits: { ...UNLIMITED, daily: 0 },
    now,
  });

  it('allows paid reservations up to the allowance per project, ignoring the budgets it cannot check', () => {
    const project = randomUUID();
    const outcomes = [0.4, 0.4, 0.3, 0.2].map((credits) => fallback.reserve(command(project, credits * CREDIT)));
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['ok', 'ok', 'redis_unavailable', 'ok']);
    expect(fallback.used(project, Date.now())).toBe(CREDIT);
    // Zero cost always passes; another project has its own allowance.
    expect(fallback.reserve(command(project, 0)).ok).toBe(true);
    expect(fallback.reserve(command(randomUUID(), CREDIT)).ok).toBe(true);
  });

  it('frees the allowance on release and on a cheaper settle, and for good once the spend reached Redis', () => {
    const project = randomUUID();
    const now = Date.now();
    const first = fallback.reserve(command(project, 0.6 * CREDIT, now));
    const second = fallback.reserve(command(project, 0.4 * CREDIT, now));
    if (!first.ok || !second.ok) throw new Error('expected both to fit');
    expect(fallback.owns(first.reservation, now)).toBe(true);

    expect(fallback.settle(first.reservation, 0.1 * CREDIT, null, now)).toBe('closed');
    expect(fallback.settle(first.reservation, 0.1 * CREDIT, null, now)).toBe('already_closed');
    expect(fallback.release(second.reservation, now)).toBe('closed');
    expect(fallback.used(project, now)).toBe(0.1 * CREDIT);
    fallback.replayed(project, 0.1 * CREDIT);
    expect(fallback.used(project, now)).toBe(0);
  });

  it('stops counting a local hold that was never settled once it expires', () => {
    const project = randomUUID();
    const now = Date.now();
    expect(fallback.reserve(command(project, CREDIT, now)).ok).toBe(true);
    expect(fallback.reserve(command(project, 1, now)).ok).toBe(false);
    const later = now + 10 * 60_000 + 1;
    expect(fallback.reserve(command(project, CREDIT, later)).ok).toBe(true);
  });

  it("still applies rpm, with this instance's own counters", () => {
    const limited = { ...command(randomUUID(), 0), apiKeyId: randomUUID(), limits: { ...UNLIMITED, rpm: 1 } };
    expect(fallback.reserve({ ...limited, id: randomUUID() }).ok).toBe(true);
    expect(fallback.reserve({ ...limited, id: randomUUID() })).toMatchObject({ ok: false, reason: 'rpm' });
  });
});
