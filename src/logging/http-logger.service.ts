import type { Request, Response } from 'express';
import pino, { DestinationStream, Level, Logger } from 'pino';
import type { ResponseObserver } from '../common/http/request-front';
import { activeTraceFields, tracingOn } from '../common/tracing/tracing';
import type { AppConfig } from '../config/app-config';
import { REDACT_PATHS, REDACTED, serializeError, serializeRequest } from './redaction';

const QUIET_PATHS = new Set([
  '/health/live',
  '/health/ready',
  '/metrics',
  '/ready',
  '/api/health/live',
  '/api/health/ready',
]);

function levelFor(req: Request, res: Response): Level {
  if (res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400) return 'warn';
  return QUIET_PATHS.has(req.path) ? 'debug' : 'info';
}

/**
 * The process logger and the access log built on it. It observes the app's first
 * middleware (before body parsing), so that even requests refused by the body parser
 * leave a line with their request id.
 *
 * One line per request, written when the response closes: `request completed`, or
 * `request aborted` when the client went away first; 5xx at error, 4xx at warn,
 * probes and scrapes at debug. Nothing is built for a line below LOG_LEVEL, and no
 * per-request child logger is made: lines logged while serving a request name it with
 * an explicit `request_id`. With tracing on, every line written inside a trace also
 * carries its `trace_id` and `span_id` (a mixin reading the active span); off, lines are
 * unchanged and no mixin runs.
 */
export class HttpLogger implements ResponseObserver {
  readonly logger: Logger;

  constructor(config: AppConfig, destination?: DestinationStream) {
    const options: pino.LoggerOptions = {
      level: config.LOG_LEVEL,
      base: { service: 'conflux' },
      messageKey: 'msg',
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: serializeError },
      ...(tracingOn() ? { mixin: activeTraceFields } : {}),
    };
    this.logger = destination ? pino(options, destination) : pino(options);
  }

  responseClosed(req: Request, res: Response, startedAt: number): void {
    const level = levelFor(req, res);
    if (!this.logger.isLevelEnabled(level)) return;
    this.logger[level](
      {
        request_id: req.id,
        req: serializeRequest({
          id: req.id,
          method: req.method,
          url: req.originalUrl,
          headers: req.headers,
          remoteAddress: req.socket.remoteAddress,
        }),
        res: { statusCode: res.statusCode },
        responseTime: Math.round(performance.now() - startedAt),
      },
      res.writableFinished ? 'request completed' : 'request aborted',
    );
  }
}
