/**
 * What is said to a remote forecasting worker, by the protocol it speaks (its kind), kept apart from the
 * transport: `forecast`, the /forecast contract (toto-server's); `kserve`, KServe's time-series protocol
 * (`POST /v1/timeseries/forecast`, one input per call). Pure functions: an answer that is not a
 * well-formed forecast of the requested horizon throws an UpstreamError.
 */
import { parseJsonObject } from '../common/upstream/remote-worker-client';
import { UpstreamError } from '../common/upstream/upstream-error';
import { FREQUENCY_SEASON, type Frequency } from './engines/prepare';
import { kserveFrequencyOf } from './timeseries-time';

export const REMOTE_KINDS = ['forecast', 'kserve'] as const;
export type RemoteKind = (typeof REMOTE_KINDS)[number];

export interface RemoteForecastRequest {
  series: number[];
  horizon: number;
  metric?: string;
  season_length: number;
  frequency?: Frequency;
  quantiles: number[];
}

export interface RemoteForecastResult {
  engine: string;
  model?: string;
  predictions: number[];
  quantiles?: Record<string, number[]>;
}

/** One call to the worker: the path below its base URL, the JSON body, and how its answer is read. */
export interface RemoteCall {
  readonly path: string;
  readonly body: unknown;
  readonly parse: (text: string) => RemoteForecastResult;
}

function finiteArray(value: unknown, length: number): value is number[] {
  return (
    Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The well-formed quantile forecasts of an answer (others are dropped); undefined when there are none. */
function quantilesOf(value: unknown, horizon: number): Record<string, number[]> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value).filter(([, v]) => finiteArray(v, horizon));
  return entries.length > 0 ? (Object.fromEntries(entries) as Record<string, number[]>) : undefined;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' ? value.slice(0, max) : undefined;
}

function malformed(what: string): UpstreamError {
  return new UpstreamError('malformed', `the remote worker ${what}`);
}

/** The /forecast contract: the request as is; `predictions` and `quantiles` in the answer. */
function forecastCall(request: RemoteForecastRequest): RemoteCall {
  return {
    path: '/forecast',
    body: request,
    parse: (raw) => {
      const answer = parseJsonObject(raw);
      if (!finiteArray(answer.predictions, request.horizon)) {
        throw malformed(`did not answer ${request.horizon} finite predictions`);
      }
      return {
        engine: text(answer.engine, 100) ?? 'remote',
        model: text(answer.model, 200),
        predictions: answer.predictions,
        quantiles: quantilesOf(answer.quantiles, request.horizon),
      };
    },
  };
}

/**
 * KServe's frequency code for a series: from its frequency, else from its seasonal period, else `D`
 * (the protocol requires one; the period travels in `season_length`, an extra field).
 */
function kserveFrequency(request: RemoteForecastRequest): string {
  if (request.frequency !== undefined) return kserveFrequencyOf(request.frequency);
  const match = (Object.entries(FREQUENCY_SEASON) as [Frequency, number][]).find(
    ([frequency, season]) => season === request.season_length && frequency !== 'yearly',
  );
  return match ? kserveFrequencyOf(match[0]) : 'D';
}

/** The worker's own error of an answer or an output, as an UpstreamError that does not count against it. */
function refusal(error: unknown): UpstreamError {
  const message = isObject(error) ? text(error.message, 300) : undefined;
  return new UpstreamError('http_4xx', `the remote worker refused the series${message ? `: ${message}` : ''}`);
}

/** KServe's time-series protocol: one univariate input; the first output's first forecast. */
function kserveCall(request: RemoteForecastRequest, model: string): RemoteCall {
  const body: Record<string, unknown> = {
    model,
    inputs: [
      {
        type: 'univariate_time_series',
        name: request.metric ?? 'series',
        series: request.series,
        frequency: kserveFrequency(request),
        season_length: request.season_length,
      },
    ],
    options: { horizon: request.horizon, ...(request.quantiles.length > 0 ? { quantiles: request.quantiles } : {}) },
  };
  return {
    path: '/v1/timeseries/forecast',
    body,
    parse: (raw) => {
      const answer = parseJsonObject(raw);
      if (isObject(answer.error)) throw refusal(answer.error);
      const output: unknown = Array.isArray(answer.outputs) ? answer.outputs[0] : undefined;
      if (isObject(output) && (output.status === 'error' || isObject(output.error))) throw refusal(output.error);
      if (answer.status === 'error') throw refusal(undefined);
      if (!isObject(output)) throw malformed('answered no output');
      const forecast: unknown = Array.isArray(output.content) ? output.content[0] : undefined;
      if (!isObject(forecast) || !finiteArray(forecast.mean_forecast, request.horizon)) {
        throw malformed(`did not answer a mean_forecast of ${request.horizon} finite values`);
      }
      return {
        engine: 'remote',
        model: text(answer.model, 200),
        predictions: forecast.mean_forecast,
        quantiles: quantilesOf(forecast.quantiles, request.horizon),
      };
    },
  };
}

/** The call that asks a worker of `kind` for `request` (`model`: the KServe model name). */
export function remoteCall(kind: RemoteKind, request: RemoteForecastRequest, model?: string): RemoteCall {
  switch (kind) {
    case 'forecast':
      return forecastCall(request);
    case 'kserve':
      return kserveCall(request, model ?? '');
  }
}
