import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge } from 'prom-client';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import type {
  ProjectQuotaLimits,
  ProjectQuotaStatus,
  QuotaWindowBalance,
  Reservation,
  ReserveRequest,
} from './dto/quota';
import { LedgerService } from '../ledger/ledger.service';
import { LimitsCache } from './limits-cache';
import { ProjectQuotasRepository, StoredLimits } from './project-quotas.repository';
import { BUDGET_USED_RATIO, QUOTA_CREDITS, QUOTA_REJECTIONS, setBudgetRatio } from './quota.metrics';
import {
  BudgetsLeft,
  CloseOutcome,
  MicroLimits,
  QuotaRejection,
  QuotaRejectionReason,
  QuotaStore,
  WindowBalance,
} from './quota.store';
import { assertCount, creditsToMicro, microToCredits } from './quota-units';
import { budgetWindowsAt, MINUTE_MS } from './quota-windows';

/** How long limits read from Postgres are trusted (a change on another instance shows within this). */
const LIMITS_TTL_MS = 5000;

const REASONS: QuotaRejectionReason[] = [
  'budget_daily',
  'budget_monthly',
  'rpm',
  'tpm',
  'redis_unavailable',
  'quota_rebuilding',
  'ledger_backlog',
];

/** Retry-After of a paid request refused while the ledger stream is at its bound. */
const LEDGER_BACKLOG_RETRY_AFTER_S = 5;

function toMicroLimits(limits: StoredLimits): MicroLimits {
  const micro = (credits: number | null): number | null => (credits === null ? null : creditsToMicro(credits));
  return {
    daily: micro(limits.daily_credits),
    monthly: micro(limits.monthly_credits),
    rpm: limits.rpm,
    tpm: limits.tpm,
  };
}

function windowBalance(limitCredits: number | null, balance: WindowBalance, resetsAt: number): QuotaWindowBalance {
  const limit = limitCredits === null ? null : creditsToMicro(limitCredits);
  return {
    limit: limitCredits,
    spent: microToCredits(balance.spent),
    reserved: microToCredits(balance.reserved),
    remaining: limit === null ? null : microToCredits(Math.max(0, limit - balance.spent - balance.reserved)),
    resets_at: new Date(resetsAt).toISOString(),
  };
}

function rejectionError(rejection: QuotaRejection, request: ReserveRequest, now: number): AppError {
  switch (rejection.reason) {
    case 'quota_rebuilding':
      return new AppError(
        'service_unavailable',
        "The project's spend is being rebuilt from the ledger; retry shortly",
        {
          headers: { 'Retry-After': String(Math.max(1, Math.ceil(rejection.retryAfterMs / 1000))) },
          details: { reason: 'quota_rebuilding' },
        },
      );
    case 'rpm':
    case 'tpm': {
      const retryAfter = Math.max(1, Math.ceil(rejection.retryAfterMs / 1000));
      const unit = rejection.reason === 'rpm' ? 'requests' : 'tokens';
      return new AppError(
        'rate_limited',
        `Rate limit exceeded: ${rejection.limit} ${unit} per minute for this API key`,
        {
          headers: { 'Retry-After': String(retryAfter) },
          details: {
            limit: rejection.limit,
            limit_type: rejection.reason,
            window_seconds: MINUTE_MS / 1000,
            retry_after_seconds: retryAfter,
          },
        },
      );
    }
    case 'budget_daily':
    case 'budget_monthly': {
      const windows = budgetWindowsAt(now);
      const daily = rejection.reason === 'budget_daily';
      return new AppError(
        'budget_exceeded',
        `The project's ${daily ? 'daily' : 'monthly'} credit budget is exhausted`,
        {
          details: {
            window: daily ? 'daily' : 'monthly',
            limit_credits: microToCredits(rejection.limit),
            spent_credits: microToCredits(rejection.spent),
            reserved_credits: microToCredits(rejection.reserved),
            requested_credits: microToCredits(request.micro_credits),
            resets_at: new Date(daily ? windows.dayEndsAt : windows.monthEndsAt).toISOString(),
          },
        },
      );
    }
    case 'redis_unavailable':
      return new AppError('service_unavailable', 'Spend cannot be checked right now; retry shortly', {
        headers: { 'Retry-After': '2' },
        details: { reason: 'quota_store_unavailable' },
      });
  }
}

/**
 * Credit budgets per project (daily and monthly) and rate limits per API key (rpm,
 * tpm): hold before calling upstream, then settle the actual cost or release.
 */
@Injectable()
export class QuotaService {
  private readonly logger = new Logger(QuotaService.name);
  private readonly limits: LimitsCache<StoredLimits>;

  constructor(
    private readonly store: QuotaStore,
    private readonly repository: ProjectQuotasRepository,
    private readonly ledger: LedgerService,
    @InjectMetric(QUOTA_REJECTIONS) private readonly rejections: Counter<string>,
    @InjectMetric(BUDGET_USED_RATIO) private readonly usedRatio: Gauge<string>,
    @InjectMetric(QUOTA_CREDITS) private readonly credits: Counter<string>,
    config: AppConfig,
  ) {
    this.limits = new LimitsCache(
      (projectId) => this.repository.find(projectId),
      LIMITS_TTL_MS,
      Date.now,
      config.DATABASE_HOT_PATH_TIMEOUT_MS,
    );
    for (const reason of REASONS) this.rejections.inc({ reason }, 0);
  }

