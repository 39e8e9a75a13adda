/** The state of one rate-limit window after a hit. */
export interface RateLimitHit {
  /** Hits counted in the current window, this one included. */
  hits: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** One window to count a hit in. */
export interface RateLimitWindow {
  key: string;
  windowMs: number;
  /**
   * The window's limit, when the caller refuses above it: a store may then count the hit from a
   * share of the counter it holds (see RateShares) instead of asking the shared counter.
   */
  limit?: number;
}

/**
 * Fixed-window hit counters shared by every instance of Conflux (Redis), or kept
 * in this process (the embedded default). A port: one abstract class, two adapters.
 */
export abstract class RateLimitStore {
  /** Counts one hit in each window (one round trip for all of them) and reports their states, in order. */
  abstract hitAll(windows: readonly RateLimitWindow[]): Promise<RateLimitHit[]>;
  /** True when counters are shared across instances. */
  abstract readonly shared: boolean;

  /** Counts one hit on `key` in a window of `windowMs` and reports the window's state. */
  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    const [state] = await this.hitAll([{ key, windowMs }]);
    return state;
  }
}
