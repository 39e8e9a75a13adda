import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitHit, RateLimitStore } from './rate-limit.store';
import { RedisCircuit } from './redis-circuit';

/** INCR and PEXPIRE in one atomic step; returns the count and the window's remaining ms. */
const HIT_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { hits, ttl }
`;

/**
 * Counters in Redis, shared by every instance. When Redis cannot answer, rate
 * limiting fails open to this instance's own counters rather than blocking traffic.
 */
export class RedisRateLimitStore extends RateLimitStore {
  readonly shared = true;
  private readonly fallback = new MemoryRateLimitStore();
  private readonly circuit = new RedisCircuit(new Logger(RedisRateLimitStore.name), {
    down: 'Redis unavailable, rate limits fall back to this instance',
    up: 'Redis is back: rate limits are shared again',
  });

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
    redis.defineCommand('confluxRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    if (this.circuit.open) return this.fallback.hit(key, windowMs);
    try {
      const [hits, ttl] = await (
        this.redis as Redis & { confluxRateHit(key: string, windowMs: number): Promise<[number, number]> }
      ).confluxRateHit(`${this.prefix}rl:${key}`, windowMs);
      this.circuit.succeeded();
      return { hits, resetMs: ttl };
    } catch (err) {
      this.circuit.failed(err);
      return this.fallback.hit(key, windowMs);
    }
  }
}
