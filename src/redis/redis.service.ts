import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectMetric, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import Redis, { type Command } from 'ioredis';
import type { Histogram } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { withTimeout } from '../common/with-timeout';

export const REDIS_COMMAND_DURATION = 'conflux_redis_command_duration_seconds';

type Observer = { observe(value: number): void };
/** What ioredis calls when a command's reply (or failure) arrives. */
type Settlers = { resolve: (value: unknown) => void; reject: (err: Error) => void };

export const REDIS_METRIC_PROVIDERS = [
  makeHistogramProvider({
    name: REDIS_COMMAND_DURATION,
    help: 'Redis commands from send to reply (pipelined and scripted ones included), by command name and outcome',
    labelNames: ['command', 'outcome'],
    buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  }),
];

/**
 * The one Redis connection of the process, or none in the embedded default
 * (no REDIS_URL). Every command is bounded: no offline queue, a command timeout,
 * and reconnection in the background with capped backoff.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: Redis | null;

  constructor(
    private readonly config: AppConfig,
    @InjectMetric(REDIS_COMMAND_DURATION) private readonly duration: Histogram<string>,
  ) {
    this.client = config.REDIS_URL ? this.connect(config.REDIS_URL) : null;
  }

  private connect(url: string): Redis {
    const client = new Redis(url, {
      connectTimeout: this.config.REDIS_CONNECT_TIMEOUT_MS,
      commandTimeout: this.config.REDIS_COMMAND_TIMEOUT_MS,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Commands issued in the same tick share one write (several per gateway request).
      enableAutoPipelining: true,
      lazyConnect: false,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
    });
    client.on('error', (err: Error) => this.logger.warn(`redis: ${err.message}`));
    this.timeCommands(client);
    return client;
  }

  /**
   * Every command (single, pipelined, in MULTI, auto-pipelined) goes through the client's
   * sendCommand: timed there from send to reply, one histogram observation each. Labels are
   * ioredis's command names (a fixed set), never keys or arguments. The command's own resolve
   * and reject are wrapped (no promise chained per command), and each label set's series is
   * looked up once.
   */
  private timeCommands(client: Redis): void {
    const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
    const duration = this.duration;
    const series = new Map<string, { ok: Observer; error: Observer }>();
    const seriesOf = (name: string): { ok: Observer; error: Observer } => {
      let found = series.get(name);
      if (!found) {
        found = {
          ok: duration.labels({ command: name, outcome: 'ok' }),
          error: duration.labels({ command: name, outcome: 'error' }),
        };
        series.set(name, found);
      }
      return found;
    };
    client.sendCommand = function timed(command: Command, ...rest: unknown[]) {
      const started = performance.now();
      const { resolve, reject } = command as unknown as Settlers;
      let done = false;
      const observe = (outcome: 'ok' | 'error'): void => {
        if (done) return;
        done = true;
        seriesOf(command.name)[outcome].observe((performance.now() - started) / 1000);
      };
      Object.assign(command, {
        resolve: (value: unknown) => {
          observe('ok');
          resolve(value);
        },
        reject: (err: Error) => {
          observe('error');
          reject(err);
        },
      } satisfies Settlers);
      return send(command, ...rest);
    };
  }

  /** Waits (bounded) for the first connection so the first requests find Redis ready. */
  async waitUntilReady(): Promise<boolean> {
    const client = this.client;
    if (!client || client.status === 'ready') return client !== null;
    try {
      await withTimeout(
        new Promise<void>((resolve) => client.once('ready', () => resolve())),
        this.config.REDIS_CONNECT_TIMEOUT_MS,
        'redis connect',
      );
      return true;
    } catch {
      this.logger.warn('Redis is not reachable yet; readiness will report it until it is');
      return false;
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    if (!this.client) return;
    await withTimeout(this.client.ping(), timeoutMs, 'redis ping');
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    try {
      await withTimeout(this.client.quit(), 1000, 'redis quit');
    } catch {
      this.client.disconnect();
    }
  }
}
