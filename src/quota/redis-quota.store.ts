import { createHash } from 'node:crypto';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppError } from '../common/errors/app-error';
import type { Reservation } from './dto/quota';
import {
  Balances,
  CloseOutcome,
  HOLD_TTL_MS,
  QuotaRejection,
  QuotaStore,
  ReserveCommand,
  ReserveOutcome,
  TOMBSTONE_TTL_MS,
} from './quota.store';
import { BudgetLeases, LeaseReply, LeaseSettings, LeaseWrite } from './budget-leases';
import { QuotaKeys } from './quota-keys';
import { BudgetLeft, OutageFallback } from './quota-outage';
import {
  BALANCES_SCRIPT,
  LEASE_SCRIPT,
  REBUILD_SCRIPT,
  REHOLD_SCRIPT,
  RELEASE_SCRIPT,
  RESERVE_SCRIPT,
  SETTLE_SCRIPT,
} from './quota.scripts';
import { QuotaRebuild, SpendSource } from './quota-rebuild';
import {
  BudgetWindows,
  budgetWindowsAt,
  budgetWindowsOf,
  MINUTE_MS,
  minuteWindowAt,
  WINDOW_GRACE_MS,
} from './quota-windows';
import { bounded, RedisCircuit } from '../common/upstream/redis-circuit';
import {
  RateShares,
  type RateShareSettings,
  redisShareWriter,
  type ShareCounter,
  type ShareWriter,
} from '../rate-limit/rate-limit.api';

export interface RedisQuotaStoreOptions {
  prefix: string;
  /** Bound of every Redis call; past it the decision is taken locally. */
  timeoutMs: number;
  /** Micro-credits an instance may reserve per project while Redis is unreachable. */
  outageAllowance: number;
  /** Timeouts in a row after which Redis is skipped for a while (default: RedisCircuit's). */
  timeoutsToOpen?: number;
  /** The usage ledger, from which counters lost with Redis are rebuilt. */
  ledger: SpendSource;
  /** See QuotaRebuildOptions.gatherMs. */
  rebuildGatherMs: number;
  /** See QuotaRebuildOptions.drainWaitMs. */
  rebuildDrainWaitMs: number;
  /** How long a paid request waits for a rebuild before its 503. */
  rebuildWaitMs: number;
  /** Budget leases (see BudgetLeases); absent or `requests: 0`: every paid request holds in Redis. */
  leases?: LeaseSettings;
  /** The clock of the leases (tests move it). */
  clock?: () => number;
  /** How often the leases' background round runs (default: a sixth of their TTL, at most 1 s; 0: never). */
  leaseRoundMs?: number;
  /**
   * Shares of busy API keys' rpm/tpm counters counted in process (see RateShares), so that a leased
   * request of a rated key needs no round trip either; absent or `requests: 0`: rpm/tpm count in Redis.
   */
  rateShares?: RateShareSettings;
  /** How the shares are written (tests replace it); default: the rate-limit share script on `redis`. */
  rateShareWriter?: ShareWriter;
  /** How often the shares' background round runs (default 250 ms; 0: never). */
  rateRoundMs?: number;
}

/** A request reserved from a lease whose tokens count in its key's tpm share: adjusted when it closes. */
interface RatedHold {
  family: string;
  key: string;
  tokens: number;
  expiresAt: number;
}

/** A reservation Redis granted and this instance has not closed yet: held again if Redis loses it. */
interface OpenReservation {
  reservation: Reservation;
  expiresAt: number;
}

/** A settle or release that Redis has not acknowledged yet; retried until it has (both are idempotent). */
type PendingWrite =
  | { kind: 'settle'; reservation: Reservation; actual: number; tokens: number | null; book: boolean }
  | { kind: 'release'; reservation: Reservation };

const FLUSH_INTERVAL_MS = 1000;
/** How often the projects of open reservations are checked for a Redis that lost its data. */
const REHOLD_INTERVAL_MS = 500;
const MAX_PENDING = 100_000;
const MAX_OPEN = 100_000;
/** Retry-After of a paid request refused while its project's counters are rebuilt. */
const REBUILD_RETRY_AFTER_MS = 2000;
const SHUTDOWN_FLUSH_MS = 1000;

class LuaScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

