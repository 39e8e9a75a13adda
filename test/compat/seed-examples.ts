/**
 * Every documented request of the five services Conflux replaces, as their documents write it: a
 * `curl` command line (or the JSON body the document shows, sent to the route it documents), with
 * what the document says comes back. The runner sends each one to Conflux with only the base URL
 * replaced and credentials added, and checks the documented status and fields.
 *
 * `placeholder` credentials written in a document (`YOUR_JWT_TOKEN`, `YOUR_API_KEY`) are replaced by
 * real ones; a request that carries none gets the project's API key unless its route is public
 * (health, metrics, docs and service information stay public).
 */

/** What one example checks on its answer; `body` is the parsed JSON (undefined for text). */
export interface SeedAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> | undefined;
  text: string;
}

export interface SeedExample {
  /** The seed document the example comes from, and the words it is documented under. */
  seed: 'toto-server.md' | 'ml-model-server.md' | 'production-api.md' | 'oneflow-ai.md' | 'vllm-ollama-service.md';
  section: string;
  /** The request as the document writes it (a curl command), base URL included. */
  curl: string;
  /** Public routes are sent without credentials, as the seed's probes and scripts do. */
  public?: boolean;
  status: number;
  check?: (answer: SeedAnswer) => void;
}

const num = expect.any(Number);
const str = expect.any(String);

function json(answer: SeedAnswer): Record<string, unknown> {
  expect(answer.body).toBeDefined();
  return answer.body as Record<string, unknown>;
}

