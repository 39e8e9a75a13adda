import { Gauge, Registry } from 'prom-client';
import { endBudgetRatios, setBudgetRatio } from '../../src/quota/quota.metrics';

/** conflux_budget_used_ratio outlives no window: a scrape after the window's end reads 0. */
describe('conflux_budget_used_ratio across a window end', () => {
  const DAY_MS = 86_400_000;

  function gauge(): { gauge: Gauge<string>; read: () => Promise<Record<string, number>> } {
    const registry = new Registry();
    const g = new Gauge({
      name: 'conflux_budget_used_ratio',
      help: 'test',
      labelNames: ['project', 'window'],
      registers: [registry],
      collect: endBudgetRatios,
    });
    const read = async (): Promise<Record<string, number>> => {
      const metric = await g.get();
      return Object.fromEntries(metric.values.map((v) => [`${v.labels.project}/${v.labels.window}`, v.value]));
    };
    return { gauge: g, read };
  }

  it('keeps the ratio within its window and reads 0 once the window has ended', async () => {
    const { gauge: g, read } = gauge();
    const now = Date.now();
    setBudgetRatio(g, 'p-today', 'daily', 0.95, now);
    setBudgetRatio(g, 'p-yesterday', 'daily', 0.97, now - DAY_MS);
    setBudgetRatio(g, 'p-yesterday', 'monthly', 0.5, now - 40 * DAY_MS);
    expect(await read()).toEqual({ 'p-today/daily': 0.95, 'p-yesterday/daily': 0, 'p-yesterday/monthly': 0 });
    // A later paid request sets it again, and it holds within the new window.
    setBudgetRatio(g, 'p-yesterday', 'daily', 0.1, now);
    expect((await read())['p-yesterday/daily']).toBe(0.1);
  });
});
