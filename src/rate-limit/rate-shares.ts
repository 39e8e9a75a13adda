/** How shares of rate-limit counters are sized and kept (RATE_LIMIT_LOCAL_* settings). */
export interface RateShareSettings {
  /** A share covers about this many requests of the counter's recent size; 0 turns shares off. */
  requests: number;
  /** Most of what a counter has left under its limit that one grant may take (0..1]. */
  share: number;
  /** Requests a second a counter needs on this instance before it takes shares (quieter ones count in Redis). */
  minRate: number;
  /** A counter unused this long gives its free part back (default 1 s). */
  idleMs?: number;
}

/** How a counter's key expires in Redis when a grant creates it. */
export type ShareExpiry =
  /** A window opened by its first hit: the key lives `ms` from its creation (the rate-limit guard's windows). */
  | { kind: 'ttl'; ms: number }
  /** A window the key names (one minute of rpm/tpm): it ends at `endsAt` and the key is kept until `keepUntil`. */
  | { kind: 'at'; endsAt: number; keepUntil: number };

/** One counter a request counts in. */
export interface ShareCounter {
  /** The counter's family (a caller and a window kind), whose statistics carry over from one window to the next. */
  family: string;
  /** The counter's Redis key (the current window's, for a key that names its window). */
  key: string;
  limit: number;
  /** What this request counts: 1 for a request, its tokens for tokens per minute. */
  units: number;
  expiry: ShareExpiry;
}

/** One write of a counter's share (SHARE_SCRIPT). */
export interface ShareWrite {
  key: string;
  /** Units asked for (0: none). */
  want: number;
  /** The least grant worth taking, and the most of what is left under `limit` that a grant may take. */
  least: number;
  share: number;
  limit: number;
  /** Unused units given back. */
  giveBack: number;
  /**
   * For a window opened by its first hit: units are given back only while the key has at most this
   * many ms left (so never to a later window of the same key, which would have more); 0: no check.
   */
  maxTtlMs: number;
  /** Units counted here beyond the share (tokens above a request's estimate), added to the counter. */
  extra: number;
  expiry: ShareExpiry;
}

export interface ShareReply {
  granted: number;
  /** The counter after the write (every instance's shares included). */
  count: number;
  /** Ms the key has left (< 0: none, or no expiry). */
  ttlMs: number;
}

export type ShareWriter = (write: ShareWrite) => Promise<ShareReply>;

/** What a counter reports after a request counted locally: its estimated count, this request included. */
export interface SharedHit {
  hits: number;
  resetMs: number;
}

/** A grant is used for at least two requests, or not taken. */
const LEAST_GRANT_REQUESTS = 2;
/** A share is refilled once its free part falls below this share of its size. */
const LOW_WATER = 0.5;
const MEAN_WEIGHT = 0.2;
const IDLE_MS = 1_000;
/** After a refused grant (the counter is near its limit) no new one is asked for this long. */
const REFUSED_BACKOFF_MS = 1_000;
/** Statistics of a family unused this long (and holding nothing) are forgotten. */
const FORGET_MS = 30_000;
/**
 * A share of a window opened by its first hit is given back only while that window has more than this
 * left, and only if the key has at most that much more left than this instance thinks (the reply that
 * told it took at most the writes' bound to come back): a later window of the same key has far more.
 */
const TTL_TOLERANCE_MS = 2_000;
const MAX_FAMILIES = 100_000;

interface Slot {
  readonly family: string;
  /** The window this slot's share belongs to (its Redis key and expiry); null before the first request. */
  key: string;
  expiry: ShareExpiry;
  limit: number;
  /** Units granted to this instance and not used yet. */
  free: number;
  /** The counter as Redis told it at the last write (every instance's shares included). */
  count: number;
  /** When the share's window ends (0: unknown, no share). */
  endsAt: number;
  mean: number;
  recent: number;
  recentSince: number;
  wanted: boolean;
  lastUsed: number;
  refusedUntil: number;
  /** Units to add to the counter at the next write (retried until acknowledged). */
  extra: number;
  writing: Promise<void> | null;
  again: boolean;
}

/**
 * Shares of rate-limit counters held by this instance, so that a request is counted without a
 * round trip to Redis. A share is a number of units (requests, or tokens) added to the counter in
 * Redis at once, atomically and only out of what the limit has left (at most `share` of it, at
 * least two requests' worth, else none): the instance then counts requests from it in process.
 * It is refilled in the background before it runs out and given back when the counter is idle,
 * when a grant is refused and at shutdown; a share of a window that ended is dropped (its key
 * expired with it). A request a share does not cover (no share yet, a quiet counter, a small
 * limit, or the counter near its limit, where grants are refused) is counted in Redis one at a
 * time, as without shares.
 *
 * Exactness: every unit a share holds is already counted in Redis, and a grant never takes the
 * counter past its limit, so no more requests are admitted in a window than its limit, as when
 * each request is counted in Redis. The error is one-sided: a request may be refused while other
 * instances hold unused parts of their shares, at most the sum of those free parts (each at most
 * `requests` requests and `share` of what was left at its grant), until they use them, give them
 * back (within a second of idleness) or the window ends.
 */
