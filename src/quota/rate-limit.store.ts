/** The state of one rate-limit window after a hit. */
export interface RateLimitHit {
  /** Hits counted in the current window, this one included. */
  hits: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/**
 * Fixed-window hit counters shared by every instance of Conflux (Redis), or kept
 * in this process (the embedded default). A port: one abstract class, two adapters.
 */
export abstract class RateLimitStore {
  /** Counts one hit on `key` in a window of `windowMs` and reports the window's state. */
  abstract hit(key: string, windowMs: number): Promise<RateLimitHit>;
  /** True when counters are shared across instances. */
  abstract readonly shared: boolean;
}
