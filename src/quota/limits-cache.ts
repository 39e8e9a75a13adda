import { Logger } from '@nestjs/common';

interface Entry<T> {
  value: T;
  fetchedAt: number;
}

const MAX_ENTRIES = 10_000;

/**
 * Per-key values cached for `ttlMs`, so that the hot path does not query Postgres
 * on every request. Concurrent misses share one load; a value written here (after
 * a change on this instance) wins over a load that started before it; when a
 * reload fails, the last known value is served rather than failing the request.
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
  ) {}

  get(key: string): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && this.clock() - entry.fetchedAt < this.ttlMs) return Promise.resolve(entry.value);
    return this.loading.get(key) ?? this.reload(key, entry);
  }

  /** Replaces the cached value now (this instance changed it). */
  set(key: string, value: T): void {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    this.loading.delete(key);
    this.remember(key, value);
  }

  private reload(key: string, stale: Entry<T> | undefined): Promise<T> {
    const version = this.versions.get(key) ?? 0;
    const promise = this.load(key).then(
      (value) => {
        if ((this.versions.get(key) ?? 0) !== version) return this.entries.get(key)?.value ?? value;
        this.remember(key, value);
        return value;
      },
      (err: unknown) => {
        if (!stale) throw err;
        this.logger.warn(`Serving cached quota limits of ${key}: reload failed (${String(err)})`);
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
    this.entries.set(key, { value, fetchedAt: this.clock() });
  }
}
