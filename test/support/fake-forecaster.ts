import { startFakeJsonServer, type FakeJsonServer, type FakeWorkerMode } from './fake-json-server';

/**
 * A fake remote forecasting worker on 127.0.0.1 speaking the /forecast contract (as a Toto or
 * Chronos server would): answers a flat forecast at `level`, with the requested quantiles.
 * Its behaviour is switchable: 'ok', 'fail' (500), 'hang' (never answers), 'malformed' (wrong
 * number of predictions), 'refuse' (400).
 */
export type ForecasterMode = FakeWorkerMode;

export interface FakeForecaster extends FakeJsonServer {
  level: number;
}

export async function startFakeForecaster(): Promise<FakeForecaster> {
  let level = 42;
  const server = await startFakeJsonServer(({ body }, mode, reply) => {
    if (mode === 'malformed') return reply(200, { engine: 'toto', predictions: [1] });
    const horizon = Number(body.horizon);
    const quantiles: Record<string, number[]> = {};
    for (const q of (body.quantiles as number[]) ?? []) quantiles[String(q)] = Array(horizon).fill(level + (q - 0.5));
    const series = body.series as number[];
    reply(200, {
      engine: 'toto',
      model: 'toto-open-base-1.0',
      horizon,
      predictions: Array(horizon).fill(level),
      lastValue: series[series.length - 1],
      quantiles,
    });
  });
  return Object.defineProperty(server, 'level', {
    get: () => level,
    set: (value: number) => (level = value),
    enumerable: true,
  }) as FakeForecaster;
}
