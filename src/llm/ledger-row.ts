import type { LedgerEntry } from '../ledger/dto/ledger-entry';
import type { TokenUsage } from '../providers/dto/chat';
import { usdString } from '../metering/metering.api';
import type { Caller } from './caller';

/** What identifies a request in its ledger rows. */
export interface RequestRef {
  requestId: string;
  caller: Caller;
  endpoint: string;
  idempotencyKey: string | null;
}

/** The outcome of one attempt (provider and model null when no upstream was called). */
export interface AttemptRecord {
  attempt: number;
  provider: string | null;
  model: string | null;
  usage: TokenUsage;
  microCredits: number;
  latencyMs: number;
  errorClass: string | null;
}

/** One ledger row for one attempt of one request. */
export function ledgerRow(ref: RequestRef, a: AttemptRecord, creditsPerUsd: number): LedgerEntry {
  return {
    request_id: ref.requestId,
    attempt: a.attempt,
    user_id: ref.caller.userId,
    project_id: ref.caller.projectId,
    api_key_id: ref.caller.apiKeyId,
    endpoint: ref.endpoint,
    provider: a.provider,
    model: a.model,
    input_tokens: a.usage.input_tokens,
    output_tokens: a.usage.output_tokens,
    cached_input_tokens: a.usage.cached_input_tokens ?? 0,
    cache_write_input_tokens: a.usage.cache_write_input_tokens ?? 0,
    reasoning_tokens: a.usage.reasoning_tokens ?? 0,
    micro_credits: a.microCredits,
    usd: usdString(a.microCredits, creditsPerUsd),
    latency_ms: Math.round(a.latencyMs),
    status: a.errorClass === null ? 'success' : 'error',
    error_class: a.errorClass,
    idempotency_key: ref.idempotencyKey,
    created_at: new Date().toISOString(),
  };
}
