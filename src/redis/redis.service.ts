import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { withTimeout } from '../common/with-timeout';

/**
 * The one Redis connection of the process, or none in the embedded default
 * (no REDIS_URL). Every command is bounded: no offline queue, a command timeout,
 * and reconnection in the background with capped backoff.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: Redis | null;

  constructor(private readonly config: AppConfig) {
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
    return client;
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
