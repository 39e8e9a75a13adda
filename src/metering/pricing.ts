import type { TokenUsage } from '../providers/dto/chat';

/** 1 credit = 1 000 000 micro-credits; every amount is kept as an integer of these. */
export const MICRO_PER_CREDIT = 1_000_000;

export interface Cost {
  micro_credits: number;
  credits: number;
  usd: number;
}

/** A model's prices in USD per 1M tokens (a catalog entry has them). */
export interface Prices {
  input_usd_per_1m: number;
  output_usd_per_1m: number;
  /** Input read from the prompt cache; absent: priced as input. */
  cache_read_usd_per_1m?: number;
  /** Input written to the prompt cache; absent: priced as input. */
  cache_write_usd_per_1m?: number;
}

/** Cost of `inputTokens` uncached input tokens and `outputTokens` output tokens (see costOfUsage). */
export function costOf(model: Prices, inputTokens: number, outputTokens: number, creditsPerUsd: number): Cost {
  return costOfUsage(model, { input_tokens: inputTokens, output_tokens: outputTokens }, creditsPerUsd);
}

/**
 * Cost of a call in integer micro-credits. With prices in USD per 1M tokens and
 * `creditsPerUsd` credits per dollar, one token costs price × creditsPerUsd
 * micro-credits: the arithmetic is exact for prices with cents.
 *
 * `input_tokens` counts every input token; those read from or written to the prompt cache
 * are priced at the cache prices, the rest at the input price. Reasoning tokens are part of
 * `output_tokens` and priced as output, once.
 */
export function costOfUsage(model: Prices, usage: TokenUsage, creditsPerUsd: number): Cost {
  const cacheRead = usage.cached_input_tokens ?? 0;
  const cacheWrite = usage.cache_write_input_tokens ?? 0;
  // Clamped: an inconsistent report (more cached than input tokens) never prices input below zero.
  const plainInput = Math.max(0, usage.input_tokens - cacheRead - cacheWrite);
  const cacheReadPrice = model.cache_read_usd_per_1m ?? model.input_usd_per_1m;
  const cacheWritePrice = model.cache_write_usd_per_1m ?? model.input_usd_per_1m;
  const micro = Math.round(
    plainInput * model.input_usd_per_1m * creditsPerUsd +
      cacheRead * cacheReadPrice * creditsPerUsd +
      cacheWrite * cacheWritePrice * creditsPerUsd +
      usage.output_tokens * model.output_usd_per_1m * creditsPerUsd,
  );
  return {
    micro_credits: micro,
    credits: micro / MICRO_PER_CREDIT,
    usd: micro / MICRO_PER_CREDIT / creditsPerUsd,
  };
}

/** USD as the decimal string the ledger stores (10 decimals). */
export function usdString(microCredits: number, creditsPerUsd: number): string {
  return (microCredits / MICRO_PER_CREDIT / creditsPerUsd).toFixed(10);
}
