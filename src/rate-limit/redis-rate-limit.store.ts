import { Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitHit, RateLimitStore, RateLimitWindow } from './rate-limit.store';
import { bounded, RedisCircuit } from '../common/upstream/redis-circuit';

/**
 * For each key KEYS[i] with window ARGV[i] ms: INCR, and PEXPIRE on the first hit, in
 * one atomic step; returns { hits1, ttl1, hits2, ttl2, ... }.
 */
const HIT_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local window = ARGV[i]
  local hits = redis.call('INCR', key)
  if hits == 1 then redis.call('PEXPIRE', key, window) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = tonumber(window)
  end
  out[2 * i - 1] = hits
  out[2 * i] = ttl
end
return out
`;

type WithHitScript = Redis & { confluxRateHits(...keysThenWindows: Array<string | number>): Promise<number[]> };

export interface RedisRateLimitStoreOptions {
  prefix: string;
  /** Bound of every Redis call; past it the hit is counted on this instance only. */
  timeoutMs: number;
  /** Timeouts in a row after which Redis is skipped for a while (default: RedisCircuit's). */
  timeoutsToOpen?: number;
}

/**
 * Counters in Redis, shared by every instance: every window of a request in one round
 * trip. Every call is bounded by `timeoutMs` (the quotas' bound) behind the same kind of
 * circuit as quotas: when Redis cannot answer in time, rate limiting fails open to this
 * instance's own counters rather than blocking or delaying traffic.
 */
export class RedisRateLimitStore extends RateLimitStore implements OnModuleDestroy {
  readonly shared = true;
  private readonly fallback = new MemoryRateLimitStore();
  private readonly circuit: RedisCircuit;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisRateLimitStoreOptions,
  ) {
    super();
    redis.defineCommand('confluxRateHits', { lua: HIT_SCRIPT });
    this.circuit = new RedisCircuit(
      new Logger(RedisRateLimitStore.name),
      {
        down: 'Redis unavailable, rate limits fall back to this instance',
        up: 'Redis is back: rate limits are shared again',
      },
      { timeoutsToOpen: options.timeoutsToOpen },
    );
  }

  async hitAll(windows: readonly RateLimitWindow[]): Promise<RateLimitHit[]> {
    if (windows.length === 0) return [];
    if (this.circuit.open) return this.fallback.hitAll(windows);
    try {
      const reply = await bounded(
        (this.redis as WithHitScript).confluxRateHits(
          windows.length,
          ...windows.map((w) => `${this.options.prefix}rl:${w.key}`),
          ...windows.map((w) => w.windowMs),
        ),
        this.options.timeoutMs,
      );
      this.circuit.succeeded();
      return windows.map((_, i) => ({ hits: reply[2 * i], resetMs: reply[2 * i + 1] }));
    } catch (err) {
      this.circuit.failed(err);
      return this.fallback.hitAll(windows);
    }
  }

  onModuleDestroy(): void {
    this.fallback.onModuleDestroy();
    this.circuit.close();
  }
}
