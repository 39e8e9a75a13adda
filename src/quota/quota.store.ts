import type { Reservation } from './dto/quota';

/** A project's limits in store units: micro-credits, requests and tokens per minute; null = unlimited. */
export interface MicroLimits {
  daily: number | null;
  monthly: number | null;
  rpm: number | null;
  tpm: number | null;
}

export const UNLIMITED: MicroLimits = Object.freeze({ daily: null, monthly: null, rpm: null, tpm: null });

export interface ReserveCommand {
  id: string;
  projectId: string;
  /** rpm/tpm apply per API key; null (a signed-in user) skips them. */
  apiKeyId: string | null;
  microCredits: number;
  tokens: number;
  limits: MicroLimits;
  now: number;
}

export type QuotaRejectionReason =
  'budget_daily' | 'budget_monthly' | 'rpm' | 'tpm' | 'redis_unavailable' | 'quota_rebuilding' | 'ledger_backlog';

export type QuotaRejection =
  | { reason: 'rpm' | 'tpm'; limit: number; retryAfterMs: number }
  | { reason: 'quota_rebuilding'; retryAfterMs: number }
  | { reason: 'budget_daily' | 'budget_monthly'; limit: number; spent: number; reserved: number }
  | { reason: 'redis_unavailable'; allowance: number };

/** Micro-credits left of each budget after a granted reservation (its hold included); null: no limit or not told. */
export interface BudgetsLeft {
  daily: number | null;
  monthly: number | null;
}

export type ReserveOutcome =
  { ok: true; reservation: Reservation; left?: BudgetsLeft } | ({ ok: false } & QuotaRejection);

/**
 * What a settle or release did: `closed` the hold now, found it `already_closed`
 * (idempotent repeat), did not know it (`unknown`: never made, or forgotten after
 * the tombstone TTL), or `deferred` it until Redis answers again.
 */
export type CloseOutcome = 'closed' | 'already_closed' | 'unknown' | 'deferred';

export interface WindowBalance {
  spent: number;
  reserved: number;
}

export interface Balances {
  daily: WindowBalance;
  monthly: WindowBalance;
}

/** How long a hold lives unless settled or released; then its amount is given back. */
export const HOLD_TTL_MS = 10 * 60_000;
/** How long a settled or released reservation is remembered, so that a repeat does nothing. */
export const TOMBSTONE_TTL_MS = 24 * 3600_000;

/**
 * Credit budgets and per-key rpm/tpm: shared by every instance (Redis), or kept in
 * this process (the embedded default). A port: the abstract class is the DI token.
 *
 * Semantics, identical in both adapters:
 * - `reserve` checks rpm (+1) and tpm (+tokens) of the key's current minute, then the
 *   day and month budgets (spent + reserved + amount ≤ limit; a zero amount always
 *   fits), and only if all pass counts the request and holds the amount in both windows.
 * - `settle` ends the hold and spends the actual amount (even above the hold);
 *   `release` ends the hold and gives back its tokens. Both act once per reservation.
 * - A hold neither settled nor released expires after HOLD_TTL_MS: the next reserve or
 *   balance read of the project gives its amount back. A late settle still spends.
 */
export abstract class QuotaStore {
  abstract reserve(command: ReserveCommand): Promise<ReserveOutcome>;
  abstract settle(
    reservation: Reservation,
    actualMicroCredits: number,
    actualTokens: number | null,
    now: number,
  ): Promise<CloseOutcome>;
  abstract release(reservation: Reservation, now: number): Promise<CloseOutcome>;
  abstract balances(projectId: string, now: number): Promise<Balances>;
  /** True when balances are shared across instances. */
  abstract readonly shared: boolean;

  /** True while paid reservations are decided on this instance's outage allowance (the shared store unreachable). */
  get onOutageAllowance(): boolean {
    return false;
  }
}
