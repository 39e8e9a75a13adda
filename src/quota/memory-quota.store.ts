import { Injectable, OnModuleDestroy } from '@nestjs/common';
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
  WindowBalance,
} from './quota.store';
import {
  BudgetWindows,
  budgetWindowsAt,
  budgetWindowsOf,
  MINUTE_MS,
  minuteWindowAt,
  WINDOW_GRACE_MS,
} from './quota-windows';

/** A map whose entries vanish at their `until` time, judged by the caller's clock like Redis TTLs. */
class ExpiringMap<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.until <= now) this.entries.delete(key);
    return entry && entry.until > now ? entry.value : undefined;
  }

  set(key: string, value: T, until: number): void {
    this.entries.set(key, { value, until });
  }

  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.until <= now) this.entries.delete(key);
  }
}

interface BudgetWindow {
  spent: number;
  reserved: number;
  /** Live holds by reservation id. */
  holds: Map<string, { amount: number; expiresAt: number }>;
}

interface RateWindow {
  requests: number;
  tokens: number;
}

interface ReservationRecord {
  state: 'held' | 'settled' | 'released';
  amount: number;
  tokens: number;
  rateKey: string | null;
}

type Period = 'd' | 'm';

/**
 * The in-process adapter: the same semantics as the Redis scripts, for one instance
 * (the embedded default), and the local fallback of the Redis adapter. Every method
 * has a synchronous core so that a caller can combine checks without interleaving.
 */
@Injectable()
export class MemoryQuotaStore extends QuotaStore implements OnModuleDestroy {
  readonly shared = false;
  private readonly budgets = new ExpiringMap<BudgetWindow>();
  private readonly rates = new ExpiringMap<RateWindow>();
  private readonly reservations = new ExpiringMap<ReservationRecord>();
  private readonly sweeper = setInterval(() => this.sweepAll(Date.now()), 60_000).unref();

  reserve(command: ReserveCommand): Promise<ReserveOutcome> {
    return Promise.resolve(this.reserveNow(command));
  }

  settle(
    reservation: Reservation,
    actualMicroCredits: number,
    actualTokens: number | null,
    now: number,
  ): Promise<CloseOutcome> {
    return Promise.resolve(this.settleNow(reservation, actualMicroCredits, actualTokens, now));
  }

  release(reservation: Reservation, now: number): Promise<CloseOutcome> {
    return Promise.resolve(this.releaseNow(reservation, now));
  }

  balances(projectId: string, now: number): Promise<Balances> {
    return Promise.resolve(this.balancesNow(projectId, now));
  }

  reserveNow(command: ReserveCommand): ReserveOutcome {
    const { projectId, microCredits: amount, now } = command;
    const windows = budgetWindowsAt(now);
    const reservation: Reservation = {
      id: command.id,
      project_id: projectId,
      micro_credits: amount,
      day: windows.day,
      month: windows.month,
    };
    // Reserving an id twice changes nothing (as in Redis, where a late script may arrive after a replay).
    if (this.knows(reservation, now)) return { ok: true, reservation };
    const minute = minuteWindowAt(now);
    const rateKey = command.apiKeyId === null ? null : `${projectId}:${command.apiKeyId}:${minute.index}`;
    const rate = rateKey === null ? null : (this.rates.get(rateKey, now) ?? { requests: 0, tokens: 0 });
    const day = this.liveWindow(projectId, 'd', windows.day, now);
    const month = this.liveWindow(projectId, 'm', windows.month, now);
    const rejection =
      (rate && rateRejection(rate, command, minute.endsAt - now)) ??
      (amount > 0 ? budgetRejection(day, month, command) : null);
    if (rejection) return { ok: false, ...rejection };

    if (rateKey !== null && rate !== null) {
      this.rates.set(
        rateKey,
        { requests: rate.requests + 1, tokens: rate.tokens + command.tokens },
        minute.endsAt + MINUTE_MS,
      );
    }
    if (amount > 0) {
      const hold = { amount, expiresAt: now + HOLD_TTL_MS };
      for (const window of this.windowsOf(projectId, windows, now)) {
        window.holds.set(command.id, hold);
        window.reserved += amount;
      }
    }
    const record: ReservationRecord = { state: 'held', amount, tokens: command.tokens, rateKey };
    this.reservations.set(`${projectId}:${command.id}`, record, now + HOLD_TTL_MS + TOMBSTONE_TTL_MS);
    const left = (window: BudgetWindow | undefined, limit: number | null): number | null => {
      if (limit === null) return null;
      const { spent, reserved } = balanceOf(window);
      return Math.max(0, limit - spent - reserved);
    };
    const { daily, monthly } = command.limits;
    return {
      ok: true,
      reservation,
      left: {
        daily: left(day ?? this.budgets.get(`${projectId}:d:${windows.day}`, now), daily),
        monthly: left(month ?? this.budgets.get(`${projectId}:m:${windows.month}`, now), monthly),
      },
    };
  }

