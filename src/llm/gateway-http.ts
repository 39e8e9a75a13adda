import type { Request } from 'express';
import { AppError } from '../common/errors/app-error';
import { Strategy, STRATEGIES } from '../routing/routing.service';
import type { ChatOutcome } from './chat.usecase';

/** Small HTTP helpers shared by the gateway's controllers. */

export const STRATEGY_HEADER = 'x-conflux-strategy';

export function parseStrategy(value: string | undefined, fallback: Strategy = 'balanced'): Strategy {
  if (value === undefined || value === '') return fallback;
  if (!(STRATEGIES as readonly string[]).includes(value)) {
    throw new AppError('validation_failed', `Unknown strategy ${value}: use one of ${STRATEGIES.join(', ')}`);
  }
  return value as Strategy;
}

/** Response headers naming what served the request. */
export function routeHeaders(outcome: Pick<ChatOutcome, 'candidate' | 'attempts'>): Record<string, string> {
  return {
    'X-Conflux-Provider': outcome.candidate.instanceId,
    'X-Conflux-Model': outcome.candidate.model.name,
    'X-Conflux-Attempts': String(outcome.attempts),
  };
}

export function idempotencyKeyOf(req: Request): string | null {
  const value = req.headers['idempotency-key'];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
