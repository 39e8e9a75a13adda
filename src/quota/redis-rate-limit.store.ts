import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitHit, RateLimitStore } from './rate-limit.store';

const RETRY_REDIS_AFTER_MS = 2000;

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
  private readonly logger = new Logger(RedisRateLimitStore.name);
  private readonly fallback = new MemoryRateLimitStore();
  private degraded = false;
  /** While Redis is failing, skip it for a while instead of waiting out a timeout per request. */
  private skipUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
    redis.defineCommand('confluxRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    if (Date.now() < this.skipUntil) return this.fallback.hit(key, windowMs);
    try {
      const [hits, ttl] = await (
        this.redis as Redis & { confluxRateHit(key: string, windowMs: number): Promise<[number, number]> }
      ).confluxRateHit(`${this.prefix}rl:${key}`, windowMs);
      if (this.degraded) {
        this.degraded = false;
        this.logger.log('Redis is back: rate limits are shared again');
      }
      return { hits, resetMs: ttl };
    } catch (err) {
      this.skipUntil = Date.now() + RETRY_REDIS_AFTER_MS;
      if (!this.degraded) {
        this.degraded = true;
        this.logger.warn(`Redis unavailable, rate limits fall back to this instance: ${String(err)}`);
      }
      return this.fallback.hit(key, windowMs);
    }
  }
}
