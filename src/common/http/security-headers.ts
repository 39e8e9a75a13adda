import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { type StaticHeader, staticHeadersOf } from './request-front';

/** Content security policy directives, each with its sources. */
export type CspDirectives = Readonly<Record<string, readonly string[]>>;

/** The header value of a content security policy. */
export function cspHeader(directives: CspDirectives): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}

/**
 * The policy of every answer that is not a documentation page: JSON and text load nothing, and are
 * never framed.
 */
export const API_CSP = cspHeader({
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
});

/**
 * The security headers of every response, computed once: helmet's (HSTS for a year with subdomains,
 * nosniff, `Referrer-Policy: no-referrer`, same-origin opener and resource policies, ...) with
 * `X-Frame-Options: DENY`, plus `X-XSS-Protection: 1; mode=block` (the value the replaced service sent)
 * and the API's content security policy. Documentation pages replace the policy (see `pagePolicy`).
 */
export function securityHeaders(): StaticHeader[] {
  const helmetHeaders = staticHeadersOf(
    helmet({
      contentSecurityPolicy: false,
      crossOriginEmbedderPolicy: false,
      frameguard: { action: 'deny' },
      xXssProtection: false,
    }),
  );
  return [...helmetHeaders, ['X-XSS-Protection', '1; mode=block'], ['Content-Security-Policy', API_CSP]];
}

/** A middleware giving the responses of a page (and its assets) the content security policy it needs. */
export function pagePolicy(directives: CspDirectives): RequestHandler {
  const value = cspHeader(directives);
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', value);
    next();
  };
}
