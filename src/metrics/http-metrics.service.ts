import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Request, Response } from 'express';
import type { Counter, Histogram } from 'prom-client';
import type { ResponseObserver } from '../common/http/request-front';

export const HTTP_DURATION = 'http_request_duration_seconds';
export const HTTP_REQUESTS = 'http_requests_total';

/** Labels requests by route template (`/projects/:id`), never by raw URL. */
export function routeLabel(req: Request): string {
  const route: unknown = (req as { route?: unknown }).route;
  const path: unknown = typeof route === 'object' && route !== null ? (route as { path?: unknown }).path : undefined;
  // Nest answers unknown paths from a catch-all route: that is not a template of ours.
  if (typeof path === 'string' && !path.includes('{*')) return `${req.baseUrl}${path}`;
  return 'unmatched';
}

/**
 * Count and duration of every answered request (a response the client abandoned is not one), with
 * one label set `{method, route, status}` shared by both.
 */
@Injectable()
export class HttpMetrics implements ResponseObserver {
  constructor(
    @InjectMetric(HTTP_DURATION) private readonly duration: Histogram<string>,
    @InjectMetric(HTTP_REQUESTS) private readonly requests: Counter<string>,
  ) {}

  responseClosed(req: Request, res: Response, startedAt: number): void {
    if (!res.writableFinished) return;
    const labels = { method: req.method, route: routeLabel(req), status: String(res.statusCode) };
    this.requests.inc(labels);
    this.duration.observe(labels, (performance.now() - startedAt) / 1000);
  }
}