const SCRIPTS = {
  reserve: new LuaScript(RESERVE_SCRIPT),
  settle: new LuaScript(SETTLE_SCRIPT),
  release: new LuaScript(RELEASE_SCRIPT),
  balances: new LuaScript(BALANCES_SCRIPT),
  rehold: new LuaScript(REHOLD_SCRIPT),
  rebuild: new LuaScript(REBUILD_SCRIPT),
  lease: new LuaScript(LEASE_SCRIPT),
};

/** How often leases are refilled, renewed, given back and their holds swept, at most. */
const LEASE_ROUND_MS = 1000;
/** Bound of one lease write (in the background: requests never wait for it). */
const LEASE_WRITE_TIMEOUT_MS = 1000;
const NO_LEASES: LeaseSettings = { requests: 0, share: 0, lowWater: 0, ttlMs: 30_000, minRate: 0 };
const NO_RATE_SHARES: RateShareSettings = { requests: 0, share: 0, minRate: 0 };
const RATE_ROUND_MS = 250;

/** A reply of the reserve script that asks for the project's counters to be rebuilt first. */
const UNREADY = 'unready';

/**
 * Budgets and rate limits in Redis, shared by every instance, one Lua script per
 * operation. Every call is bounded by `timeoutMs`; when Redis fails, decisions fall
 * back to this instance (OutageFallback) and settles/releases are queued and
 * replayed once Redis answers again, so that no spend is lost.
 */
