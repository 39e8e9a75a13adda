/** Limits of one project, set by an administrator. Absent = unlimited. */
export interface ProjectQuotaLimits {
  daily_credits?: number | null;
  monthly_credits?: number | null;
  /** Requests per minute, per API key of the project. */
  rpm?: number | null;
  /** Tokens per minute, per API key of the project. */
  tpm?: number | null;
}

/** Balances in credits (decimal numbers; kept internally as integer micro-credits). */
export interface QuotaWindowBalance {
  limit: number | null;
  spent: number;
  reserved: number;
  remaining: number | null;
  resets_at: string;
}

export interface ProjectQuotaStatus {
  project_id: string;
  limits: Required<ProjectQuotaLimits>;
  daily: QuotaWindowBalance;
  monthly: QuotaWindowBalance;
}

/** What a caller asks to hold before calling upstream. */
export interface ReserveRequest {
  request_id: string;
  project_id: string;
  /** The API key, for its rpm/tpm limits (null for a signed-in user). */
  api_key_id: string | null;
  /** Worst-case cost in integer micro-credits. */
  micro_credits: number;
  /** Worst-case tokens (prompt + max_tokens), for tpm. */
  tokens: number;
}

/** A hold on budget; settle or release it exactly once. */
export interface Reservation {
  id: string;
  project_id: string;
  micro_credits: number;
  /** When it was made, to settle it into the right day and month. */
  day: string;
  month: string;
}
