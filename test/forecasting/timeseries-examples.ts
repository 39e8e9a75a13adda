/** KServe's time-series forecast examples and checks shared by the /v1/timeseries/forecast tests. */

/**
 * The request and response examples of KServe's time-series forecast API, verbatim: kserve/website
 * `docs/reference/time_series/api.md` ("Request Example": the body of the curl command; "Response
 * Example"), commit 05b83a6cf9d6c4045a83d79eb8d0029605d655e7.
 */
export const DOCS_REQUEST = `{
    "model": "timesfm2",
    "inputs": [
      {
        "type": "univariate_time_series",
        "name": "stock_price",
        "series": [120, 122, 125, 127, 130, 133, 135],
        "frequency": "D",
        "start_timestamp": "2025-06-05T13:10:00Z"
      },
      {
        "type": "univariate_time_series",
        "name": "humidity",
        "series": [33, 34, 35, 36, 37],
        "frequency": "H",
        "start_timestamp": "2025-06-05T13:10:00Z"
      }
    ],
    "options": {
      "horizon": 4,
      "quantiles": [0.1, 0.5, 0.9],
      "other_options": "value"
    },
    "metadata": {
      "request_id": "user_defined_request_id",
      "other_data": "value"
    },
    "other_properties": "value"
  }`;

export const DOCS_RESPONSE = `{
  "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
  "created_at": 1741476542,
  "status": "completed",
  "error": null,
  "model": "timesfm2",
  "outputs": [
    {
      "type": "time_series_forecast",
      "id": "ts_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
      "status": "completed",
      "content": [
        {
          "type": "univariate_time_series",
          "name": "stock_price",
          "mean_forecast": [138, 141, 144, 147],
          "frequency": "D",
          "start_timestamp": "2025-06-12T13:10:00Z",
          "quantiles": {
            "0.1": [135, 138, 140, 143],
            "0.5": [138, 141, 144, 147],
            "0.9": [142, 145, 148, 151]
          }
        }
      ]
    },
    {
      "type": "time_series_forecast",
      "id": "ts_67ccd2bsdf9q3wadfk439jngjmaphng0oswa34nm8we0ejrf",
      "status": "completed",
      "content": [
        {
          "type": "univariate_time_series",
          "name": "humidity",
          "mean_forecast": [39, 40, 41, 42],
          "frequency": "H",
          "start_timestamp": "2025-06-05T18:10:00Z",
          "quantiles": {
            "0.1": [37, 38, 39, 40],
            "0.5": [39, 40, 41, 42],
            "0.9": [41, 42, 43, 44]
          }
        }
      ]
    }
  ],
  "usage": {
    "prompt_tokens": 4,
    "completion_tokens": 2,
    "total_tokens": 6
  },
  "other_properties": "value"
}`;

export interface Content {
  type: string;
  name: string;
  mean_forecast: number[];
  frequency: string;
  start_timestamp: string | null;
  quantiles?: Record<string, number[]>;
  engine: string;
  fitted_model: string;
  season_length: number;
  imputed?: number;
  fallback?: boolean;
  skipped?: { engine: string; reason: string }[];
}

export interface Output {
  type: string;
  id: string;
  status: string;
  content: Content[];
  error?: { code: string; message: string; param: string | null; type: string };
}

export interface TsResponse {
  id: string;
  created_at: number;
  status: string;
  error: Output['error'] | null;
  model: string;
  outputs: Output[];
}

/** Checks one forecast against its input: horizon, quantile keys and order, the median on the mean. */
export function expectForecast(content: Content, horizon: number, levels: number[]): void {
  expect(content.mean_forecast).toHaveLength(horizon);
  expect(content.mean_forecast.every(Number.isFinite)).toBe(true);
  expect(Object.keys(content.quantiles ?? {}).sort()).toEqual(levels.map(String).sort());
  for (let t = 0; t < horizon; t++) {
    const ordered = [...levels].sort((a, b) => a - b).map((q) => content.quantiles![String(q)][t]);
    expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
  }
  if (levels.includes(0.5)) {
    content.quantiles!['0.5'].forEach((v, t) => expect(v).toBeCloseTo(content.mean_forecast[t], 9));
  }
}
