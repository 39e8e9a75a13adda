import type { Api, ApiResponse } from '../support/http';
import { delay } from '../support/services';

export interface WindowBalanceBody {
  limit: number | null;
  spent: number;
  reserved: number;
  remaining: number | null;
  resets_at: string;
}

export interface QuotaStatusBody {
  project_id: string;
  limits: { daily_credits: number | null; monthly_credits: number | null; rpm: number | null; tpm: number | null };
  daily: WindowBalanceBody;
  monthly: WindowBalanceBody;
}

/** A status on success, the error envelope otherwise. */
export type QuotaResponse = ApiResponse<QuotaStatusBody & Record<string, unknown>>;

type Auth = { token?: string; apiKey?: string };

export function putQuota(api: Api, projectId: string, body: unknown, auth: Auth): Promise<QuotaResponse> {
  return api.request('PUT', `/projects/${projectId}/quota`, { ...auth, body });
}

export function getQuota(api: Api, projectId: string, auth: Auth): Promise<QuotaResponse> {
  return api.get(`/projects/${projectId}/quota`, auth);
}

/** Waits out the last seconds of a UTC day, so that a test's requests all fall in one day. */
export async function awayFromMidnight(marginMs = 10_000): Promise<void> {
  const untilMidnight = 86_400_000 - (Date.now() % 86_400_000);
  if (untilMidnight < marginMs) await delay(untilMidnight + 100);
}