export class RedisQuotaStore extends QuotaStore implements OnModuleDestroy {
  readonly shared = true;
  private readonly logger = new Logger(RedisQuotaStore.name);
  private readonly circuit: RedisCircuit;
  private readonly keys: QuotaKeys;
  private readonly fallback: OutageFallback;
  private readonly pending: PendingWrite[] = [];
  private readonly open = new Map<string, OpenReservation>();
  private readonly rebuild: QuotaRebuild;
  private flushing: Promise<void> | null = null;
  private reholding = false;
  private readonly flusher = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS).unref();
  private readonly reholder = setInterval(() => void this.reholdIfLost(), REHOLD_INTERVAL_MS).unref();
  /** This instance's slices of budgets, spent here without a round trip per request. */
  readonly leases: BudgetLeases;
  private readonly leaseRounds: NodeJS.Timeout | undefined;
  /** This instance's shares of busy API keys' rpm/tpm counters. */
  readonly rates: RateShares;
  private readonly rated = new Map<string, RatedHold>();
  private readonly rateRounds: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisQuotaStoreOptions,
  ) {
    super();
    this.circuit = new RedisCircuit(
      this.logger,
      {
        down: 'Redis unavailable, quotas fall back to this instance (rate limits local, spend up to the outage allowance)',
        up: 'Redis is back: quotas are shared again',
      },
      { timeoutsToOpen: options.timeoutsToOpen },
    );
    this.keys = new QuotaKeys(options.prefix);
    this.fallback = new OutageFallback(options.outageAllowance);
    this.rebuild = new QuotaRebuild(
      redis,
      this.keys,
      options.ledger,
      { gatherMs: options.rebuildGatherMs, drainWaitMs: options.rebuildDrainWaitMs, timeoutMs: options.timeoutMs },
      (keys, args) => SCRIPTS.rebuild.run(redis, keys, args),
    );
    const leases = options.leases ?? NO_LEASES;
    this.leases = new BudgetLeases(
      leases,
      (write) => this.writeLease(write),
      (projectId, now, day, month) => this.fallback.observe(projectId, now, { day, month }),
      options.clock,
    );
    const round = options.leaseRoundMs ?? Math.max(10, Math.min(LEASE_ROUND_MS, Math.floor(leases.ttlMs / 6)));
    this.leaseRounds = round > 0 ? setInterval(() => this.leases.tick(), round).unref() : undefined;
    this.rates = new RateShares(
      options.rateShares ?? NO_RATE_SHARES,
      options.rateShareWriter ?? redisShareWriter(redis, () => this.circuit.succeeded()),
      options.clock,
    );
    const rateRound = options.rateRoundMs ?? RATE_ROUND_MS;
    this.rateRounds = rateRound > 0 ? setInterval(() => this.rateTick(), rateRound).unref() : undefined;
  }

  override get onOutageAllowance(): boolean {
    return this.circuit.open;
  }

  /** Writes not yet acknowledged by Redis. */
  get pendingWrites(): number {
    return this.pending.length;
  }

  async reserve(command: ReserveCommand): Promise<ReserveOutcome> {
    if (this.circuit.open) return this.fallback.reserve(command);
    const leased = this.reserveLocally(command);
    if (leased) return leased;
    let outcome: ReserveOutcome | typeof UNREADY;
    try {
      outcome = await bounded(this.reserveInRedis(command), this.options.timeoutMs);
      this.circuit.succeeded();
    } catch (err) {
      this.circuit.failed(err);
      const local = this.fallback.reserve(command);
      // The script may still run once Redis answers: make sure that hold goes away again.
      if (!local.ok) this.enqueue({ kind: 'release', reservation: reservationOf(command) });
      return local;
    }
    return outcome === UNREADY ? this.reserveAfterRebuild(command) : outcome;
  }

  /**
   * Reserves from this instance's lease, and counts the API key's rpm/tpm (if limited) from its
   * shares of their counters, all or nothing; null when Redis must decide.
   */
  private reserveLocally(command: ReserveCommand): ReserveOutcome | null {
    const { apiKeyId, limits } = command;
    if (apiKeyId === null || (limits.rpm === null && limits.tpm === null)) return this.leases.reserve(command);
    if (!this.leases.enabled || !this.rates.enabled) return null;
    const counters = this.rateCounters(command, apiKeyId);
    if (!this.rates.take(counters)) return null;
    const leased = this.leases.reserve(command, true);
    if (!leased || !leased.ok) {
      for (const c of counters) this.rates.adjust(c.family, c.key, -c.units);
      return leased;
    }
    const tpm = counters.find((c) => c.family.endsWith(':tpm'));
    if (tpm) {
      const expiresAt = command.now + HOLD_TTL_MS;
      this.rated.set(command.id, { family: tpm.family, key: tpm.key, tokens: command.tokens, expiresAt });
    }
    return leased;
  }

  /** The key's limited rate counters of the current minute, as the reserve script counts them. */
  private rateCounters(command: ReserveCommand, apiKeyId: string): ShareCounter[] {
    const { limits, now, projectId } = command;
    const minute = minuteWindowAt(now);
    const keys = this.keys.rate(projectId, apiKeyId, minute.index);
    const families = this.keys.rateFamilies(projectId, apiKeyId);
    const expiry = { kind: 'at', endsAt: minute.endsAt, keepUntil: minute.endsAt + MINUTE_MS } as const;
    const counters: ShareCounter[] = [];
    if (limits.rpm !== null) {
      counters.push({ family: families.requests, key: keys.requests, limit: limits.rpm, units: 1, expiry });
    }
    if (limits.tpm !== null) {
      counters.push({ family: families.tokens, key: keys.tokens, limit: limits.tpm, units: command.tokens, expiry });
    }
    return counters;
  }

  /** A leased reservation closed: its tokens counted as it used them (`null`: as estimated; release: none). */
  private closeRated(reservationId: string, actualTokens: number | null): void {
    const hold = this.rated.get(reservationId);
    if (!hold) return;
    this.rated.delete(reservationId);
    if (actualTokens !== null) this.rates.adjust(hold.family, hold.key, actualTokens - hold.tokens);
  }

  private rateTick(): void {
    this.rates.tick();
    const now = Date.now();
    for (const [id, hold] of this.rated) if (hold.expiresAt <= now) this.rated.delete(id);
  }

  /** A paid request of a budgeted project whose counters Redis lost: waits (bounded) for their rebuild. */
  private async reserveAfterRebuild(command: ReserveCommand): Promise<ReserveOutcome> {
    const rebuilding: ReserveOutcome = { ok: false, reason: 'quota_rebuilding', retryAfterMs: REBUILD_RETRY_AFTER_MS };
    this.rebuild.start(command.projectId);
    if (!(await this.rebuild.waitReady(command.projectId, Date.now() + this.options.rebuildWaitMs))) return rebuilding;
    try {
      const outcome = await bounded(this.reserveInRedis(command), this.options.timeoutMs);
      this.circuit.succeeded();
      return outcome === UNREADY ? rebuilding : outcome;
    } catch (err) {
      this.circuit.failed(err);
      return rebuilding;
    }
  }

  async settle(
    reservation: Reservation,
    actualMicroCredits: number,
    actualTokens: number | null,
    now: number,
  ): Promise<CloseOutcome> {
    const leased = this.leases.settle(reservation, actualMicroCredits);
    if (leased) {
      this.closeRated(reservation.id, actualTokens);
      return leased;
    }
    if (this.fallback.owns(reservation, now)) {
      const outcome = this.fallback.settle(reservation, actualMicroCredits, actualTokens, now);
      if (outcome === 'closed') {
        this.enqueue({ kind: 'settle', reservation, actual: actualMicroCredits, tokens: actualTokens, book: true });
      }
      return outcome;
    }
    return this.writeOrDefer({
      kind: 'settle',
      reservation,
      actual: actualMicroCredits,
      tokens: actualTokens,
      book: false,
    });
  }

  async release(reservation: Reservation, now: number): Promise<CloseOutcome> {
    const leased = this.leases.release(reservation);
    if (leased) {
      this.closeRated(reservation.id, 0);
      return leased;
    }
    if (this.fallback.owns(reservation, now)) {
      const outcome = this.fallback.release(reservation, now);
      if (outcome === 'closed') this.enqueue({ kind: 'release', reservation });
      return outcome;
    }
    return this.writeOrDefer({ kind: 'release', reservation });
  }

  async balances(projectId: string, now: number): Promise<Balances> {
    const unavailable = new AppError(
      'service_unavailable',
      'Quota balances are unavailable while Redis is unreachable',
      {
        headers: { 'Retry-After': '2' },
      },
    );
    if (this.circuit.open) throw unavailable;
    // This instance's spend is written first; other instances' not yet written is still held in their leases.
    await this.leases.flushProject(projectId);
    let read = await this.readBalances(projectId, now, unavailable);
    if (!read.ready) {
      // Redis lost the counters: rebuilt from the ledger first, never shown from zero.
      this.rebuild.start(projectId);
      const ready = await this.rebuild.waitReady(projectId, Date.now() + this.options.rebuildWaitMs);
      if (ready) read = await this.readBalances(projectId, now, unavailable);
      if (!read.ready) {
        throw new AppError('service_unavailable', 'Quota balances are being rebuilt from the ledger; retry shortly', {
          headers: { 'Retry-After': String(REBUILD_RETRY_AFTER_MS / 1000) },
          details: { reason: 'quota_rebuilding' },
        });
      }
    }
    return read.balances;
  }

  private async readBalances(
    projectId: string,
    now: number,
    unavailable: AppError,
  ): Promise<{ balances: Balances; ready: boolean }> {
    const windows = budgetWindowsAt(now);
    const day = this.keys.budget(projectId, 'd', windows.day);
    const month = this.keys.budget(projectId, 'm', windows.month);
    try {
      const reply = await bounded(
        SCRIPTS.balances.run(
          this.redis,
          [day.spent, day.reserved, day.holds, month.spent, month.reserved, month.holds, this.keys.ready(projectId)],
          [now],
        ),
        this.options.timeoutMs,
      );
      this.circuit.succeeded();
      const [daySpent, dayReserved, monthSpent, monthReserved, ready] = integers(reply, 5);
      return {
        balances: {
          daily: { spent: daySpent, reserved: dayReserved },
          monthly: { spent: monthSpent, reserved: monthReserved },
        },
        ready: ready === 1,
      };
    } catch (err) {
      this.circuit.failed(err);
      throw unavailable;
    }
  }

  /** Writes queued settles and releases to Redis, oldest first, until one fails. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.length === 0 || this.circuit.open) return Promise.resolve();
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.flusher);
    clearInterval(this.reholder);
    clearInterval(this.leaseRounds);
    clearInterval(this.rateRounds);
    this.fallback.close();
    const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
    if (!this.circuit.open) await Promise.all([this.leases.close(deadline), this.rates.close(deadline)]);
    while (this.pending.length > 0 && Date.now() < deadline && !this.circuit.open) await this.flush();
    if (this.pending.length > 0) {
      this.logger.error(`${this.pending.length} quota settles/releases could not be written to Redis before shutdown`);
    }
    this.circuit.close();
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const write = this.pending[0];
      try {
        await bounded(this.apply(write), this.options.timeoutMs);
      } catch (err) {
        this.circuit.failed(err);
        return;
      }
      this.circuit.succeeded();
      this.pending.shift();
      if (write.kind === 'settle' && write.book) this.fallback.replayed(write.reservation.project_id, write.actual);
    }
  }

  private async writeOrDefer(write: PendingWrite): Promise<CloseOutcome> {
    if (!this.circuit.open) {
      try {
        const outcome = await bounded(this.apply(write), this.options.timeoutMs);
        this.circuit.succeeded();
        return outcome;
      } catch (err) {
        this.circuit.failed(err);
      }
    }
    this.enqueue(write);
    return 'deferred';
  }

  private enqueue(write: PendingWrite): void {
    if (this.pending.length >= MAX_PENDING) {
      const dropped = this.pending.shift();
      this.logger.error(`Quota write queue full: dropped a ${dropped?.kind} of reservation ${dropped?.reservation.id}`);
    }
    this.pending.push(write);
  }

  private async apply(write: PendingWrite): Promise<CloseOutcome> {
    const { reservation } = write;
    if (write.kind === 'release') {
      const outcome = await this.releaseInRedis(reservation);
      this.open.delete(reservation.id);
      return outcome;
    }
    let outcome = await this.settleInRedis(reservation, write.actual, write.tokens, write.book);
    // Redis granted it, then lost it (restarted empty) before it was held again: the spend still counts.
    if (outcome === 'unknown' && this.open.has(reservation.id)) {
      outcome = await this.settleInRedis(reservation, write.actual, write.tokens, true);
    }
    this.open.delete(reservation.id);
    return outcome;
  }

  /**
   * Every REHOLD_INTERVAL_MS: a project with reservations open here whose `ready` marker
   * is gone lost its data in Redis; those reservations are held again (before the
   * rebuild lets paid requests in), so that their amounts stay covered.
   */
  private async reholdIfLost(): Promise<void> {
    if (this.reholding || this.open.size === 0 || this.circuit.open) return;
    this.reholding = true;
    try {
      const now = Date.now();
      const byProject = new Map<string, OpenReservation[]>();
      for (const [id, open] of this.open) {
        if (open.expiresAt <= now) {
          this.open.delete(id);
          continue;
        }
        const list = byProject.get(open.reservation.project_id) ?? [];
        list.push(open);
        byProject.set(open.reservation.project_id, list);
      }
      const projects = [...byProject.keys()];
      const pipeline = this.redis.pipeline();
      for (const projectId of projects) pipeline.exists(this.keys.ready(projectId));
      const results = (await bounded(pipeline.exec(), this.options.timeoutMs)) ?? [];
      for (const [i, projectId] of projects.entries()) {
        const [err, exists] = results[i] ?? [new Error('no reply'), 1];
        if (err || exists === 1) continue;
        for (const open of byProject.get(projectId) ?? []) await this.rehold(open, now);
      }
    } catch (err) {
      this.logger.debug(`Open reservations not checked: ${String(err)}`);
    } finally {
      this.reholding = false;
    }
  }

  private async rehold(open: OpenReservation, now: number): Promise<void> {
    const { reservation } = open;
    const { windows, holdKeys } = this.holdKeysOf(reservation);
    const done = await bounded(
      SCRIPTS.rehold.run(this.redis, holdKeys, [
        ...[reservation.id, reservation.micro_credits, open.expiresAt],
        ...[windows.dayEndsAt + WINDOW_GRACE_MS, windows.monthEndsAt + WINDOW_GRACE_MS],
        Math.max(1, open.expiresAt - now) + TOMBSTONE_TTL_MS,
      ]),
      this.options.timeoutMs,
    );
    if (done === 1) {
      this.logger.warn(`Reservation ${reservation.id} held again: Redis had lost it (its data was reset)`);
    }
  }

  /**
   * One write of a lease (LEASE_SCRIPT), bounded (no request waits for it: a slow write is not
   * evidence of an outage, so only replies count for the circuit); a failure is thrown.
   */
  private async writeLease(write: LeaseWrite): Promise<LeaseReply> {
    if (this.circuit.open) throw new Error('Redis is skipped for now');
    const windows = budgetWindowsOf(write.day, write.month);
    const day = this.keys.budget(write.projectId, 'd', windows.day);
    const month = this.keys.budget(write.projectId, 'm', windows.month);
    let reply: unknown;
    try {
      reply = await bounded(
        SCRIPTS.lease.run(
          this.redis,
          [
            ...[day.spent, day.reserved, day.holds, month.spent, month.reserved, month.holds],
            ...[
              this.keys.ready(write.projectId),
              this.keys.lease(write.projectId, write.leaseId),
              day.late,
              month.late,
            ],
          ],
          [
            ...[write.leaseId, write.seq, write.spend, write.consumed, write.change],
            ...[write.daily ?? -1, write.monthly ?? -1, write.now, write.expiresAt],
            ...[windows.dayEndsAt + WINDOW_GRACE_MS, windows.monthEndsAt + WINDOW_GRACE_MS, write.share, write.least],
          ],
        ),
        Math.max(LEASE_WRITE_TIMEOUT_MS, this.options.timeoutMs),
      );
    } catch (err) {
      this.logger.debug(`Lease write of project ${write.projectId} not acknowledged: ${String(err)}`);
      throw err;
    }
    this.circuit.succeeded();
    const [state, granted, amount, dayLeft, monthLeft, ready] = integers(reply, 6);
    if (ready === 0 && (write.daily !== null || write.monthly !== null)) this.rebuild.start(write.projectId);
    if (state === 2)
      return { held: dayLeft === 1, granted, amount, dayLeft: null, monthLeft: null, ready: ready === 1 };
    return { held: state === 1, granted, amount, dayLeft, monthLeft, ready: ready === 1 };
  }

  private async reserveInRedis(command: ReserveCommand): Promise<ReserveOutcome | typeof UNREADY> {
    const { projectId, limits, now } = command;
    const windows = budgetWindowsAt(now);
    const minute = minuteWindowAt(now);
    const day = this.keys.budget(projectId, 'd', windows.day);
    const month = this.keys.budget(projectId, 'm', windows.month);
    const rate = this.keys.rate(projectId, command.apiKeyId ?? '-', minute.index);
    const reply = await SCRIPTS.reserve.run(
      this.redis,
      [
        ...[day.spent, day.reserved, day.holds, month.spent, month.reserved, month.holds],
        ...[rate.requests, rate.tokens, this.keys.reservation(projectId, command.id), this.keys.ready(projectId)],
      ],
      [
        ...[command.id, command.microCredits, command.tokens],
        ...[limits.daily, limits.monthly, limits.rpm, limits.tpm].map((limit) => limit ?? -1),
        command.apiKeyId === null ? 0 : 1,
        ...[now, now + HOLD_TTL_MS, windows.dayEndsAt + WINDOW_GRACE_MS, windows.monthEndsAt + WINDOW_GRACE_MS],
        ...[minute.endsAt + MINUTE_MS, minute.endsAt - now, HOLD_TTL_MS + TOMBSTONE_TTL_MS],
      ],
    );
    const parsed = parseReserveReply(reply, reservationOf(command));
    if (parsed === UNREADY) return parsed;
    const { left, ready, ...outcome } = parsed;
    if (ready === false) this.rebuild.start(projectId);
    this.fallback.observe(projectId, now, left);
    if (!outcome.ok) return outcome;
    if (command.microCredits > 0) this.remember(outcome.reservation, now);
    const told = (n: number | null): number | null => (n === null || n < 0 ? null : n);
    return { ...outcome, left: { daily: told(left.day), monthly: told(left.month) } };
  }

  private remember(reservation: Reservation, now: number): void {
    if (this.open.size >= MAX_OPEN) {
      const oldest = this.open.keys().next();
      if (!oldest.done) this.open.delete(oldest.value);
    }
    this.open.set(reservation.id, { reservation, expiresAt: now + HOLD_TTL_MS });
  }

  private async settleInRedis(
    reservation: Reservation,
    actual: number,
    actualTokens: number | null,
    book: boolean,
  ): Promise<CloseOutcome> {
    const windows = budgetWindowsOf(reservation.day, reservation.month);
    const day = this.keys.budget(reservation.project_id, 'd', windows.day);
    const month = this.keys.budget(reservation.project_id, 'm', windows.month);
    const reply = await SCRIPTS.settle.run(
      this.redis,
      [
        this.keys.reservation(reservation.project_id, reservation.id),
        ...[day.spent, day.reserved, day.holds, month.spent, month.reserved, month.holds],
        ...[this.keys.ready(reservation.project_id), day.late, month.late],
      ],
      [
        ...[reservation.id, actual, actualTokens ?? -1],
        ...[windows.dayEndsAt + WINDOW_GRACE_MS, windows.monthEndsAt + WINDOW_GRACE_MS, TOMBSTONE_TTL_MS],
        book ? 1 : 0,
      ],
    );
    return parseCloseReply(reply);
  }

  /** A reservation's windows, and its key with the reserved counters and holds of its day and month. */
  private holdKeysOf(reservation: Reservation): { windows: BudgetWindows; holdKeys: string[] } {
    const windows = budgetWindowsOf(reservation.day, reservation.month);
    const day = this.keys.budget(reservation.project_id, 'd', windows.day);
    const month = this.keys.budget(reservation.project_id, 'm', windows.month);
    const reservationKey = this.keys.reservation(reservation.project_id, reservation.id);
    return { windows, holdKeys: [reservationKey, day.reserved, day.holds, month.reserved, month.holds] };
  }

  private async releaseInRedis(reservation: Reservation): Promise<CloseOutcome> {
    const reply = await SCRIPTS.release.run(this.redis, this.holdKeysOf(reservation).holdKeys, [
      reservation.id,
      TOMBSTONE_TTL_MS,
    ]);
    return parseCloseReply(reply);
  }
}

