import { randomUUID } from 'node:crypto';
import type { Reservation } from './dto/quota';
import { CloseOutcome, HOLD_TTL_MS, ReserveCommand, ReserveOutcome, TOMBSTONE_TTL_MS } from './quota.store';
import { budgetWindowsAt } from './quota-windows';

/** How budget leases are sized and kept (QUOTA_LEASE_* settings). */
export interface LeaseSettings {
  /** A lease covers about this many requests of the project's recent size; 0 turns leases off. */
  requests: number;
  /** Most of what a budget has left that one grant may take (0..1]. */
  share: number;
  /** A lease is refilled once its free part falls below this share of its size. */
  lowWater: number;
  /** How long Redis keeps a lease that is not renewed (an instance that died gives its leases back so). */
  ttlMs: number;
  /** Requests a second a project needs on this instance before it gets a lease (quieter ones hold per request). */
  minRate: number;
}

/** One write of a lease to Redis (LEASE_SCRIPT). */
export interface LeaseWrite {
  leaseId: string;
  seq: number;
  projectId: string;
  day: string;
  month: string;
  /** Spend settled since the last write, booked as spent. */
  spend: number;
  /** What of the lease that spend used up (the lease shrinks by it). */
  consumed: number;
  /** > 0 asks for that much more, < 0 gives that much back. */
  change: number;
  daily: number | null;
  monthly: number | null;
  /** Most of what a budget has left that a grant may take, and the least grant worth taking. */
  share: number;
  least: number;
  now: number;
  expiresAt: number;
}

export interface LeaseReply {
  /** 1 the lease was held, 0 it was not (new, expired or lost). */
  held: boolean;
  granted: number;
  /** What Redis holds for the lease after the write. */
  amount: number;
  /** Micro-credits left of each budget (-1: no limit; null: not told). */
  dayLeft: number | null;
  monthLeft: number | null;
  /** The project's counters are ready (false: Redis lost them and they are being rebuilt). */
  ready: boolean;
}

export type LeaseWriter = (write: LeaseWrite) => Promise<LeaseReply>;

/** What a lease reply told of the project's budgets (for the outage allowance and the used-ratio gauge). */
export type LeaseObserver = (projectId: string, now: number, dayLeft: number | null, monthLeft: number | null) => void;

/** A lease is used for at least two requests, or not taken. */
const LEAST_GRANT_REQUESTS = 2;
/** Weight of the newest request in the running mean of request sizes. */
const MEAN_WEIGHT = 0.2;
/** Carving stops this share of the TTL before the lease would expire in Redis unless renewed. */
const SAFE_SHARE_OF_TTL = 0.8;
const MAX_CLOSED = 100_000;

interface Lease {
  readonly key: string;
  readonly id: string;
  readonly projectId: string;
  readonly day: string;
  readonly month: string;
  daily: number | null;
  monthly: number | null;
  /** Leased in Redis and not carved yet. */
  free: number;
  /** Carved by reservations not closed yet. */
  inflight: number;
  /** Carved while the project has no budget: held in Redis at the next write. */
  unbacked: number;
  /** Spend settled, and what of the lease it used up, not written yet. */
  spend: number;
  consumed: number;
  /** What Redis held for the lease at the last acknowledged write. */
  backed: number;
  /** Reservations of an earlier generation were carved from a lease Redis no longer holds. */
  generation: number;
  seq: number;
  mean: number;
  lastUsed: number;
  /** Requests seen since `recentSince` (a one-second count), and whether the project is busy enough for a lease. */
  recent: number;
  recentSince: number;
  wanted: boolean;
  /** Carving only before this (the lease is renewed well before it would expire in Redis). */
  usableUntil: number;
  /** A grant was refused: no new one is asked for before this, and the free part goes back. */
  refusedUntil: number;
  /** A write sent and not acknowledged: retried as it is (a repeat is recognised by its number). */
  unacknowledged: LeaseWrite | null;
  writing: Promise<void> | null;
  again: boolean;
  left: { daily: number | null; monthly: number | null };
}

interface LeasedHold {
  lease: Lease;
  amount: number;
  generation: number;
  expiresAt: number;
}

const told = (n: number | null): number | null => (n === null || n < 0 ? null : n);

