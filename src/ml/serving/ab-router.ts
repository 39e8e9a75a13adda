import { createHash } from 'node:crypto';
import type { Principal } from '../../common/auth/principal';

/**
 * The position of a routing key in [0, 1) for one model: the first 32 bits of
 * sha256(model + "\n" + key). Stable across processes, restarts and instances (no seed, no state), and
 * independent between models, so a key's arm in one model's split says nothing about another's.
 */
export function abBucket(model: string, key: string): number {
  return createHash('sha256').update(`${model}\n${key}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * The arm a bucket falls into: arms (in a fixed order) own consecutive slices of [0, 1) proportional to
 * their weights. Changing one weight moves only the keys at the edges of the slices.
 */
export function pickArm<T extends { weight: number }>(arms: readonly T[], bucket: number): T {
  const total = arms.reduce((sum, a) => sum + a.weight, 0);
  let point = bucket * total;
  for (const arm of arms) {
    if (point < arm.weight) return arm;
    point -= arm.weight;
  }
  return arms[arms.length - 1];
}

/** The sticky A/B routing key of a caller without a symbol: its API key, else its user. */
export function principalKey(principal: Principal): string {
  return principal.kind === 'api_key' ? `key:${principal.keyId}` : `user:${principal.userId}`;
}
