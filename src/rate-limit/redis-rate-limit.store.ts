import { Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitHit, RateLimitStore, RateLimitWindow } from './rate-limit.store';
import { RateShares, RateShareSettings, ShareCounter, ShareWriter } from './rate-shares';
import { redisShareWriter } from './redis-rate-shares';
import { nextTurn } from '../common/next-turn';
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
  /** Shares of busy counters counted in process (see RateShares); absent or `requests: 0`: every hit asks Redis. */
  shares?: RateShareSettings;
  /** The clock of the shares (tests move it). */
  clock?: () => number;
  /** How the shares are written (tests replace it); default: SHARE_SCRIPT on `redis`. */
  shareWriter?: ShareWriter;
  /** How often the shares' background round runs (default 250 ms; 0: never). */
  shareRoundMs?: number;
}

/** How often idle shares are given back and old ones forgotten. */
const SHARE_ROUND_MS = 250;
const SHUTDOWN_MS = 1000;
const NO_SHARES: RateShareSettings = { requests: 0, share: 0, minRate: 0 };

/**
 * Counters in Redis, shared by every instance: every window of a request in one round
 * trip. Every call is bounded by `timeoutMs` (the quotas' bound) behind the same kind of
 * circuit as quotas: when Redis cannot answer in time, rate limiting fails open to this
 * instance's own counters rather than blocking or delaying traffic.
 *
 * A hit whose windows all carry their limit is first counted from this instance's shares of
 * those counters (RateShares), without a round trip; Redis is asked only when a share does not
 * cover it (a quiet caller, a small limit, a counter near its limit).
 */
export class RedisRateLimitStore extends RateLimitStore implements OnModuleDestroy {
  readonly shared = true;
  private readonly fallback = new MemoryRateLimitStore();
  private readonly circuit: RedisCircuit;
  /** This instance's shares of busy counters. */
  readonly shares: RateShares;
  private readonly shareRounds: NodeJS.Timeout | undefined;
  private readonly expiries = new Map<number, { kind: 'ttl'; ms: number }>();

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
    this.shares = new RateShares(
      options.shares ?? NO_SHARES,
      options.shareWriter ?? redisShareWriter(redis, () => this.circuit.succeeded()),
      options.clock,
    );
    const round = options.shareRoundMs ?? SHARE_ROUND_MS;
    this.shareRounds = round > 0 ? setInterval(() => this.shares.tick(), round).unref() : undefined;
  }

  async hitAll(windows: readonly RateLimitWindow[]): Promise<RateLimitHit[]> {
    if (windows.length === 0) return [];
    if (this.circuit.open) return this.fallback.hitAll(windows);
    const counted = this.shares.enabled ? this.shares.take(this.countersOf(windows)) : null;
    if (counted) {
      // Answered with the turn's other hits, as Redis's replies to them would have come together.
      await nextTurn();
      return counted;
    }
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

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.shareRounds);
    this.fallback.onModuleDestroy();
    if (!this.circuit.open) await this.shares.close(Date.now() + SHUTDOWN_MS);
    this.circuit.close();
  }

  /** The windows as counters of shares; none when a window has no limit (it is counted in Redis). */
  private countersOf(windows: readonly RateLimitWindow[]): ShareCounter[] {
    const counters: ShareCounter[] = [];
    for (const { key, windowMs, limit } of windows) {
      if (limit === undefined) return [];
      const redisKey = `${this.options.prefix}rl:${key}`;
      counters.push({ family: redisKey, key: redisKey, limit, units: 1, expiry: this.expiry(windowMs) });
    }
    return counters;
  }

  private expiry(windowMs: number): { kind: 'ttl'; ms: number } {
    let expiry = this.expiries.get(windowMs);
    if (!expiry) {
      expiry = { kind: 'ttl', ms: windowMs };
      this.expiries.set(windowMs, expiry);
    }
    return expiry;
  }
}
