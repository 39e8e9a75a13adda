import { Api } from '../support/http';

/** A remote forecasting worker's settings in the tests: a short deadline, a breaker quick to open and to retry. */
export function remoteWorkerEnv(url: string, token: string): Record<string, string> {
  return {
    FORECAST_REMOTE_URL: url,
    FORECAST_REMOTE_TOKEN: token,
    FORECAST_REMOTE_TIMEOUT_MS: '300',
    FORECAST_REMOTE_VOLUME_THRESHOLD: '3',
    FORECAST_REMOTE_ERROR_THRESHOLD_PERCENTAGE: '50',
    FORECAST_REMOTE_RESET_TIMEOUT_MS: '1000',
  };
}

/** The remote worker's breaker state as exported: 0 closed, 1 half-open, 2 open. */
export async function breakerGauge(api: Api): Promise<number> {
  const match = /conflux_forecast_remote_breaker_state (\d)/.exec((await api.get('/metrics')).text);
  return Number(match?.[1]);
}
