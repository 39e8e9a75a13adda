import { Histogram, Registry } from 'prom-client';
import type { AppConfig } from '../../src/config/app-config';
import { REDIS_COMMAND_DURATION, RedisService } from '../../src/redis/redis.service';
import { testRedisUrl, uniqueRedisPrefix } from '../support/services';

describe('Redis command timing', () => {
  let registry: Registry;
  let service: RedisService;

  beforeAll(async () => {
    registry = new Registry();
    const duration = new Histogram({
      name: REDIS_COMMAND_DURATION,
      help: 'h',
      labelNames: ['command', 'outcome'],
      registers: [registry],
    });
    const config = { REDIS_URL: testRedisUrl(), REDIS_CONNECT_TIMEOUT_MS: 2_000, REDIS_COMMAND_TIMEOUT_MS: 2_000 };
    service = new RedisService(config as AppConfig, duration);
    expect(await service.waitUntilReady()).toBe(true);
  });
  afterAll(() => service.onApplicationShutdown());

  async function counts(): Promise<Record<string, number>> {
    const metric = await registry.getSingleMetric(REDIS_COMMAND_DURATION)!.get();
    const out: Record<string, number> = {};
    for (const v of metric.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>) {
      if (!v.metricName?.endsWith('_count')) continue;
      out[`${String(v.labels.command)}/${String(v.labels.outcome)}`] = v.value;
    }
    return out;
  }

  it('observes every command once, by name and outcome, and leaves replies and errors as they were', async () => {
    const client = service.client!;
    const key = `${uniqueRedisPrefix()}timing`;
    expect(await client.set(key, '1', 'PX', 10_000)).toBe('OK');
    // Auto-pipelined together, answered each with its own reply.
    expect(await Promise.all([client.incr(key), client.get(key)])).toEqual([2, '2']);
    const [[, incr], [, get]] = (await client.pipeline().incr(key).get(key).exec())!;
    expect([incr, get]).toEqual([3, '3']);
    await expect(client.call('NO-SUCH-COMMAND')).rejects.toThrow(/unknown command/i);
    await expect(client.incrby(key, 'not-a-number')).rejects.toThrow(/not an integer/);
    expect(await counts()).toMatchObject({
      'set/ok': 1,
      'incr/ok': 2,
      'get/ok': 2,
      'NO-SUCH-COMMAND/error': 1,
      'incrby/error': 1,
    });
  });
});
