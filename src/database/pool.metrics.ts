import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Pool } from 'pg';
import type { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';

export const DB_POOL_SIZE = 'conflux_db_pool_size';
export const DB_POOL_IDLE = 'conflux_db_pool_idle';
export const DB_POOL_WAITING = 'conflux_db_pool_waiting';

/** What a scrape reads of one connection pool. */
export interface PoolCounts {
  /** Connections open (busy or idle). */
  size: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

const NO_POOL: PoolCounts = { size: 0, idle: 0, waiting: 0 };

/**
 * The pools of the process's open data sources, read at each scrape (never on the request path).
 * One in production; the metrics registry is the process's, so several applications in one process
 * (tests) add theirs up.
 */
const pools = new Set<() => PoolCounts>();

function poolGauge(name: string, help: string, pick: (counts: PoolCounts) => number) {
  return makeGaugeProvider({
    name,
    help,
    collect(this: Gauge<string>) {
      let total = 0;
      for (const read of pools) total += pick(read());
      this.set(total);
    },
  });
}

export const poolMetricProviders = [
  poolGauge(DB_POOL_SIZE, 'Postgres connections open in the pool (busy or idle)', (c) => c.size),
  poolGauge(DB_POOL_IDLE, 'Postgres connections idle in the pool', (c) => c.idle),
  poolGauge(DB_POOL_WAITING, 'Queries waiting for a Postgres connection from the pool', (c) => c.waiting),
];

/**
 * The counts of the `pg` pool under a TypeORM data source (its driver's `master`); zeros while the
 * data source is not connected. The embedded database is reached through the same kind of pool, of
 * one connection.
 */
export function poolCounts(dataSource: DataSource): PoolCounts {
  if (!dataSource.isInitialized) return NO_POOL;
  const pool = (dataSource.driver as { master?: Pool }).master;
  if (!pool) return NO_POOL;
  return { size: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/** Exposes the connection pool of the application's data source while the module lives. */
@Injectable()
export class DatabasePoolMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly read = (): PoolCounts => poolCounts(this.dataSource);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    pools.add(this.read);
  }

  onModuleDestroy(): void {
    pools.delete(this.read);
  }
}
