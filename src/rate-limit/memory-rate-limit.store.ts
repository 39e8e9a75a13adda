import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { RateLimitHit, RateLimitStore, RateLimitWindow } from './rate-limit.store';

interface Window {
  hits: number;
  resetAt: number;
}

/** In-process counters: correct for one instance only. */
@Injectable()
export class MemoryRateLimitStore extends RateLimitStore implements OnModuleDestroy {
  readonly shared = false;
  private readonly windows = new Map<string, Window>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  hitAll(windows: readonly RateLimitWindow[]): Promise<RateLimitHit[]> {
    const now = Date.now();
    return Promise.resolve(windows.map(({ key, windowMs }) => this.count(key, windowMs, now)));
  }

  private count(key: string, windowMs: number, now: number): RateLimitHit {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { hits: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.hits += 1;
    return { hits: window.hits, resetMs: window.resetAt - now };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }
}