function reservationOf(command: ReserveCommand): Reservation {
  const { day, month } = budgetWindowsAt(command.now);
  return { id: command.id, project_id: command.projectId, micro_credits: command.microCredits, day, month };
}

function integers(reply: unknown, count: number): number[] {
  if (!Array.isArray(reply) || reply.length < count || !reply.slice(0, count).every((v) => typeof v === 'number')) {
    throw new Error(`Unexpected reply from a quota script: ${JSON.stringify(reply)}`);
  }
  return reply.slice(0, count) as number[];
}

/** A reserve reply, with what it tells of the budgets left (null: not told) and of the counters' state. */
type ParsedReserve = ({ ok: true; reservation: Reservation } | ({ ok: false } & QuotaRejection)) & {
  left: BudgetLeft;
  ready?: boolean;
};

function parseReserveReply(reply: unknown, reservation: Reservation): ParsedReserve | typeof UNREADY {
  const none: BudgetLeft = { day: null, month: null };
  if (Array.isArray(reply) && reply[0] === 1) {
    if (reply.length < 4) return { ok: true, reservation, left: none };
    const [day, month, ready] = integers(reply.slice(1), 3);
    return { ok: true, reservation, left: { day, month }, ready: ready === 1 };
  }
  const reason: unknown = Array.isArray(reply) ? reply[1] : undefined;
  if (reason === UNREADY) return UNREADY;
  const [limit, a, b] = Array.isArray(reply) ? integers(reply.slice(2), 3) : [];
  switch (reason) {
    case 'rpm':
    case 'tpm':
      return { ok: false, reason, limit, retryAfterMs: a, left: none };
    case 'budget_daily':
      return {
        ok: false,
        reason,
        limit,
        spent: a,
        reserved: b,
        left: { day: Math.max(0, limit - a - b), month: null },
      };
    case 'budget_monthly':
      return {
        ok: false,
        reason,
        limit,
        spent: a,
        reserved: b,
        left: { day: null, month: Math.max(0, limit - a - b) },
      };
    default:
      throw new Error(`Unexpected reply from the quota reserve script: ${JSON.stringify(reply)}`);
  }
}

function parseCloseReply(reply: unknown): CloseOutcome {
  if (reply === 'closed' || reply === 'already_closed' || reply === 'unknown') return reply;
  throw new Error(`Unexpected reply from a quota script: ${JSON.stringify(reply)}`);
}
