import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Histogram } from 'prom-client';

export const HTTP_DURATION = 'http_request_duration_seconds';

/** Labels requests by route template (`/projects/:id`), never by raw URL. */
export function routeLabel(req: Request): string {
  const route: unknown = (req as { route?: unknown }).route;
  const path: unknown = typeof route === 'object' && route !== null ? (route as { path?: unknown }).path : undefined;
  // Nest answers unknown paths from a catch-all route: that is not a template of ours.
  if (typeof path === 'string' && !path.includes('{*')) return `${req.baseUrl}${path}`;
  return 'unmatched';
}

@Injectable()
export class HttpMetrics {
  constructor(@InjectMetric(HTTP_DURATION) private readonly duration: Histogram<string>) {}

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const end = this.duration.startTimer();
      res.once('finish', () => {
        end({ method: req.method, route: routeLabel(req), status_code: String(res.statusCode) });
      });
      next();
    };
  }
}