  settleNow(reservation: Reservation, actual: number, actualTokens: number | null, now: number): CloseOutcome {
    const record = this.reservations.get(`${reservation.project_id}:${reservation.id}`, now);
    if (!record) return 'unknown';
    if (record.state !== 'held') return 'already_closed';
    this.endHold(reservation, record.amount, now);
    if (actual > 0) {
      const windows = budgetWindowsOf(reservation.day, reservation.month);
      for (const window of this.windowsOf(reservation.project_id, windows, now)) window.spent += actual;
    }
    if (actualTokens !== null) this.adjustTokens(record, actualTokens - record.tokens, now);
    this.close(reservation, record, 'settled', now);
    return 'closed';
  }

  releaseNow(reservation: Reservation, now: number): CloseOutcome {
    const record = this.reservations.get(`${reservation.project_id}:${reservation.id}`, now);
    if (!record) return 'unknown';
    if (record.state !== 'held') return 'already_closed';
    this.endHold(reservation, record.amount, now);
    this.adjustTokens(record, -record.tokens, now);
    this.close(reservation, record, 'released', now);
    return 'closed';
  }

  balancesNow(projectId: string, now: number): Balances {
    const windows = budgetWindowsAt(now);
    return {
      daily: balanceOf(this.liveWindow(projectId, 'd', windows.day, now)),
      monthly: balanceOf(this.liveWindow(projectId, 'm', windows.month, now)),
    };
  }

  /** True when this store made the reservation and still remembers it. */
  knows(reservation: Reservation, now: number): boolean {
    return this.reservations.get(`${reservation.project_id}:${reservation.id}`, now) !== undefined;
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** The window as it stands at `now`, after giving back the amounts of expired holds. */
  private liveWindow(projectId: string, period: Period, label: string, now: number): BudgetWindow | undefined {
    const window = this.budgets.get(`${projectId}:${period}:${label}`, now);
    if (!window) return undefined;
    for (const [id, hold] of window.holds) {
      if (hold.expiresAt > now) continue;
      window.holds.delete(id);
      window.reserved = Math.max(0, window.reserved - hold.amount);
    }
    return window;
  }

  /** The day and month windows, created when missing and kept a grace period past their end. */
  private windowsOf(projectId: string, windows: BudgetWindows, now: number): BudgetWindow[] {
    return [
      this.window(`${projectId}:d:${windows.day}`, windows.dayEndsAt + WINDOW_GRACE_MS, now),
      this.window(`${projectId}:m:${windows.month}`, windows.monthEndsAt + WINDOW_GRACE_MS, now),
    ];
  }

  private window(key: string, until: number, now: number): BudgetWindow {
    const existing = this.budgets.get(key, now);
    if (existing) return existing;
    // Like PEXPIREAT in the past, a window already over is dropped at once (a very late settle).
    const created: BudgetWindow = { spent: 0, reserved: 0, holds: new Map() };
    this.budgets.set(key, created, until);
    return created;
  }

  /** Lowers `reserved` in each window still holding the reservation (not if expiry already did). */
  private endHold(reservation: Reservation, amount: number, now: number): void {
    for (const [period, label] of [
      ['d', reservation.day],
      ['m', reservation.month],
    ] as const) {
      const window = this.budgets.get(`${reservation.project_id}:${period}:${label}`, now);
      if (window?.holds.delete(reservation.id)) window.reserved = Math.max(0, window.reserved - amount);
    }
  }

  private adjustTokens(record: ReservationRecord, delta: number, now: number): void {
    const rate = record.rateKey === null ? undefined : this.rates.get(record.rateKey, now);
    if (rate) rate.tokens = Math.max(0, rate.tokens + delta);
  }

  private close(reservation: Reservation, record: ReservationRecord, state: 'settled' | 'released', now: number): void {
    record.state = state;
    this.reservations.set(`${reservation.project_id}:${reservation.id}`, record, now + TOMBSTONE_TTL_MS);
  }

  private sweepAll(now: number): void {
    this.budgets.sweep(now);
    this.rates.sweep(now);
    this.reservations.sweep(now);
  }
}

function rateRejection(rate: RateWindow, command: ReserveCommand, retryAfterMs: number): QuotaRejection | null {
  const { rpm, tpm } = command.limits;
  if (rpm !== null && rate.requests + 1 > rpm) return { reason: 'rpm', limit: rpm, retryAfterMs };
  if (tpm !== null && rate.tokens + command.tokens > tpm) return { reason: 'tpm', limit: tpm, retryAfterMs };
  return null;
}

function budgetRejection(
  day: BudgetWindow | undefined,
  month: BudgetWindow | undefined,
  command: ReserveCommand,
): QuotaRejection | null {
  const checks = [
    ['budget_daily', day, command.limits.daily],
    ['budget_monthly', month, command.limits.monthly],
  ] as const;
  for (const [reason, window, limit] of checks) {
    const { spent, reserved } = balanceOf(window);
    if (limit !== null && spent + reserved + command.microCredits > limit) return { reason, limit, spent, reserved };
  }
  return null;
}

function balanceOf(window: BudgetWindow | undefined): WindowBalance {
  return { spent: window?.spent ?? 0, reserved: window?.reserved ?? 0 };
}
