/** One row of the usage ledger: one attempt of one request. Append-only. */
export interface LedgerEntry {
  request_id: string;
  /** 1 for the first attempt; each fallback attempt adds one; 0 for a request refused before any upstream call. */
  attempt: number;
  user_id: string | null;
  project_id: string | null;
  api_key_id: string | null;
  /** The route template, e.g. `/v1/chat/completions`. */
  endpoint: string;
  /** Provider instance id, null when no upstream was called. */
  provider: string | null;
  model: string | null;
  /** Every input token, cached ones included. */
  input_tokens: number;
  output_tokens: number;
  /** Of input_tokens: read from the provider's prompt cache. */
  cached_input_tokens: number;
  /** Of input_tokens: written to the provider's prompt cache. */
  cache_write_input_tokens: number;
  /** Of output_tokens: spent on reasoning. */
  reasoning_tokens: number;
  /** Integer micro-credits (1 credit = 1 000 000 micro-credits; 1 USD = 100 credits by default). */
  micro_credits: number;
  /** USD as a decimal string with up to 10 decimals, e.g. "0.0750000000". */
  usd: string;
  latency_ms: number;
  status: 'success' | 'error';
  /** UpstreamErrorClass or another stable code; null on success. */
  error_class: string | null;
  idempotency_key: string | null;
  /** ISO time the attempt ended. */
  created_at: string;
}
