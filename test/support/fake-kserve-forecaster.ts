import { startFakeJsonServer, type FakeJsonServer } from './fake-json-server';

/**
 * A fake remote forecasting worker on 127.0.0.1 speaking KServe's time-series protocol
 * (`POST /v1/timeseries/forecast`, the JSON of kserve/website `docs/reference/time_series/api.md`), as a
 * Chronos or TimesFM server behind KServe would: one output per input, a flat `mean_forecast` at
 * `level`, and the requested quantiles at `level + (q - 0.5)`. Besides the modes of every fake worker
 * ('fail' 500, 'hang', 'refuse' 400, 'malformed': a mean_forecast one value short), `refuseSeries`
 * makes it answer 200 with the protocol's per-output error, as the reference server does for a
 * horizon or quantile its model cannot give.
 */
export interface FakeKserveForecaster extends FakeJsonServer {
  level: number;
  refuseSeries: boolean;
}

interface KserveInput {
  type: string;
  name: string;
  series: number[];
  frequency: string;
}

export async function startFakeKserveForecaster(): Promise<FakeKserveForecaster> {
  const state = { level: 42, refuseSeries: false };
  const server = await startFakeJsonServer(({ path, body }, mode, reply) => {
    if (path !== '/v1/timeseries/forecast') return reply(404, { detail: 'Not Found' });
    const options = body.options as { horizon: number; quantiles?: number[] };
    const inputs = body.inputs as KserveInput[];
    const horizon = mode === 'malformed' ? options.horizon - 1 : options.horizon;
    const outputs = inputs.map((input, i) => {
      if (state.refuseSeries) {
        return {
          type: 'time_series_forecast',
          id: `ts_${i}`,
          status: 'error',
          content: [],
          error: { code: '400', message: `Invalid horizon: ${options.horizon}`, param: '', type: 'invalid_horizon' },
        };
      }
      const quantiles: Record<string, number[]> = {};
      for (const q of options.quantiles ?? []) quantiles[String(q)] = Array(horizon).fill(state.level + (q - 0.5));
      return {
        type: 'time_series_forecast',
        id: `ts_${i}`,
        status: 'completed',
        content: [
          {
            type: input.type,
            name: input.name,
            mean_forecast: Array(horizon).fill(state.level),
            frequency: input.frequency,
            start_timestamp: '2025-06-12T13:10:00Z',
            quantiles,
          },
        ],
      };
    });
    reply(200, {
      id: 'resp_fake',
      created_at: Math.floor(Date.now() / 1000),
      status: state.refuseSeries ? 'error' : 'completed',
      error: null,
      model: body.model,
      outputs,
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  });
  for (const key of ['level', 'refuseSeries'] as const) {
    Object.defineProperty(server, key, {
      get: () => state[key],
      set: (value: never) => (state[key] = value),
      enumerable: true,
    });
  }
  return server as FakeKserveForecaster;
}
