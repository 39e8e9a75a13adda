import { ConfigError, loadConfig } from '../../src/config/app-config';
import { parseGatewayConfig } from '../../src/config/gateway-config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('has a working default for every setting', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.embeddedDatabase).toBe(true);
    expect(config.embeddedRedis).toBe(true);
    expect(config.BODY_LIMIT_BYTES).toBe(10 * 1024 * 1024);
    expect(config.RATE_LIMIT_PER_MINUTE).toBe(60);
    expect(config.RATE_LIMIT_PER_HOUR).toBe(1000);
    expect(config.API_KEY_ROTATION_GRACE_SECONDS).toBe(86400);
  });

  it('converts numbers and booleans from strings', () => {
    const config = loadConfig({ PORT: '8080', MIGRATIONS_RUN: 'false', RATE_LIMIT_PER_MINUTE: '5' });
    expect(config.PORT).toBe(8080);
    expect(config.MIGRATIONS_RUN).toBe(false);
    expect(config.RATE_LIMIT_PER_MINUTE).toBe(5);
  });

  it('names every bad key at once', () => {
    const found = problems({ PORT: 'abc', LOG_LEVEL: 'loud', JWT_ALGORITHM: 'none', BODY_LIMIT_BYTES: '-1' });
    const keys = found.map((p) => p.split(':')[0]).sort();
    expect(keys).toEqual(['BODY_LIMIT_BYTES', 'JWT_ALGORITHM', 'LOG_LEVEL', 'PORT']);
  });

  it('never echoes the value of a sensitive key', () => {
    const found = problems({ JWT_SECRET: 'too-short-secret', DATABASE_URL: 'mysql://u:p4ssw0rd@h/db' });
    expect(found.join('\n')).toMatch(/JWT_SECRET/);
    expect(found.join('\n')).toMatch(/DATABASE_URL/);
    expect(found.join('\n')).not.toContain('too-short-secret');
    expect(found.join('\n')).not.toContain('p4ssw0rd');
  });

  it('requires real services and secrets in production', () => {
    const keys = problems({ NODE_ENV: 'production' }).map((p) => p.split(':')[0]);
    expect(keys).toEqual(expect.arrayContaining(['DATABASE_URL', 'JWT_SECRET']));
  });

  it('reports cross-key problems together with plain ones', () => {
    const keys = problems({ NODE_ENV: 'production', PORT: 'abc' }).map((p) => p.split(':')[0]);
    expect(keys.sort()).toEqual(['DATABASE_URL', 'JWT_SECRET', 'PORT']);
    const rs = problems({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: 'x' }).map((p) => p.split(':')[0]);
    expect(rs.sort()).toEqual(['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY']);
  });

  it('requires both PEM keys for RS256', () => {
    const keys = problems({ JWT_ALGORITHM: 'RS256' }).map((p) => p.split(':')[0]);
    expect(keys.sort()).toEqual(['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY']);
  });

  it('bounds a stream by GATEWAY_DEADLINE_MS unless GATEWAY_STREAM_DEADLINE_MS, never shorter, says otherwise', () => {
    expect(loadConfig({}).streamDeadlineMs).toBe(120_000);
    expect(loadConfig({ GATEWAY_DEADLINE_MS: '5000', GATEWAY_STREAM_DEADLINE_MS: '' }).streamDeadlineMs).toBe(5_000);
    expect(loadConfig({ GATEWAY_STREAM_DEADLINE_MS: '600000' }).streamDeadlineMs).toBe(600_000);
    expect(problems({ GATEWAY_STREAM_DEADLINE_MS: '60000' })).toEqual([
      'GATEWAY_STREAM_DEADLINE_MS: must not be less than GATEWAY_DEADLINE_MS',
    ]);
    expect(problems({ GATEWAY_STREAM_DEADLINE_MS: 'soon' }).map((p) => p.split(':')[0])).toEqual([
      'GATEWAY_STREAM_DEADLINE_MS',
    ]);
  });

  it('takes a remote forecaster of the forecast or kserve kind, a kserve one with its model', () => {
    expect(loadConfig({}).FORECAST_REMOTE_KIND).toBe('forecast');
    const url = 'http://chronos.internal:8080';
    expect(problems({ FORECAST_REMOTE_URL: url, FORECAST_REMOTE_KIND: 'kserve' })).toEqual([
      'FORECAST_REMOTE_MODEL: is required when FORECAST_REMOTE_KIND=kserve',
    ]);
    const config = loadConfig({ FORECAST_REMOTE_URL: url, FORECAST_REMOTE_KIND: 'kserve', FORECAST_REMOTE_MODEL: 'm' });
    expect([config.FORECAST_REMOTE_KIND, config.FORECAST_REMOTE_MODEL]).toEqual(['kserve', 'm']);
    expect(problems({ FORECAST_REMOTE_KIND: 'grpc' }).map((p) => p.split(':')[0])).toEqual(['FORECAST_REMOTE_KIND']);
  });

  it('ignores unrelated environment variables', () => {
    expect(() => loadConfig({ HOSTNAME: 'x', SOMETHING_ELSE: '1' })).not.toThrow();
  });
});

describe('parseGatewayConfig', () => {
  const parse = (text: string): ReturnType<typeof parseGatewayConfig> => parseGatewayConfig(text, {});

  it('lets an ollama instance leave out its models, and only an ollama one', () => {
    const { config, problems } = parse(`
providers:
  - { id: local, kind: ollama, base_url: http://127.0.0.1:11434 }
  - { id: hosted, kind: openai, base_url: https://api.openai.com/v1 }
`);
    expect(config.providers.map((p) => [p.id, p.models])).toEqual([['local', []]]);
    expect(problems).toEqual([
      'providers[1].models: must list at least one model (only an ollama instance may leave it out)',
    ]);
  });

  it('reads self_hosted, and refuses anything but a boolean', () => {
    const { config, problems } = parse(`
providers:
  - { id: vllm, kind: openai, base_url: http://127.0.0.1:8000/v1, models: [m], self_hosted: true }
  - { id: bad, kind: openai, base_url: http://127.0.0.1:8001/v1, models: [m], self_hosted: "yes" }
`);
    expect(config.providers.map((p) => [p.id, p.self_hosted])).toEqual([['vllm', true]]);
    expect(problems).toEqual(['providers[1].self_hosted: must be true or false']);
  });

  it('reads the output limit, the token-limit field and the cache prices of a model', () => {
    const { config, problems } = parse(`
models:
  - name: o3-mini
    input_usd_per_1m: 1.1
    output_usd_per_1m: 4.4
    cache_read_usd_per_1m: 0.55
    cache_write_usd_per_1m: 1.1
    max_output_tokens: 100000
    max_tokens_field: max_completion_tokens
  - { name: bad, max_output_tokens: 0, max_tokens_field: max_length, cache_read_usd_per_1m: -1 }
`);
    expect(config.models).toEqual([
      expect.objectContaining({
        name: 'o3-mini',
        cache_read_usd_per_1m: 0.55,
        cache_write_usd_per_1m: 1.1,
        max_output_tokens: 100_000,
        max_tokens_field: 'max_completion_tokens',
      }),
    ]);
    expect(problems.sort()).toEqual(
      [
        'models[1].cache_read_usd_per_1m: must be a number in 0..∞',
        'models[1].max_output_tokens: must be an integer in 1..∞',
        'models[1].max_tokens_field: must be one of max_tokens, max_completion_tokens',
      ].sort(),
    );
  });
});
