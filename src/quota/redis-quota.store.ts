import { createHash } from 'node:crypto';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppError } from '../common/errors/app-error';
import type { Reservation } from './dto/quota';
import {
  Balances,
  CloseOutcome,
  HOLD_TTL_MS,
  QuotaStore,
  ReserveCommand,
  ReserveOutcome,
  TOMBSTONE_TTL_MS,
} from './quota.store';
import { QuotaKeys } from './quota-keys';
import { OutageFallback } from './quota-outage';
import { BALANCES_SCRIPT, RELEASE_SCRIPT, RESERVE_SCRIPT, SETTLE_SCRIPT } from './quota.scripts';
import { budgetWindowsAt, budgetWindowsOf, MINUTE_MS, minuteWindowAt, WINDOW_GRACE_MS } from './quota-windows';
import { bounded, RedisCircuit } from '../common/upstream/redis-circuit';

export interface RedisQuotaStoreOptions {
  prefix: string;
  /** Bound of every Redis call; past it the decision is taken locally. */
  timeoutMs: number;
  /** Micro-credits an instance may reserve per project while Redis is unreachable. */
  outageAllowance: number;
  /** Timeouts in a row after which Redis is skipped for a while (default: RedisCircuit's). */
  timeoutsToOpen?: number;
}

/** A settle or release that Redis has not acknowledged yet; retried until it has (both are idempotent). */
type PendingWrite =
  | { kind: 'settle'; reservation: Reservation; actual: number; tokens: number | null; book: boolean }
  | { kind: 'release'; reservation: Reservation };

const FLUSH_INTERVAL_MS = 1000;
const MAX_PENDING = 100_000;
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
};

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
  private flushing: Promise<void> | null = null;
  private readonly flusher = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS).unref();

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
  }

  /** Writes not yet acknowledged by Redis. */
  get pendingWrites(): number {
    return this.pending.length;
  }

  async reserve(command: ReserveCommand): Promise<ReserveOutcome> {
    if (this.circuit.open) return this.fallback.reserve(command);
    try {
      const outcome = await bounded(this.reserveInRedis(command), this.options.timeoutMs);
      this.circuit.succeeded();
      return outcome;
    } catch (err) {
      this.circuit.failed(err);
      const outcome = this.fallback.reserve(command);
      // The script may still run once Redis answers: make sure that hold goes away again.
      if (!outcome.ok) this.enqueue({ kind: 'release', reservation: reservationOf(command) });
      return outcome;
    }
  }

  async settle(
    reservation: Reservation,
    actualMicroCredits: number,
    actualTokens: number | null,
    now: number,
  ): Promise<CloseOutcome> {
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
    const windows = budgetWindowsAt(now);
    const day = this.keys.budget(projectId, 'd', windows.day);
    const month = this.keys.budget(projectId, 'm', windows.month);
    try {
      const reply = await bounded(
        SCRIPTS.balances.run(
          this.redis,
          [day.spent, day.reserved, day.holds, month.spent, month.reserved, month.holds],
          [now],
        ),
        this.options.timeoutMs,
      );
      this.circuit.succeeded();
      const [daySpent, dayReserved, monthSpent, monthReserved] = integers(reply, 4);
      return {
        daily: { spent: daySpent, reserved: dayReserved },
        monthly: { spent: monthSpent, reserved: monthReserved },
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
    this.fallback.close();
    const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
    while (this.pending.length > 0 && Date.now() < deadline && !this.circuit.open) await this.flush();
    if (this.pending.length > 0) {
      this.logger.error(`${this.pending.length} quota settles/releases could not be written to Redis before shutdown`);
    }
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

  private apply(write: PendingWrite): Promise<CloseOutcome> {
    return write.kind === 'settle'
      ? this.settleInRedis(write.reservation, write.actual, write.tokens, write.book)
      : this.releaseInRedis(write.reservation);
  }

  private async reserveInRedis(command: ReserveCommand): Promise<ReserveOutcome> {
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
        ...[rate.requests, rate.tokens, this.keys.reservation(projectId, command.id)],
      ],
      [
        ...[command.id, command.microCredits, command.tokens],
        ...[limits.daily, limits.monthly, limits.rpm, limits.tpm].map((limit) => limit ?? -1),
        command.apiKeyId === null ? 0 : 1,
        ...[now, now + HOLD_TTL_MS, windows.dayEndsAt + WINDOW_GRACE_MS, windows.monthEndsAt + WINDOW_GRACE_MS],
        ...[minute.endsAt + MINUTE_MS, minute.endsAt - now, HOLD_TTL_MS + TOMBSTONE_TTL_MS],
      ],
    );
    return parseReserveReply(reply, reservationOf(command));
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
      ],
      [
        ...[reservation.id, actual, actualTokens ?? -1],
        ...[windows.dayEndsAt + WINDOW_GRACE_MS, windows.monthEndsAt + WINDOW_GRACE_MS, TOMBSTONE_TTL_MS],
        book ? 1 : 0,
      ],
    );
    return parseCloseReply(reply);
  }

  private async releaseInRedis(reservation: Reservation): Promise<CloseOutcome> {
    const windows = budgetWindowsOf(reservation.day, reservation.month);
    const day = this.keys.budget(reservation.project_id, 'd', windows.day);
    const month = this.keys.budget(reservation.project_id, 'm', windows.month);
    const reply = await SCRIPTS.release.run(
      this.redis,
      [
        this.keys.reservation(reservation.project_id, reservation.id),
        day.reserved,
        day.holds,
        month.reserved,
        month.holds,
      ],
      [reservation.id, TOMBSTONE_TTL_MS],
    );
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

function parseReserveReply(reply: unknown, reservation: Reservation): ReserveOutcome {
  if (Array.isArray(reply) && reply[0] === 1) return { ok: true, reservation };
  const reason: unknown = Array.isArray(reply) ? reply[1] : undefined;
  const [limit, a, b] = Array.isArray(reply) ? integers(reply.slice(2), 3) : [];
  switch (reason) {
    case 'rpm':
    case 'tpm':
      return { ok: false, reason, limit, retryAfterMs: a };
    case 'budget_daily':
    case 'budget_monthly':
      return { ok: false, reason, limit, spent: a, reserved: b };
    default:
      throw new Error(`Unexpected reply from the quota reserve script: ${JSON.stringify(reply)}`);
  }
}

function parseCloseReply(reply: unknown): CloseOutcome {
  if (reply === 'closed' || reply === 'already_closed' || reply === 'unknown') return reply;
  throw new Error(`Unexpected reply from a quota script: ${JSON.stringify(reply)}`);
}
