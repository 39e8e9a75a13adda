import type { RequestHandler } from 'express';
import pino, { DestinationStream, Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { AppConfig } from '../config/app-config';
import { REDACT_PATHS, REDACTED, serializeError, serializeRequest, serializeResponse } from './redaction';

const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * The process logger and the request-logging middleware built on it. The middleware
 * is mounted first in the app (before body parsing), so that even requests refused
 * by the body parser leave a line with their request id.
 */
export class HttpLogger {
  readonly logger: Logger;
  readonly middleware: RequestHandler;

  constructor(config: AppConfig, destination?: DestinationStream) {
    const options: pino.LoggerOptions = {
      level: config.LOG_LEVEL,
      base: { service: 'conflux' },
      messageKey: 'msg',
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: serializeError },
    };
    this.logger = destination ? pino(options, destination) : pino(options);
    this.middleware = pinoHttp({
      logger: this.logger,
      genReqId: (req) => req.id,
      // Request-scoped loggers carry only the request id (serialising the whole request for
      // every request's child logger cost ~75 µs); the completion line still logs it in full.
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'request_id' },
      serializers: { req: serializeRequest, res: serializeResponse, err: serializeError },
      customLogLevel: (req, res, err) => {
        if (err || res.statusCode >= 500) return 'error';
        if (res.statusCode >= 400) return 'warn';
        return QUIET_PATHS.has(req.url?.split('?')[0] ?? '') ? 'debug' : 'info';
      },
    });
  }
}
