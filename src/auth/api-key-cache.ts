import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { ApiKeyPrincipal } from '../common/auth/principal';

interface Entry {
  principal: ApiKeyPrincipal;
  /** When Postgres last confirmed the key. */
  verifiedAt: number;
  /** The key's or the secret's own expiry (ms), if any. */
  expiresAt: number;
  /** Must be confirmed again before the TTL says so (invalidations may have been missed). */
  doubtful: boolean;
  /** After a failed confirmation: when the next one may start. */
  retryAt: number;
}

/** A cached verdict: the principal, and whether Postgres should confirm it again now (in the background). */
export interface CachedKey {
  principal: ApiKeyPrincipal;
  recheck: boolean;
}

const MAX_ENTRIES = 50_000;
/** After a failed confirmation, the cached verdict is served this long before the next try. */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Verified API keys, by the SHA-256 of the key. A verdict is trusted for `ttlMs`; after
 * that it is still served while Postgres confirms it in the background, and for at most
 * `graceMs` more while Postgres cannot be reached (a key it no longer knows is dropped at
 * once). Revoking or rotating a key drops it here and, through a Redis channel, on every
 * instance; while that channel is down, invalidations may be missed, so every verdict is
 * confirmed again once it is back.
 */
export class ApiKeyCache {
  private readonly logger = new Logger(ApiKeyCache.name);
  private readonly entries = new Map<string, Entry>();
  private subscriber: Redis | null = null;

  constructor(
    private readonly ttlMs: number,
    private readonly graceMs: number,
    private readonly redis: Redis | null,
    private readonly channel: string,
  ) {}

  async start(): Promise<void> {
    if (!this.redis || this.ttlMs === 0) return;
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true });
    subscriber.on('error', (err: Error) => this.logger.warn(`key invalidation channel: ${err.message}`));
    subscriber.on('message', (_channel: string, keyId: string) => this.dropLocal(keyId));
    subscriber.on('ready', () => {
      for (const entry of this.entries.values()) entry.doubtful = true;
    });
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

  get(hash: string): CachedKey | null {
    const entry = this.entries.get(hash);
    if (!entry) return null;
    const now = Date.now();
    const age = now - entry.verifiedAt;
    if (entry.expiresAt <= now || age >= this.ttlMs + this.graceMs) {
      this.entries.delete(hash);
      return null;
    }
    return { principal: entry.principal, recheck: (entry.doubtful || age >= this.ttlMs) && now >= entry.retryAt };
  }

  set(hash: string, principal: ApiKeyPrincipal, keyExpiresAt: Date | null): void {
    if (this.ttlMs === 0) return;
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(hash)) this.entries.clear();
    const expiresAt = keyExpiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
    this.entries.set(hash, { principal, verifiedAt: Date.now(), expiresAt, doubtful: false, retryAt: 0 });
  }

  /** Postgres could not confirm the key: keep serving it (within the grace), and try again a little later. */
  unconfirmed(hash: string): void {
    const entry = this.entries.get(hash);
    if (entry) entry.retryAt = Date.now() + RETRY_AFTER_FAILURE_MS;
  }

  /** Postgres no longer knows the key (revoked, expired, rotated out). */
  drop(hash: string): void {
    this.entries.delete(hash);
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
