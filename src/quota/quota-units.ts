/** 1 credit = 1 000 000 micro-credits; amounts are integer micro-credits everywhere but the API. */
export const MICRO_PER_CREDIT = 1_000_000;

/** Largest credit amount accepted, so that micro-credits stay exact (well below 2^53). */
export const MAX_CREDITS = 1_000_000_000;

export function creditsToMicro(credits: number): number {
  return Math.round(credits * MICRO_PER_CREDIT);
}

export function microToCredits(micro: number): number {
  return micro / MICRO_PER_CREDIT;
}

/** Throws unless `value` is a non-negative safe integer (a caller's bug, not a client's). */
export function assertCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${what} must be a non-negative integer, got ${String(value)}`);
  }
}
