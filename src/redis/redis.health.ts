import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DependencyState } from '../common/dependency-state';
import { AppConfig } from '../config/app-config';
import { RedisService } from './redis.service';

/** Pings Redis, bounded by HEALTH_CHECK_TIMEOUT_MS; the embedded store is always up. */
@Injectable()
export class RedisHealthIndicator {
  private readonly state = new DependencyState('redis');

  constructor(
    private readonly redis: RedisService,
    private readonly indicators: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    if (!this.redis.client) return indicator.up({ mode: 'in-process' });
    const started = performance.now();
    try {
      await this.redis.ping(this.config.HEALTH_CHECK_TIMEOUT_MS);
      this.state.markUp();
      return indicator.up({ mode: 'redis', latency_ms: Math.round(performance.now() - started) });
    } catch (err) {
      return indicator.down({ mode: 'redis', reason: this.state.markDown(err) });
    }
  }
}
