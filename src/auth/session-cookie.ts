import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '../common/errors/app-error';

/** The cookie that carries a browser's refresh token (the web console's session). */
export const SESSION_COOKIE = 'conflux_refresh';
/** The only path the cookie is sent to: the browser session routes, nothing else. */
export const SESSION_COOKIE_PATH = '/auth/session';

/**
 * `Set-Cookie` for a refresh token: HttpOnly (no script reads it), Secure (always: Chromium, Firefox and
 * Safari keep Secure cookies of http://localhost and http://127.0.0.1 too), SameSite=Strict (never sent on a
 * request started by another site), on SESSION_COOKIE_PATH only, for the refresh token's lifetime.
 */
export function sessionCookie(refreshToken: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${refreshToken}; Max-Age=${maxAgeSeconds}; Path=${SESSION_COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict`;
}

/** `Set-Cookie` that removes the session cookie (same name and path, Max-Age=0). */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Path=${SESSION_COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict`;
}

/** The session cookie's value in the request's `Cookie` header, or null. */
export function sessionCookieOf(req: Request): string | null {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    return value.length > 0 && value.length <= 256 ? value : null;
  }
  return null;
}

/** scheme://host[:port] as a browser writes it in `Origin` (default port dropped, lower case), or null. */
function normalOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * Refuses what a page of another site could send to the cookie routes:
 * - an `Origin` header that is not this request's own origin (403). The own origin is the request's
 *   scheme and host, behind a trusted proxy (TRUST_PROXY) those of X-Forwarded-Proto and X-Forwarded-Host;
 * - for a POST, any body type but `application/json` (415), which a cross-site form cannot send.
 */
export function assertSameSiteRequest(req: Request): void {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = req.host ? normalOrigin(`${req.protocol}://${req.host}`) : null;
    if (own === null || normalOrigin(origin) !== own) {
      throw AppError.forbidden('Cross-origin requests are refused on the session routes');
    }
  }
  if (req.method === 'POST') {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      throw new AppError('unsupported_media_type', 'The session routes take Content-Type: application/json');
    }
  }
}

/** The route guard of the cookie routes: assertSameSiteRequest before the body is validated. */
@Injectable()
export class SameSiteGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    assertSameSiteRequest(context.switchToHttp().getRequest<Request>());
    return true;
  }
}