export class RateShares {
  private readonly slots = new Map<string, Slot>();
  private closing = false;

  constructor(
    private readonly settings: RateShareSettings,
    private readonly writer: ShareWriter,
    private readonly clock: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.settings.requests > 0 && !this.closing;
  }

  /**
   * Counts one request in every counter from this instance's shares, all or none: the counters'
   * estimated states, or null when a share does not cover it (then the caller counts it in Redis).
   * Never waits; a share that is missing or running low is asked for in the background.
   */
  take(counters: readonly ShareCounter[]): SharedHit[] | null {
    if (!this.enabled || counters.length === 0) return null;
    const now = this.clock();
    const slots = counters.map((counter) => this.observe(counter, now));
    let covered = true;
    for (const [i, slot] of slots.entries()) {
      if (!this.covers(slot, counters[i].units, now)) covered = false;
    }
    if (!covered) {
      for (const slot of slots) if (this.wantsWrite(slot, now)) this.kick(slot);
      return null;
    }
    return slots.map((slot, i) => {
      slot.free -= counters[i].units;
      if (this.wantsWrite(slot, now)) this.kick(slot);
      return { hits: slot.count - slot.free, resetMs: Math.max(0, slot.endsAt - now) };
    });
  }

  /**
   * Moves a counted request's units by `delta` (its actual tokens less its estimate): a refund goes
   * back to the share; more is taken from the share, else added to the counter at the next write.
   * Nothing happens once the counter's window is over (the count no longer matters).
   */
  adjust(family: string, key: string, delta: number): void {
    const slot = this.slots.get(family);
    if (!slot || slot.key !== key || delta === 0 || this.clock() >= slot.endsAt) return;
    if (delta < 0) {
      slot.free -= delta;
      return;
    }
    const fromShare = Math.min(slot.free, delta);
    slot.free -= fromShare;
    slot.extra += delta - fromShare;
    if (slot.extra > 0) this.kick(slot);
  }

  /** The background round: gives back the free parts of idle counters, forgets old families. */
  tick(): void {
    const now = this.clock();
    for (const slot of this.slots.values()) {
      if (slot.free > 0 && now >= slot.endsAt) slot.free = 0; // the window is over: its key expired with it
      if (slot.free === 0 && slot.extra === 0 && !slot.writing && now - slot.lastUsed > FORGET_MS) {
        this.slots.delete(slot.family);
      } else if (this.wantsWrite(slot, now)) {
        this.kick(slot);
      }
    }
  }

  /** Shutdown: every free part given back (bounded by `deadline`). */
  async close(deadline: number): Promise<void> {
    this.closing = true;
    for (const slot of this.slots.values()) {
      if (this.clock() >= deadline) return;
      while (slot.writing) await slot.writing;
      await this.startWrite(slot, false);
    }
  }

  /** Resolves once no write is under way. */
  async whenIdle(): Promise<void> {
    for (;;) {
      const writing = [...this.slots.values()].map((slot) => slot.writing).filter((w) => w !== null);
      if (writing.length === 0) return;
      await Promise.all(writing);
    }
  }

  /** Free units this instance holds per counter key (for tests and diagnostics). */
  snapshot(): Array<{ family: string; key: string; free: number; count: number; endsAt: number }> {
    return [...this.slots.values()].map(({ family, key, free, count, endsAt }) => ({
      family,
      key,
      free,
      count,
      endsAt,
    }));
  }