function expectIsoTimestamp(value: unknown): void {
  expect(typeof value).toBe('string');
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

/** The answer of the ML Model Server's `/predict`, field for field. */
function expectPrediction(answer: SeedAnswer): void {
  const body = json(answer);
  expect(body).toMatchObject({
    symbol: 'BTCUSDT',
    prediction: { direction: expect.stringMatching(/^(BUY|SELL|HOLD)$/), confidence: num },
    model_name: str,
    model_version: str,
    latency_ms: num,
  });
  const prediction = body.prediction as Record<string, unknown>;
  expect(prediction).toHaveProperty('expected_return');
}

function expectMlHealth(answer: SeedAnswer): void {
  expect(json(answer)).toMatchObject({ status: 'healthy', models_loaded: num, uptime_seconds: num });
  expect(json(answer).models_loaded).toBeGreaterThanOrEqual(1);
}

function expectTextGenerate(answer: SeedAnswer): void {
  const body = json(answer);
  expect(body).toMatchObject({
    success: true,
    data: { text: str, generated_tokens: num, input_tokens: num },
    metrics: { generation_time: num, total_time: num, tokens_per_second: num },
    request_id: answer.headers.get('x-request-id'),
  });
  expect((body.data as { text: string }).text.length).toBeGreaterThan(0);
}

function expectLegacyChat(answer: SeedAnswer, model: string): void {
  const body = json(answer);
  expect(body).toMatchObject({
    status: 'success',
    response: str,
    model,
    prompt_tokens: num,
    response_tokens: num,
    total_tokens: num,
  });
  expect(body.total_tokens).toBe((body.prompt_tokens as number) + (body.response_tokens as number));
  expectIsoTimestamp(body.timestamp);
}

function expectEstimate(answer: SeedAnswer): void {
  const body = json(answer);
  expect(body).toMatchObject({ primary_model: str, estimated_credits: num, fallback_chain: expect.any(Array) });
}

function expectServicesHealth(answer: SeedAnswer): void {
  const body = json(answer);
  expect(body.status).toBe('healthy');
  expectIsoTimestamp(body.timestamp);
  const services = body.services as Record<string, Record<string, unknown>>;
  expect(services.ollama).toMatchObject({
    status: 'healthy',
    ollama_url: str,
    // Ollama lists an untagged pull as `name:latest` (and answers to both names, as Conflux does).
    available_models: expect.arrayContaining([expect.stringMatching(/^bge-m3(:latest)?$/), 'gpt-oss:20b']),
    total_models: num,
  });
  expect(services.ollama.total_models).toBe((services.ollama.available_models as unknown[]).length);
  expect(services.vllm).toMatchObject({ status: 'healthy', url: str });
}

function expectEnvelope(answer: SeedAnswer, error: string): void {
  expect(json(answer)).toMatchObject({ error, message: str, request_id: answer.headers.get('x-request-id') });
}

export const SEED_EXAMPLES: SeedExample[] = [
  // toto-server: a small forecasting server in front of a UI.
  {
    seed: 'toto-server.md',
    section: 'GET /health, curl examples, quick start, systemd and Docker checks',
    curl: 'curl -s http://127.0.0.1:8000/health',
    public: true,
    status: 200,
    check: (a) => expect(json(a).ok).toBe(true),
  },
  {
    seed: 'toto-server.md',
    section: 'curl examples: forecast',
    curl: `curl -s -X POST http://127.0.0.1:8000/forecast \\
  -H "Content-Type: application/json" \\
  -d '{"series":[0.9,1.0,0.95,1.1],"horizon":3,"metric":"chars_per_sec"}'`,
    status: 200,
    check: (a) => {
      const body = json(a);
      expect(body).toMatchObject({ engine: str, horizon: 3, lastValue: 1.1 });
      expect(body.predictions).toEqual([num, num, num]);
    },
  },
  {
    seed: 'toto-server.md',
    section: 'POST /forecast: input example (horizon defaults to 3, metric optional)',
    curl: `curl -s -X POST http://127.0.0.1:8000/forecast -H "Content-Type: application/json" -d '{"series": [0.82, 1.05, 0.97, 1.21]}'`,
    status: 200,
    check: (a) => {
      expect(json(a)).toMatchObject({ horizon: 3, lastValue: 1.21 });
      expect(json(a).predictions).toHaveLength(3);
    },
  },

  // ML Model Server: trading-signal predictions.
  {
    seed: 'ml-model-server.md',
    section: 'Health Check',
    curl: 'curl http://localhost:8001/health',
    public: true,
    status: 200,
    check: expectMlHealth,
  },
  {
    seed: 'ml-model-server.md',
    section: 'Predict (the document elides the feature vector: "[0.1, 0.2, ...]")',
    curl: `curl -X POST http://localhost:8001/predict \\
  -H "Content-Type: application/json" \\
  -d '{
    "symbol": "BTCUSDT",
    "features": [0.1, 0.2, ...],
    "model_version": "latest"
  }'`,
    status: 200,
    check: expectPrediction,
  },
  {
    seed: 'ml-model-server.md',
    section: 'Extended endpoints: Health',
    curl: 'curl http://localhost:8001/api/ml/health',
    public: true,
    status: 200,
    check: expectMlHealth,
  },
  {
    seed: 'ml-model-server.md',
    section: 'Extended endpoints: Predict',
    curl: `curl -X POST http://localhost:8001/api/ml/predict -H "Content-Type: application/json" -d '{"symbol": "BTCUSDT", "features": [0.1, 0.2, ...], "model_version": "latest"}'`,
    status: 200,
    check: expectPrediction,
  },
  {
    seed: 'ml-model-server.md',
    section: 'Extended endpoints: Batch Predict',
    curl: `curl -X POST http://localhost:8001/api/ml/predict/batch -H "Content-Type: application/json" -d '{"items": [{"symbol": "BTCUSDT", "features": [0.1, 0.2, ...]}, {"symbol": "ETHUSDT", "features": [0.1, 0.2, ...]}]}'`,
    status: 200,
    check: (a) => {
      const body = json(a);
      const results = (body.predictions ?? body.results ?? body.items) as unknown[];
      expect(Array.isArray(results)).toBe(true);
      expect(results).toHaveLength(2);
    },
  },
  {
    seed: 'ml-model-server.md',
    section: 'Extended endpoints: Model Info (read by programs with an API key)',
    curl: 'curl http://localhost:8001/api/ml/models',
    status: 200,
    check: (a) => expect(JSON.stringify(a.body)).toContain('signal'),
  },
  {
    seed: 'ml-model-server.md',
    section: 'Swagger UI',
    curl: 'curl http://localhost:8001/docs',
    public: true,
    status: 200,
    check: (a) => expect(a.text).toContain('swagger'),
  },
  {
    seed: 'ml-model-server.md',
    section: 'ReDoc',
    curl: 'curl http://localhost:8001/redoc',
    public: true,
    status: 200,
    check: (a) => expect(a.text.toLowerCase()).toContain('redoc'),
  },

  // Production API: text generation (Avibe) and image analysis (Avision).
  {
    seed: 'production-api.md',
    section: '4. Health Checks: simple check (also the nginx health_check uri and deploy.sh check)',
    curl: 'curl http://localhost:8085/api/health',
    public: true,
    status: 200,
    check: (a) => expect(json(a)).toMatchObject({ status: 'healthy', uptime_seconds: num }),
  },
  {
    seed: 'production-api.md',
    section: '4. Health Checks: readiness (is a GPU available?)',
    curl: 'curl http://localhost:8085/api/health/ready',
    public: true,
    status: 200,
    check: (a) => {
      expect(json(a)).toMatchObject({ status: 'ready', cuda_available: true });
      expect(json(a).gpu_memory_gb).toMatch(/^\d+\.\d\d$/);
    },
  },
  {
    seed: 'production-api.md',
    section: '4. Health Checks: liveness probe',
    curl: 'curl http://localhost:8085/api/health/live',
    public: true,
    status: 200,
    check: (a) => expect(json(a)).toMatchObject({ status: 'alive' }),
  },
  {
    seed: 'production-api.md',
    section: '5. Metrics Endpoint (and the monitoring integration reading gpu_utilization)',
    curl: 'curl http://localhost:8085/api/metrics',
    public: true,
    status: 200,
    check: (a) => {
      const body = json(a);
      expect(body).toHaveProperty('system');
      expect(body).toHaveProperty('application');
      // The seed's client: float(metrics["gpu"]["gpu_utilization"].rstrip('%'))
      const utilization = Number.parseFloat(
        ((body.gpu as Record<string, string>).gpu_utilization ?? '').replace(/%$/, ''),
      );
      expect(Number.isFinite(utilization)).toBe(true);
    },
  },
  {
    seed: 'production-api.md',
    section: '8. JSON API (and 3. API Integration with requests.post)',
    curl: `curl -X POST http://localhost:8085/api/v1/text/generate \\
  -H "Content-Type: application/json" \\
  -d '{"prompt": "Hello", "max_tokens": 100}'`,
    status: 200,
    check: expectTextGenerate,
  },
  {
    seed: 'production-api.md',
    section: '6. Input Validation: prompt length (max 2000 characters)',
    curl: `curl -X POST http://localhost:8085/api/v1/text/generate -H "Content-Type: application/json" -d '{"prompt": "${'x'.repeat(2001)}", "max_tokens": 100}'`,
    status: 400,
    check: (a) => {
      expectEnvelope(a, 'validation_error');
      expect(json(a).message).toBe('Prompt too long. Maximum length: 2000 characters');
    },
  },

  // OneFlow.AI: pricing and routing.
  {
    seed: 'oneflow-ai.md',
    section: 'Available endpoints: Health check (also REST API and Troubleshooting)',
    curl: 'curl http://localhost:8000/health',
    public: true,
    status: 200,
  },
  {
    seed: 'oneflow-ai.md',
    section: 'Available endpoints: Readiness probe',
    curl: 'curl http://localhost:8000/ready',
    public: true,
    status: 200,
  },
  {
    seed: 'oneflow-ai.md',
    section: 'Available endpoints: Prometheus metrics (and the Troubleshooting greps)',
    curl: 'curl http://localhost:8000/metrics',
    public: true,
    status: 200,
    check: (a) => {
      for (const grep of ['http_request_duration', 'circuit_breaker_state', 'provider_errors', 'db_pool']) {
        expect(a.text.split('\n').some((line) => line.includes(grep))).toBe(true);
      }
    },
  },
  {
    seed: 'oneflow-ai.md',
    section: 'Available endpoints: "curl .../api/v1/estimate  # POST" (sent as written: a GET)',
    curl: 'curl http://localhost:8000/api/v1/estimate',
    status: 405,
    check: (a) => {
      expectEnvelope(a, 'method_not_allowed');
      expect(a.headers.get('allow')).toContain('POST');
    },
  },
  {
    seed: 'oneflow-ai.md',
    section: 'Available endpoints: "curl .../api/v1/request   # POST" (sent as written: a GET)',
    curl: 'curl http://localhost:8000/api/v1/request',
    status: 405,
    check: (a) => expect(a.headers.get('allow')).toContain('POST'),
  },
  {
    seed: 'oneflow-ai.md',
    section: 'Documentation: Swagger UI',
    curl: 'curl http://localhost:8000/docs',
    public: true,
    status: 200,
  },
  {
    seed: 'oneflow-ai.md',
    section: 'Documentation: ReDoc',
    curl: 'curl http://localhost:8000/redoc',
    public: true,
    status: 200,
    check: (a) => expect(a.headers.get('content-type')).toContain('text/html'),
  },
  {
    seed: 'oneflow-ai.md',
    section: 'REST API: estimate (JWT)',
    curl: `curl -X POST http://localhost:8000/api/v1/estimate \\
  -H "Authorization: Bearer YOUR_JWT_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{
    "input_tokens": 1500,
    "output_tokens": 500,
    "strategy": "cost_optimized",
    "modality": "text"
  }'`,
    status: 200,
    check: expectEstimate,
  },
  {
    seed: 'oneflow-ai.md',
    section: 'Pricing: worked example (GPT-4, 1500 in + 500 out = $0.075 = 7.5 credits)',
    curl: `curl -X POST http://localhost:8000/api/v1/estimate -H "X-API-Key: YOUR_API_KEY" -H "Content-Type: application/json" -d '{"model": "gpt-4", "input_tokens": 1500, "output_tokens": 500, "modality": "text"}'`,
    status: 200,
    check: (a) =>
      expect(json(a)).toMatchObject({ primary_model: 'gpt-4', estimated_credits: 7.5, strategy: 'balanced' }),
  },
  {
    seed: 'oneflow-ai.md',
    section: 'REST API: request (API key)',
    curl: `curl -X POST http://localhost:8000/api/v1/request \\
  -H "X-API-Key: YOUR_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "prompt": "Write a haiku about AI",
    "strategy": "balanced"
  }'`,
    status: 200,
    check: (a) => expect(json(a)).toMatchObject({ text: str, model: str, credits: num }),
  },

  // vLLM + Ollama integration service.
  {
    seed: 'vllm-ollama-service.md',
    section: 'GET /health (quick start, metrics, debugging)',
    curl: 'curl http://localhost:8005/health',
    public: true,
    status: 200,
    check: expectServicesHealth,
  },
  {
    seed: 'vllm-ollama-service.md',
    section: 'API versioning: current version',
    curl: 'curl http://localhost:8005/v1/health',
    public: true,
    status: 200,
    check: expectServicesHealth,
  },
  {
    seed: 'vllm-ollama-service.md',
    section: 'GET / : service information',
    curl: 'curl http://localhost:8005/',
    public: true,
    status: 200,
    check: (a) => expect(json(a)).toMatchObject({ name: str, version: str }),
  },
  {
    seed: 'vllm-ollama-service.md',
    section: 'GET /models',
    curl: 'curl http://localhost:8005/models',
    status: 200,
    check: (a) => {
      const body = json(a);
      expect(body).toMatchObject({ status: 'success', total_count: num });
      expectIsoTimestamp(body.timestamp);
      const models = body.models as Record<string, unknown>[];
      expect(models).toHaveLength(body.total_count as number);
      const bge = models.find((m) => m.name === 'bge-m3' || m.name === 'bge-m3:latest');
      expect(bge).toMatchObject({ size: str, parameters: str, template: 'embedding' });
    },
  },
  {
    seed: 'vllm-ollama-service.md',
    section: 'Quick start: chat test',
    curl: `curl -X POST "http://localhost:8005/chat" \\
  -H "Content-Type: application/json" \\
  -d '{"message": "Привет!", "model": "gpt-oss:20b"}'`,
    status: 200,
    check: (a) => expectLegacyChat(a, 'gpt-oss:20b'),
  },
  {
    seed: 'vllm-ollama-service.md',
    section: 'POST /chat: request with history',
    curl: `curl -X POST http://localhost:8005/chat -H "Content-Type: application/json" -d '{
  "message": "Расскажи о машинном обучении",
  "model": "gpt-oss:20b",
  "history": [
    {"role": "user", "content": "Привет"},
    {"role": "assistant", "content": "Здравствуйте!"}
  ],
  "max_tokens": 2048
}'`,
    status: 200,
    check: (a) => expectLegacyChat(a, 'gpt-oss:20b'),
  },
  {
    seed: 'vllm-ollama-service.md',
    section: 'Metrics: statistics',
    curl: 'curl http://localhost:8005/stats',
    status: 200,
    check: (a) => expect(typeof a.body).toBe('object'),
  },
];

/** The request a curl command line describes. */
export interface CurlRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Splits a shell command line into words (quotes, backslash-newline continuations). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  const text = line.replace(/\\\n/g, ' ');
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Reads a curl command: -X, -H, -d and the URL (whose origin is replaced by Conflux's). */
export function parseCurl(command: string): CurlRequest {
  const words = shellWords(command);
  if (words[0] !== 'curl') throw new Error(`not a curl command: ${command}`);
  let method: string | undefined;
  let url: string | undefined;
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i += 1) {
    const w = words[i];
    if (w === '-X' || w === '--request') method = words[++i];
    else if (w === '-H' || w === '--header') {
      const header = words[++i];
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (w === '-d' || w === '--data' || w === '--data-raw') body = words[++i];
    else if (w.startsWith('-')) continue;
    else url = w;
  }
  if (!url) throw new Error(`no URL in ${command}`);
  const parsed = new URL(url);
  return {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    path: parsed.pathname + parsed.search,
    headers,
    body,
  };
}
