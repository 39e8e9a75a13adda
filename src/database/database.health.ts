import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DependencyState } from '../common/dependency-state';
import { AppConfig } from '../config/app-config';
import { withTimeout } from '../common/with-timeout';

/** Pings Postgres with `SELECT 1`, bounded by HEALTH_CHECK_TIMEOUT_MS. */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly state = new DependencyState('postgres');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  async check(key = 'database'): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    const mode = this.config.embeddedDatabase ? 'embedded' : 'postgres';
    const started = performance.now();
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), this.config.HEALTH_CHECK_TIMEOUT_MS, 'database ping');
      this.state.markUp();
      return indicator.up({ mode, latency_ms: Math.round(performance.now() - started) });
    } catch (err) {
      return indicator.down({ mode, reason: this.state.markDown(err) });
    }
  }
}