  /** The counter's slot, its statistics updated with this request, moved to the counter's window. */
  private observe(counter: ShareCounter, now: number): Slot {
    let slot = this.slots.get(counter.family);
    if (!slot) {
      if (this.slots.size >= MAX_FAMILIES) {
        const oldest = this.slots.keys().next();
        if (!oldest.done) this.slots.delete(oldest.value);
      }
      slot = {
        family: counter.family,
        key: counter.key,
        expiry: counter.expiry,
        limit: counter.limit,
        free: 0,
        count: 0,
        endsAt: 0,
        mean: 0,
        recent: 0,
        recentSince: now,
        wanted: false,
        lastUsed: now,
        refusedUntil: 0,
        extra: 0,
        writing: null,
        again: false,
      };
      this.slots.set(counter.family, slot);
    }
    if (slot.key !== counter.key) {
      // A new window (its key names it): the old share lapses with its key; the old extra no longer matters.
      slot.key = counter.key;
      slot.free = 0;
      slot.count = 0;
      slot.endsAt = 0;
      slot.extra = 0;
      slot.refusedUntil = 0;
    }
    slot.expiry = counter.expiry;
    if (counter.expiry.kind === 'at') slot.endsAt = counter.expiry.endsAt;
    if (slot.free > 0 && now >= slot.endsAt) slot.free = 0; // the window is over: its key expired with it
    if (this.idle(slot, now)) slot.wanted = false; // busy again before it takes shares again
    if (counter.limit < slot.limit) {
      slot.refusedUntil = now + REFUSED_BACKOFF_MS; // the limit went down: its share goes back at the next write
    }
    slot.limit = counter.limit;
    slot.lastUsed = now;
    slot.mean = slot.mean === 0 ? counter.units : slot.mean + MEAN_WEIGHT * (counter.units - slot.mean);
    if (now - slot.recentSince >= 1000) {
      slot.recentSince = now;
      slot.recent = 0;
    }
    slot.recent += 1;
    if (slot.recent >= this.settings.minRate) slot.wanted = true;
    return slot;
  }

  private covers(slot: Slot, units: number, now: number): boolean {
    return slot.free >= units && now < slot.endsAt && now >= slot.refusedUntil;
  }

  private target(slot: Slot): number {
    return Math.ceil(this.settings.requests * slot.mean);
  }

  private idle(slot: Slot, now: number): boolean {
    return now - slot.lastUsed > (this.settings.idleMs ?? IDLE_MS);
  }

  /** Worth a write now: units to add, a free part to give back, or a share running low on a busy counter. */
  private wantsWrite(slot: Slot, now: number): boolean {
    if (slot.extra > 0) return true;
    if (slot.free > 0 && (this.closing || this.idle(slot, now) || now < slot.refusedUntil)) return true;
    return slot.wanted && now >= slot.refusedUntil && slot.free < LOW_WATER * this.target(slot);
  }

  /** Starts a write of the slot soon (requests of one tick go together), unless one is under way. */
  private kick(slot: Slot): void {
    if (slot.writing) slot.again = true;
    else void this.startWrite(slot, true);
  }

  private startWrite(slot: Slot, nextTurn: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (nextTurn) await new Promise((resolve) => setImmediate(resolve));
      await this.write(slot);
    };
    const writing: Promise<void> = run().finally(() => {
      if (slot.writing === writing) slot.writing = null;
      if (slot.again) {
        slot.again = false;
        if (this.wantsWrite(slot, this.clock())) this.kick(slot);
      }
    });
    slot.writing = writing;
    return writing;
  }

  private async write(slot: Slot): Promise<void> {
    const now = this.clock();
    const write = this.compose(slot, now);
    if (!write) return;
    const { key } = write;
    let reply: ShareReply;
    try {
      reply = await this.writer(write);
    } catch {
      // Units to add are sent again; a grant or give-back whose reply was lost stays counted (never under).
      if (slot.key === key) slot.extra += write.extra;
      return;
    }
    if (slot.key !== key) return; // a new window began meanwhile: that reply is about the old one
    slot.count = reply.count;
    if (slot.expiry.kind === 'ttl' && reply.ttlMs > 0) slot.endsAt = now + reply.ttlMs;
    if (write.want > 0) {
      slot.free += reply.granted;
      if (reply.granted === 0) {
        // Near the limit: requests count in Redis one at a time; what is left here goes back.
        slot.refusedUntil = now + REFUSED_BACKOFF_MS;
        if (slot.free > 0) slot.again = true;
      }
    }
  }

  /** What the next write carries (moved out of the slot), or null when there is nothing to write. */
  private compose(slot: Slot, now: number): ShareWrite | null {
    const extra = slot.extra;
    let want = 0;
    let giveBack = 0;
    const open = slot.endsAt - now > TTL_TOLERANCE_MS;
    if (slot.free > 0 && (this.closing || this.idle(slot, now) || now < slot.refusedUntil)) {
      if (open) giveBack = slot.free; // else the window ends soon: the share lapses with it
      slot.free = 0;
    } else if (!this.closing && slot.wanted && now >= slot.refusedUntil && slot.free < LOW_WATER * this.target(slot)) {
      want = this.target(slot) - slot.free;
    }
    if (want === 0 && giveBack === 0 && extra === 0) return null;
    slot.extra = 0;
    return {
      key: slot.key,
      want,
      least: Math.ceil(LEAST_GRANT_REQUESTS * slot.mean),
      share: this.settings.share,
      limit: slot.limit,
      giveBack,
      maxTtlMs: slot.expiry.kind === 'ttl' ? Math.max(1, slot.endsAt - now + TTL_TOLERANCE_MS) : 0,
      extra,
      expiry: slot.expiry,
    };
  }
}
