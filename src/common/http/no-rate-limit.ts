import { SkipThrottle } from '@nestjs/throttler';

/** Names of the global rate-limit windows (see QuotaModule). */
export const RATE_LIMIT_WINDOWS = ['minute', 'hour'] as const;

/** Exempts probes and scrapes from the global rate limits. */
export const NoRateLimit = (): MethodDecorator & ClassDecorator =>
  SkipThrottle(Object.fromEntries(RATE_LIMIT_WINDOWS.map((name) => [name, true])));
