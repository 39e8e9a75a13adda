import { UpstreamError } from '../../src/common/upstream/upstream-error';
import { remoteCall, type RemoteForecastRequest } from '../../src/forecasting/remote-contracts';
import { advance, frequencyOf, isTimestamp, KSERVE_FREQUENCIES } from '../../src/forecasting/timeseries-time';
import { DOCS_RESPONSE } from './timeseries-examples';

describe('KServe time-series timestamps and frequencies', () => {
  it("advances the documentation's examples by the series' length", () => {
    // stock_price: 7 daily points from 2025-06-05T13:10:00Z; humidity: 5 hourly points from the same time.
    expect(advance('2025-06-05T13:10:00Z', 'D', 7)).toBe('2025-06-12T13:10:00Z');
    expect(advance('2025-06-05T13:10:00Z', 'H', 5)).toBe('2025-06-05T18:10:00Z');
  });

  it('steps every frequency code, calendar months clamped to the month end', () => {
    expect(advance('2025-06-05T13:10:00Z', 'second', 90)).toBe('2025-06-05T13:11:30Z');
    expect(advance('2025-06-05T13:10:00Z', 'T', 60)).toBe('2025-06-05T14:10:00Z');
    expect(advance('2025-12-29T00:00:00Z', 'WEEK', 1)).toBe('2026-01-05T00:00:00Z');
    expect(advance('2024-01-31T08:00:00Z', 'M', 1)).toBe('2024-02-29T08:00:00Z');
    expect(advance('2023-01-31', 'month', 1)).toBe('2023-02-28');
    expect(advance('2024-11-30', 'Q', 1)).toBe('2025-02-28');
    expect(advance('2024-02-29', 'Y', 1)).toBe('2025-02-28');
    expect(advance('2024-02-29', 'year', 4)).toBe('2028-02-29');
  });

  it('keeps how the start was written: its offset, its fraction, a date without a time', () => {
    expect(advance('2025-03-30T01:30:00+02:00', 'H', 3)).toBe('2025-03-30T04:30:00+02:00');
    expect(advance('2025-03-30T01:30:00-0530', 'D', 1)).toBe('2025-03-31T01:30:00-05:30');
    expect(advance('2025-03-30T01:30:00.250Z', 'S', 1)).toBe('2025-03-30T01:30:01.250Z');
    expect(advance('2025-03-30T01:30', 'T', 30)).toBe('2025-03-30T02:00:00');
    expect(advance('2025-03-30', 'H', 30)).toBe('2025-03-31T06:00:00');
    expect(advance('2025-03-30', 'D', 2)).toBe('2025-04-01');
  });

  it('accepts ISO 8601 dates and date-times only, real ones', () => {
    for (const ok of ['2025-06-05', '2025-06-05T13:10:00Z', '2025-06-05T13:10Z', '2025-06-05 13:10:00+01:00']) {
      expect(isTimestamp(ok)).toBe(true);
    }
    for (const bad of ['2025-02-30', '2025-13-01', '2025-06-05T24:00:00Z', '05/06/2025', '2025-06-05T13:10:00Q', '']) {
      expect(isTimestamp(bad)).toBe(false);
    }
  });

  it('knows the seasonal period of each frequency; seconds and minutes are detected', () => {
    expect(KSERVE_FREQUENCIES).toEqual(expect.arrayContaining(['S', 'second', 'SECOND', 'H', 'hour', 'HOUR', 'Y']));
    expect(['H', 'D', 'W', 'M', 'Q', 'Y'].map(frequencyOf)).toEqual([
      'hourly',
      'daily',
      'weekly',
      'monthly',
      'quarterly',
      'yearly',
    ]);
    expect([frequencyOf('S'), frequencyOf('minute')]).toEqual([undefined, undefined]);
  });
});

describe('the remote worker contracts', () => {
  const request: RemoteForecastRequest = {
    series: [1, 2, 3],
    horizon: 4,
    metric: 'stock_price',
    season_length: 7,
    frequency: 'daily',
    quantiles: [0.1, 0.5, 0.9],
  };
  const kserve = remoteCall('kserve', request, 'timesfm2');

  it('asks a KServe worker for one univariate input on its time-series route', () => {
    expect(kserve.path).toBe('/v1/timeseries/forecast');
    expect(kserve.body).toEqual({
      model: 'timesfm2',
      inputs: [
        { type: 'univariate_time_series', name: 'stock_price', series: [1, 2, 3], frequency: 'D', season_length: 7 },
      ],
      options: { horizon: 4, quantiles: [0.1, 0.5, 0.9] },
    });
    // No frequency: the one of the period (12: monthly), else D; no quantiles: none asked for.
    const monthly = remoteCall('kserve', { ...request, frequency: undefined, season_length: 12, quantiles: [] }, 'm');
    expect(monthly.body).toMatchObject({ inputs: [{ frequency: 'M' }], options: { horizon: 4 } });
    expect((monthly.body as { options: object }).options).toEqual({ horizon: 4 });
    const unknown = remoteCall('kserve', { ...request, frequency: undefined, season_length: 5 }, 'm');
    expect(unknown.body).toMatchObject({ inputs: [{ frequency: 'D' }] });
  });

  it("reads the documentation's response example (its first output)", () => {
    expect(kserve.parse(DOCS_RESPONSE)).toEqual({
      engine: 'remote',
      model: 'timesfm2',
      predictions: [138, 141, 144, 147],
      quantiles: { '0.1': [135, 138, 140, 143], '0.5': [138, 141, 144, 147], '0.9': [142, 145, 148, 151] },
    });
  });

  const failure = (call: () => unknown): UpstreamError => {
    try {
      call();
    } catch (error) {
      if (error instanceof UpstreamError) return error;
      throw error;
    }
    throw new Error('expected an UpstreamError');
  };

  it("takes the protocol's error answers as refusals (not the worker's fault) and bad answers as malformed", () => {
    const docs = JSON.parse(DOCS_RESPONSE) as Record<string, unknown>;
    const refusedTop = failure(() =>
      kserve.parse(JSON.stringify({ error: { type: 'invalid_horizon', message: 'Invalid horizon: 4' } })),
    );
    expect([refusedTop.errorClass, refusedTop.countsAgainstUpstream, refusedTop.message]).toEqual([
      'http_4xx',
      false,
      'the remote worker refused the series: Invalid horizon: 4',
    ]);
    const outputs = docs.outputs as Record<string, unknown>[];
    const refusedOutput = failure(() =>
      kserve.parse(JSON.stringify({ ...docs, outputs: [{ ...outputs[0], status: 'error', content: [] }] })),
    );
    expect(refusedOutput.errorClass).toBe('http_4xx');
    const short = failure(() => remoteCall('kserve', { ...request, horizon: 5 }, 'timesfm2').parse(DOCS_RESPONSE));
    expect([short.errorClass, short.countsAgainstUpstream]).toEqual(['malformed', true]);
    expect(failure(() => kserve.parse(JSON.stringify({ ...docs, outputs: [] }))).errorClass).toBe('malformed');
    expect(failure(() => kserve.parse('[1, 2]')).errorClass).toBe('malformed');
  });

  it('keeps the /forecast contract for the other kind', () => {
    const call = remoteCall('forecast', request);
    expect([call.path, call.body]).toEqual(['/forecast', request]);
    expect(
      call.parse(JSON.stringify({ engine: 'toto', predictions: [1, 2, 3, 4], quantiles: { '0.5': [1] } })),
    ).toEqual({ engine: 'toto', model: undefined, predictions: [1, 2, 3, 4], quantiles: undefined });
  });
});
