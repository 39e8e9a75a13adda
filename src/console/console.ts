import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Express, NextFunction, Request, Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { answerFor, sendAnswer } from '../common/errors/all-exceptions.filter';
import { AppError } from '../common/errors/app-error';
import { type CspDirectives, pagePolicy } from '../common/http/security-headers';

/** Where the console's page and assets are served. */
export const CONSOLE_PREFIX = '/console';

/**
 * The paths answered with the console's page: its own, and the forms of the replaced Production API
 * (`/avibe`, text generation; `/avision`, image analysis), which open the matching playground.
 */
export const CONSOLE_PAGE_PATHS = [CONSOLE_PREFIX, `${CONSOLE_PREFIX}/*path`, '/avibe', '/avision'];

/**
 * The console's content security policy: its own scripts, styles and images only (no inline script or
 * style element), API calls to the same origin, previews of chosen images through blob: URLs, never
 * framed.
 */
export const CONSOLE_CSP: CspDirectives = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/** Cache-Control of the assets: their names carry a hash of their content. */
const ASSET_MAX_AGE = '365d';

/**
 * The built console (`npm run build` puts it in dist/console): beside the compiled application in
 * dist/, or in dist/ when the application runs from its sources (tests).
 */
export function consoleDirectory(): string | null {
  const candidates = [join(__dirname, '..', '..', 'console'), join(__dirname, '..', '..', 'dist', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

/**
 * Serves the web console: the single page at every console path (the browser's router picks the
 * view), with no-cache so a new build is seen at once, and the hashed assets cached for a year.
 * Without a build, the console's paths answer 503 saying how to build it; the API is unaffected.
 */
export function setupConsole(app: NestExpressApplication, directory = consoleDirectory()): void {
  const express: Express = app.getHttpAdapter().getInstance();
  const policy = pagePolicy(CONSOLE_CSP);
  app.use(CONSOLE_PREFIX, policy);
  app.use(['/avibe', '/avision'], policy);
  if (directory === null) {
    express.get(CONSOLE_PAGE_PATHS, (req: Request, res: Response) => {
      const missing = new AppError('service_unavailable', 'The web console is not built: run `npm run build`');
      sendAnswer(answerFor(missing, req), req, res);
    });
    return;
  }
  app.useStaticAssets(join(directory, 'assets'), {
    prefix: `${CONSOLE_PREFIX}/assets`,
    index: false,
    immutable: true,
    maxAge: ASSET_MAX_AGE,
    fallthrough: true,
  });
  const page = readFileSync(join(directory, 'index.html'));
  const assets = `${CONSOLE_PREFIX}/assets/`;
  express.get(CONSOLE_PAGE_PATHS, (req: Request, res: Response, next: NextFunction) => {
    // An asset that is not there is a 404, not the page.
    if (req.path.startsWith(assets)) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(page);
  });
}
