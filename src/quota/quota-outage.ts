import type { Reservation } from './dto/quota';
import { MemoryQuotaStore } from './memory-quota.store';
import { CloseOutcome, HOLD_TTL_MS, ReserveCommand, ReserveOutcome } from './quota.store';
import { budgetWindowsAt } from './quota-windows';

interface LocalHold {
  amount: number;
  expiresAt: number;
}

/** Micro-credits left of a project's daily and monthly budgets as Redis last told: -1 no limit, null not told. */
export interface BudgetLeft {
  day: number | null;
  month: number | null;
}

interface LastSeen {
  day: string;
  month: string;
  left: BudgetLeft;
}

const MAX_PROJECTS_SEEN = 10_000;

/**
 * What one instance may decide alone while Redis is unreachable. Rate limits fail
 * open to this instance's own counters; paid spend fails closed beyond a small
 * allowance per project (held here plus spent here but not yet written to Redis),
 * itself capped at what was left of the project's budgets when Redis last answered
 * (same day and month); a zero-cost request is always allowed. Reservations made
 * here are settled here.
 */
export class OutageFallback {
  private readonly local = new MemoryQuotaStore();
  private readonly holds = new Map<string, Map<string, LocalHold>>();
  private readonly unreplayed = new Map<string, number>();
  private readonly seen = new Map<string, LastSeen>();

  constructor(readonly allowance: number) {}

  /** Remembers what Redis said is left of a project's budgets (only what it told). */
  observe(projectId: string, now: number, left: BudgetLeft): void {
    if (left.day === null && left.month === null) return;
    const { day, month } = budgetWindowsAt(now);
    const last = this.seen.get(projectId);
    const same = last?.day === day;
    this.seen.delete(projectId);
    if (this.seen.size >= MAX_PROJECTS_SEEN) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(projectId, {
      day,
      month,
      left: {
        day: left.day ?? (same ? (last?.left.day ?? null) : null),
        month: left.month ?? (last?.month === month ? (last.left.month ?? null) : null),
      },
    });
  }

  /** The allowance of a project now: QUOTA_OUTAGE_ALLOWANCE at most, and no more than its budgets had left. */
  allowanceOf(projectId: string, now: number): number {
    const last = this.seen.get(projectId);
    if (!last) return this.allowance;
    const { day, month } = budgetWindowsAt(now);
    let cap = this.allowance;
    if (last.month === month && last.left.month !== null && last.left.month >= 0) cap = Math.min(cap, last.left.month);
    if (last.day === day && last.left.day !== null && last.left.day >= 0) cap = Math.min(cap, last.left.day);
    return cap;
  }

  reserve(command: ReserveCommand): ReserveOutcome {
    const amount = command.microCredits;
    const allowance = this.allowanceOf(command.projectId, command.now);
    if (amount > 0 && this.used(command.projectId, command.now) + amount > allowance) {
      return { ok: false, reason: 'redis_unavailable', allowance };
    }
    // The budgets themselves cannot be checked here: the allowance stands in for them.
    const limits = { ...command.limits, daily: null, monthly: null };
    const outcome = this.local.reserveNow({ ...command, limits });
    if (outcome.ok && amount > 0) {
      this.holdsOf(command.projectId).set(command.id, { amount, expiresAt: command.now + HOLD_TTL_MS });
    }
    return outcome;
  }

  /** True for a reservation made here during an outage. */
  owns(reservation: Reservation, now: number): boolean {
    return this.local.knows(reservation, now);
  }

  settle(reservation: Reservation, actual: number, actualTokens: number | null, now: number): CloseOutcome {
    const outcome = this.local.settleNow(reservation, actual, actualTokens, now);
    if (outcome === 'closed') {
      this.dropHold(reservation);
      this.addUnreplayed(reservation.project_id, actual);
    }
    return outcome;
  }

  release(reservation: Reservation, now: number): CloseOutcome {
    const outcome = this.local.releaseNow(reservation, now);
    if (outcome === 'closed') this.dropHold(reservation);
    return outcome;
  }

  /** Spend settled here has reached Redis: it no longer counts against the allowance. */
  replayed(projectId: string, actual: number): void {
    this.addUnreplayed(projectId, -actual);
  }

  /** Micro-credits of the allowance in use for a project. */
  used(projectId: string, now: number): number {
    let total = this.unreplayed.get(projectId) ?? 0;
    const holds = this.holds.get(projectId);
    for (const [id, hold] of holds ?? []) {
      if (hold.expiresAt > now) total += hold.amount;
      else holds?.delete(id);
    }
    return total;
  }

  close(): void {
    this.local.onModuleDestroy();
  }

  private holdsOf(projectId: string): Map<string, LocalHold> {
    let holds = this.holds.get(projectId);
    if (!holds) {
      holds = new Map();
      this.holds.set(projectId, holds);
    }
    return holds;
  }

  private dropHold(reservation: Reservation): void {
    const holds = this.holds.get(reservation.project_id);
    holds?.delete(reservation.id);
    if (holds?.size === 0) this.holds.delete(reservation.project_id);
  }

  private addUnreplayed(projectId: string, delta: number): void {
    const total = (this.unreplayed.get(projectId) ?? 0) + delta;
    if (total > 0) this.unreplayed.set(projectId, total);
    else this.unreplayed.delete(projectId);
  }
}