  /** Holds `micro_credits` in the project's day and month; throws 402, 429 or 503 when refused. */
  async reserve(request: ReserveRequest): Promise<Reservation> {
    assertCount(request.micro_credits, 'micro_credits');
    assertCount(request.tokens, 'tokens');
    if (request.micro_credits > 0 && this.ledger.backlogFull) {
      // The ledger stream is at its bound (Postgres long unavailable): no new spend until it drains.
      this.rejections.inc({ reason: 'ledger_backlog' });
      throw new AppError('service_unavailable', 'Usage cannot be recorded right now; retry shortly', {
        headers: { 'Retry-After': String(LEDGER_BACKLOG_RETRY_AFTER_S) },
        details: { reason: 'ledger_backlog' },
      });
    }
    const limits = toMicroLimits(await this.limits.get(request.project_id));
    const now = Date.now();
    const outcome = await this.store.reserve({
      id: randomUUID(),
      projectId: request.project_id,
      apiKeyId: request.api_key_id,
      microCredits: request.micro_credits,
      tokens: request.tokens,
      limits,
      now,
    });
    if (outcome.ok) {
      this.credits.inc({ project: request.project_id, kind: 'reserved' }, microToCredits(request.micro_credits));
      if (request.micro_credits > 0 && outcome.left) this.observeBudgets(request.project_id, limits, outcome.left, now);
      return outcome.reservation;
    }
    this.rejections.inc({ reason: outcome.reason });
    if (outcome.reason === 'budget_daily' || outcome.reason === 'budget_monthly') {
      const ratio = outcome.limit > 0 ? (outcome.spent + outcome.reserved) / outcome.limit : 1;
      const window = outcome.reason === 'budget_daily' ? 'daily' : 'monthly';
      setBudgetRatio(this.usedRatio, request.project_id, window, ratio, now);
    }
    throw rejectionError(outcome, request, now);
  }

  /**
   * conflux_budget_used_ratio from what the reservation already told (no extra store call): the
   * committed share (spent plus held) of each limited budget.
   */
  private observeBudgets(projectId: string, limits: MicroLimits, left: BudgetsLeft, now: number): void {
    const windows = [
      ['daily', limits.daily, left.daily],
      ['monthly', limits.monthly, left.monthly],
    ] as const;
    for (const [window, limit, remaining] of windows) {
      if (limit === null || remaining === null) continue;
      setBudgetRatio(this.usedRatio, projectId, window, limit > 0 ? (limit - remaining) / limit : 1, now);
    }
  }

  /** Spends the actual amount (even above the hold) and ends the hold; a repeat does nothing. */
  async settle(reservation: Reservation, actualMicroCredits: number, actualTokens?: number): Promise<void> {
    assertCount(actualMicroCredits, 'actualMicroCredits');
    if (actualTokens !== undefined) assertCount(actualTokens, 'actualTokens');
    const outcome = await this.store.settle(reservation, actualMicroCredits, actualTokens ?? null, Date.now());
    this.closed(outcome, reservation, 'settled', actualMicroCredits);
    this.warnIfUnknown(outcome, reservation, `settle of ${actualMicroCredits} micro-credits`);
  }

  /** Drops the hold entirely (nothing was spent); a repeat does nothing. */
  async release(reservation: Reservation): Promise<void> {
    const outcome = await this.store.release(reservation, Date.now());
    this.closed(outcome, reservation, 'released', reservation.micro_credits);
    this.warnIfUnknown(outcome, reservation, 'release');
  }

  /** A hold closed now (or queued to be, while Redis is away) counts once in conflux_quota_credits_total. */
  private closed(outcome: CloseOutcome, reservation: Reservation, kind: 'settled' | 'released', micro: number): void {
    if (outcome !== 'closed' && outcome !== 'deferred') return;
    this.credits.inc({ project: reservation.project_id, kind }, microToCredits(micro));
  }

  async status(projectId: string): Promise<ProjectQuotaStatus> {
    return this.statusWith(projectId, await this.limits.get(projectId));
  }

  /** Changes the given limits (absent = kept, null = cleared); 404 for an unknown project. */
  async setLimits(projectId: string, limits: ProjectQuotaLimits): Promise<ProjectQuotaStatus> {
    const saved = await this.repository.save(projectId, limits);
    this.limits.set(projectId, saved);
    return this.statusWith(projectId, saved);
  }

  private async statusWith(projectId: string, limits: StoredLimits): Promise<ProjectQuotaStatus> {
    const now = Date.now();
    const balances = await this.store.balances(projectId, now);
    const windows = budgetWindowsAt(now);
    return {
      project_id: projectId,
      limits: { ...limits },
      daily: windowBalance(limits.daily_credits, balances.daily, windows.dayEndsAt),
      monthly: windowBalance(limits.monthly_credits, balances.monthly, windows.monthEndsAt),
    };
  }

  private warnIfUnknown(outcome: CloseOutcome, reservation: Reservation, what: string): void {
    if (outcome !== 'unknown') return;
    this.logger.warn(`Quota ${what} ignored: reservation ${reservation.id} is unknown or long expired`);
  }
}