/**
 * Budget leases of one instance. A lease is a slice of a project's budget (day and month)
 * that Redis holds for this instance like one reservation's hold; requests are reserved
 * from it here, without a round trip, while it covers them. Settled spend is written in
 * the background (batched), together with what it used of the lease; the lease is refilled
 * before it runs out, renewed before it expires, and given back when idle, when a grant is
 * refused (the budget nearly spent: requests go back to one hold each in Redis) and on
 * shutdown. A lease not renewed (its instance died) expires in Redis after `ttlMs`.
 *
 * Exactness: a lease is granted only out of what the budget has left (spent + reserved,
 * leases included, + grant ≤ limit, atomically in Redis), and a request is reserved from it
 * only if its free part covers the request; so spend never exceeds a budget by more than
 * settles above their estimate already could (as with one hold per request).
 */
export class BudgetLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly holds = new Map<string, LeasedHold>();
  /** Reservations closed here, so that a repeat does nothing; or expired, so that a late settle still spends. */
  private readonly closed = new Map<string, { lease: Lease; expired: boolean; until: number }>();
  private closing = false;

  constructor(
    private readonly settings: LeaseSettings,
    private readonly writer: LeaseWriter,
    private readonly observe: LeaseObserver,
    private readonly clock: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.settings.requests > 0 && !this.closing;
  }

  /**
   * Reserves a request from this instance's lease of its project, or returns null (then
   * the caller holds it in Redis as before). Never waits: a lease that is missing or
   * running low is asked for in the background. A request with rpm/tpm to count for its
   * API key is reserved only once the caller has counted them (`ratesCounted`).
   */
  reserve(command: ReserveCommand, ratesCounted = false): ReserveOutcome | null {
    const { limits, microCredits: amount } = command;
    if (!this.enabled) return null;
    if (!ratesCounted && command.apiKeyId !== null && (limits.rpm !== null || limits.tpm !== null)) return null;
    const now = this.clock();
    const lease = this.leaseOf(command.projectId, now);
    lease.daily = limits.daily;
    lease.monthly = limits.monthly;
    lease.lastUsed = now;
    if (amount > 0) lease.mean = lease.mean === 0 ? amount : lease.mean + MEAN_WEIGHT * (amount - lease.mean);
    if (now - lease.recentSince >= 1000) {
      lease.recentSince = now;
      lease.recent = 0;
    }
    lease.recent += 1;
    if (lease.recent >= this.settings.minRate) lease.wanted = true;
    if (this.limited(lease) && amount > 0) {
      if (now >= lease.usableUntil || lease.free < amount) {
        if (lease.wanted) this.kick(lease);
        return null;
      }
      lease.free -= amount;
    } else {
      lease.unbacked += amount;
    }
    lease.inflight += amount;
    this.holds.set(command.id, { lease, amount, generation: lease.generation, expiresAt: now + HOLD_TTL_MS });
    if (this.wantsWrite(lease, now)) this.kick(lease);
    const reservation: Reservation = {
      id: command.id,
      project_id: command.projectId,
      micro_credits: amount,
      day: lease.day,
      month: lease.month,
    };
    return { ok: true, reservation, left: lease.left };
  }

  /** Settles a reservation made from a lease (null: not one of this instance's). Written in the background. */
  settle(reservation: Reservation, actual: number): CloseOutcome | null {
    const hold = this.holds.get(reservation.id);
    if (!hold) return this.settleClosed(reservation.id, actual);
    this.finish(reservation.id, hold, false);
    const { lease } = hold;
    if (hold.generation === lease.generation) {
      const used = Math.min(actual, hold.amount);
      lease.consumed += used;
      lease.free += hold.amount - used;
    }
    lease.spend += actual;
    this.kick(lease);
    return 'closed';
  }

  /** Releases a reservation made from a lease (null: not one of this instance's); its amount goes back to the lease. */
  release(reservation: Reservation): CloseOutcome | null {
    const hold = this.holds.get(reservation.id);
    if (!hold) return this.closed.has(reservation.id) ? 'already_closed' : null;
    this.finish(reservation.id, hold, false);
    if (hold.generation === hold.lease.generation) hold.lease.free += hold.amount;
    return 'closed';
  }

  /** Writes what this instance has not written yet of a project's leases (before its balances are read). */
  async flushProject(projectId: string): Promise<void> {
    const leases = [...this.leases.values()].filter((lease) => lease.projectId === projectId);
    await Promise.all(leases.map((lease) => this.writeNow(lease)));
  }

  /**
   * The background round (every second or so): drops local holds past their expiry,
   * writes pending spend, refills, renews and gives back leases, forgets empty ones.
   */
  tick(): void {
    const now = this.clock();
    for (const [id, hold] of this.holds) {
      if (hold.expiresAt > now) continue;
      this.finish(id, hold, true);
      if (hold.generation === hold.lease.generation) hold.lease.free += hold.amount;
    }
    for (const [id, entry] of this.closed) if (entry.until <= now) this.closed.delete(id);
    for (const lease of this.leases.values()) {
      if (this.idleAndEmpty(lease, now)) this.leases.delete(lease.key);
      else this.kick(lease);
    }
  }

  /** Shutdown: spend written and every free part given back (in-flight parts expire with their leases). */
  async close(deadline: number): Promise<void> {
    this.closing = true;
    for (const lease of this.leases.values()) {
      if (this.clock() >= deadline) return;
      await this.writeNow(lease).catch(() => undefined);
    }
  }

  /** True for an open reservation made here from a lease. */
  owns(reservationId: string): boolean {
    return this.holds.has(reservationId);
  }

  /** Resolves once no write of any lease is under way. */
  async whenIdle(): Promise<void> {
    for (;;) {
      const writing = [...this.leases.values()].map((lease) => lease.writing).filter((w) => w !== null);
      if (writing.length === 0) return;
      await Promise.all(writing);
    }
  }

  /** This instance's leases as it sees them (for tests and diagnostics). */
  snapshot(): Array<{ id: string; projectId: string; day: string; free: number; inflight: number; backed: number }> {
    return [...this.leases.values()].map(({ id, projectId, day, free, inflight, backed }) => ({
      id,
      projectId,
      day,
      free,
      inflight,
      backed,
    }));
  }

  private leaseOf(projectId: string, now: number): Lease {
    const { day, month } = budgetWindowsAt(now);
    const key = `${projectId}|${day}|${month}`;
    let lease = this.leases.get(key);
    if (!lease) {
      lease = {
        key,
        id: `L${randomUUID()}`,
        projectId,
        day,
        month,
        daily: null,
        monthly: null,
        free: 0,
        inflight: 0,
        unbacked: 0,
        spend: 0,
        consumed: 0,
        backed: 0,
        generation: 0,
        seq: 0,
        mean: 0,
        lastUsed: now,
        recent: 0,
        recentSince: now,
        wanted: false,
        usableUntil: 0,
        refusedUntil: 0,
        unacknowledged: null,
        writing: null,
        again: false,
        left: { daily: null, monthly: null },
      };
      this.leases.set(key, lease);
    }
    return lease;
  }

  private limited(lease: Lease): boolean {
    return lease.daily !== null || lease.monthly !== null;
  }

  private target(lease: Lease): number {
    return Math.ceil(this.settings.requests * lease.mean);
  }

  private idle(lease: Lease, now: number): boolean {
    return now - lease.lastUsed > this.settings.ttlMs / 3;
  }

  private idleAndEmpty(lease: Lease, now: number): boolean {
    const empty = lease.free + lease.inflight + lease.unbacked + lease.spend + lease.consumed + lease.backed === 0;
    return empty && lease.unacknowledged === null && !lease.writing && this.idle(lease, now);
  }

  /** The free part runs low (or the lease is new) while requests come: worth a write now. */
  private wantsWrite(lease: Lease, now: number): boolean {
    if (!this.limited(lease)) return lease.unbacked > 0;
    return lease.wanted && now >= lease.refusedUntil && lease.free < this.settings.lowWater * this.target(lease);
  }

  private settleClosed(id: string, actual: number): CloseOutcome | null {
    const entry = this.closed.get(id);
    if (!entry) return null;
    if (!entry.expired) return 'already_closed';
    // Its hold expired here (never closed in time): a late settle still spends, as with a hold in Redis.
    entry.expired = false;
    entry.lease.spend += actual;
    this.kick(entry.lease);
    return 'closed';
  }

  private finish(id: string, hold: LeasedHold, expired: boolean): void {
    this.holds.delete(id);
    hold.lease.inflight -= hold.amount;
    if (this.closed.size >= MAX_CLOSED) {
      const oldest = this.closed.keys().next();
      if (!oldest.done) this.closed.delete(oldest.value);
    }
    this.closed.set(id, { lease: hold.lease, expired, until: this.clock() + TOMBSTONE_TTL_MS });
  }

  /** Starts a write of the lease soon (settles of one tick go together), unless one is under way. */
  private kick(lease: Lease): void {
    if (lease.writing) lease.again = true;
    else void this.startWrite(lease, true);
  }

  private async writeNow(lease: Lease): Promise<void> {
    while (lease.writing) await lease.writing;
    await this.startWrite(lease, false);
  }

  /** One write at a time per lease; a kick during it starts another after it. */
  private startWrite(lease: Lease, nextTurn: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (nextTurn) await new Promise((resolve) => setImmediate(resolve));
      await this.write(lease);
    };
    const writing: Promise<void> = run().finally(() => {
      if (lease.writing === writing) lease.writing = null;
      if (lease.again) {
        lease.again = false;
        this.kick(lease);
      }
    });
    lease.writing = writing;
    return writing;
  }

  private async write(lease: Lease): Promise<void> {
    const write = lease.unacknowledged ?? this.compose(lease, this.clock());
    if (!write) return;
    lease.unacknowledged = write;
    let reply: LeaseReply;
    try {
      reply = await this.writer(write);
    } catch {
      return; // retried as it is by the next round
    }
    lease.unacknowledged = null;
    this.apply(lease, write, reply);
  }

  /** What the next write carries; null when there is nothing to write. Moves it out of the local counters. */
  private compose(lease: Lease, now: number): LeaseWrite | null {
    const limited = this.limited(lease);
    const spend = lease.spend;
    let consumed = lease.consumed;
    let change = 0;
    if (!limited) {
      // No budget: Redis holds exactly what is carved and in flight (so that balances show it), nothing spare.
      change = lease.unbacked - lease.free - consumed;
      consumed = 0;
      lease.unbacked = 0;
      lease.free = 0;
    } else if (this.closing || this.idle(lease, now) || now < lease.refusedUntil || !this.current(lease, now)) {
      change = -lease.free;
      lease.free = 0;
      if (this.idle(lease, now)) lease.wanted = false;
    } else if (lease.wanted && lease.free < this.settings.lowWater * this.target(lease)) {
      change = this.target(lease) - lease.free;
    }
    const renew = lease.backed > 0 && lease.usableUntil - now < (this.settings.ttlMs * SAFE_SHARE_OF_TTL) / 2;
    if (spend === 0 && consumed === 0 && change === 0 && !renew) return null;
    lease.spend = 0;
    lease.consumed = 0;
    lease.seq += 1;
    return {
      leaseId: lease.id,
      seq: lease.seq,
      projectId: lease.projectId,
      day: lease.day,
      month: lease.month,
      spend,
      consumed,
      change,
      daily: lease.daily,
      monthly: lease.monthly,
      share: this.settings.share,
      least: Math.ceil(LEAST_GRANT_REQUESTS * lease.mean),
      now,
      expiresAt: now + this.settings.ttlMs,
    };
  }

  private apply(lease: Lease, write: LeaseWrite, reply: LeaseReply): void {
    if (!reply.held && lease.backed > 0) {
      // Redis no longer holds the lease (it expired while Redis was unreachable, or Redis lost its
      // data): what was carved from it is on its own; its spend is still booked when it settles.
      lease.generation += 1;
      lease.inflight = 0;
      lease.consumed = 0;
      lease.unbacked = 0;
      lease.free = 0;
    }
    if (write.change > 0 && this.limited(lease)) {
      lease.free += reply.granted;
      if (reply.granted === 0 && reply.ready) {
        lease.refusedUntil = write.now + this.settings.ttlMs / 3;
        lease.again = true; // give the free part back at once
      }
    }
    lease.backed = reply.amount;
    lease.usableUntil = write.now + this.settings.ttlMs * SAFE_SHARE_OF_TTL;
    if (reply.dayLeft !== null || reply.monthLeft !== null) {
      lease.left = { daily: told(reply.dayLeft), monthly: told(reply.monthLeft) };
      this.observe(lease.projectId, write.now, reply.dayLeft, reply.monthLeft);
    }
  }

  private current(lease: Lease, now: number): boolean {
    const { day, month } = budgetWindowsAt(now);
    return lease.day === day && lease.month === month;
  }
}
