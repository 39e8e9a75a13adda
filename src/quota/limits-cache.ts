import { Logger } from '@nestjs/common';
import { waitAtMost } from '../common/with-timeout';

interface Entry<T> {
  value: T;
  fetchedAt: number;
  /** After a failed reload: when the next one may start. */
  retryAt: number;
  failing: boolean;
}

const MAX_ENTRIES = 10_000;
/** After a failed reload, the cached value is served this long before the next try. */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Per-key values cached for `ttlMs`, so that the hot path does not query Postgres
 * on every request. Stale while revalidate: once a value is older than the TTL it is
 * still served at once while one reload runs in the background, and kept when that
 * reload fails (tried again every second). Only a key with no value yet waits for its
 * load, and at most `coldWaitMs` (then the caller gets a DependencyTimeout, a 503);
 * concurrent misses share one load. A value written here (after a change on this
 * instance) wins over a load that started before it.
 */
export class LimitsCache<T> {
  private readonly logger = new Logger(LimitsCache.name);
  private readonly entries = new Map<string, Entry<T>>();
  private readonly loading = new Map<string, Promise<T>>();
  private readonly versions = new Map<string, number>();

  constructor(
    private readonly load: (key: string) => Promise<T>,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly coldWaitMs = Number.POSITIVE_INFINITY,
  ) {}

  get(key: string): Promise<T> {
    const entry = this.entries.get(key);
    if (entry) {
      const now = this.clock();
      if (now - entry.fetchedAt >= this.ttlMs && now >= entry.retryAt && !this.loading.has(key)) {
        this.reload(key).catch(() => undefined);
      }
      return Promise.resolve(entry.value);
    }
    const loading = this.loading.get(key) ?? this.reload(key);
    return Number.isFinite(this.coldWaitMs) ? waitAtMost(loading, this.coldWaitMs, 'quota limits') : loading;
  }

  /** Replaces the cached value now (this instance changed it). */
  set(key: string, value: T): void {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    this.loading.delete(key);
    this.remember(key, value);
  }

  private reload(key: string): Promise<T> {
    const version = this.versions.get(key) ?? 0;
    const promise = this.load(key).then(
      (value) => {
        if ((this.versions.get(key) ?? 0) !== version) return this.entries.get(key)?.value ?? value;
        this.remember(key, value);
        return value;
      },
      (err: unknown) => {
        const stale = this.entries.get(key);
        if (!stale) throw err;
        if (!stale.failing) this.logger.warn(`Serving cached quota limits of ${key}: reload failed (${String(err)})`);
        stale.failing = true;
        stale.retryAt = this.clock() + RETRY_AFTER_FAILURE_MS;
        return stale.value;
      },
    );
    const tracked = promise.finally(() => {
      if (this.loading.get(key) === tracked) this.loading.delete(key);
    });
    this.loading.set(key, tracked);
    return tracked;
  }

  private remember(key: string, value: T): void {
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, fetchedAt: this.clock(), retryAt: 0, failing: false });
  }
}
