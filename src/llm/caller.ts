import type { Request } from 'express';
import type { Principal } from '../common/auth/principal';

/** Who pays for a gateway call, and on whose behalf. */
export interface Caller {
  principal: Principal;
  projectId: string;
  apiKeyId: string | null;
  userId: string;
}

export const PROJECT_HEADER = 'x-conflux-project';

/** The project a signed-in user names for a gateway call (API keys carry theirs). */
export function requestedProject(req: Request): string | undefined {
  const value = req.headers[PROJECT_HEADER];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
