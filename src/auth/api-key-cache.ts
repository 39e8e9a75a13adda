import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { ApiKeyPrincipal } from '../common/auth/principal';

interface Entry {
  principal: ApiKeyPrincipal;
  expiresAt: number;
}

const MAX_ENTRIES = 50_000;

/**
 * Verified API keys kept for a short TTL, by the SHA-256 of the key. Revoking or
 * rotating a key drops it here and, through a Redis channel, on every instance.
 */
export class ApiKeyCache {
  private readonly logger = new Logger(ApiKeyCache.name);
  private readonly entries = new Map<string, Entry>();
  private subscriber: Redis | null = null;

  constructor(
    private readonly ttlMs: number,
    private readonly redis: Redis | null,
    private readonly channel: string,
  ) {}

  async start(): Promise<void> {
    if (!this.redis || this.ttlMs === 0) return;
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true });
    subscriber.on('error', (err: Error) => this.logger.warn(`key invalidation channel: ${err.message}`));
    subscriber.on('message', (_channel: string, keyId: string) => this.dropLocal(keyId));
    // While the channel is down, invalidations may be missed: fall back on the TTL, and clear all on reconnect.
    subscriber.on('ready', () => this.entries.clear());
    this.subscriber = subscriber;
    await subscriber.subscribe(this.channel).catch((err: unknown) => {
      this.logger.warn(`cannot subscribe to key invalidations: ${String(err)}`);
    });
  }

  stop(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = null;
    return Promise.resolve();
  }

  get(hash: string): ApiKeyPrincipal | null {
    const entry = this.entries.get(hash);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(hash);
      return null;
    }
    return entry.principal;
  }

  set(hash: string, principal: ApiKeyPrincipal, keyExpiresAt: Date | null): void {
    if (this.ttlMs === 0) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const limit = keyExpiresAt ? Math.min(keyExpiresAt.getTime(), Date.now() + this.ttlMs) : Date.now() + this.ttlMs;
    this.entries.set(hash, { principal, expiresAt: limit });
  }

  /** Forgets a key here and on every other instance. */
  async invalidate(keyId: string): Promise<void> {
    this.dropLocal(keyId);
    if (!this.redis) return;
    await this.redis.publish(this.channel, keyId).catch((err: unknown) => {
      this.logger.warn(`could not broadcast the invalidation of key ${keyId}: ${String(err)}`);
    });
  }

  private dropLocal(keyId: string): void {
    for (const [hash, entry] of this.entries) if (entry.principal.keyId === keyId) this.entries.delete(hash);
  }
}
