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
}

/**
 * Cost of a call in integer micro-credits. With prices in USD per 1M tokens and
 * `creditsPerUsd` credits per dollar, one token costs price × creditsPerUsd
 * micro-credits: the arithmetic is exact for prices with cents.
 */
export function costOf(model: Prices, inputTokens: number, outputTokens: number, creditsPerUsd: number): Cost {
  const micro = Math.round(
    inputTokens * model.input_usd_per_1m * creditsPerUsd + outputTokens * model.output_usd_per_1m * creditsPerUsd,
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
