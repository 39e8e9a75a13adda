import type { LoggerService, OnApplicationShutdown } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/** The pino loggers of the apps alive in this process, latest last. */
const live: Logger[] = [];

/**
 * Nest's LoggerService over pino: `this.logger.warn('text')` and
 * `this.logger.error({ err, request_id }, 'text')` in any module become one JSON line
 * with the class name as `context`.
 *
 * Nest's Logger is process-wide. With several apps in one process (tests), lines go to
 * the latest app still alive: an app that closes hands the process logger back to the
 * one started before it.
 */
export class NestPinoLogger implements LoggerService, OnApplicationShutdown {
  constructor(private readonly own: Logger) {
    live.push(own);
  }

  onApplicationShutdown(): void {
    const i = live.lastIndexOf(this.own);
    if (i >= 0) live.splice(i, 1);
  }

  private get logger(): Logger {
    return live[live.length - 1] ?? this.own;
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.call('trace', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.call('debug', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.call('info', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.call('warn', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.call('error', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.call('fatal', message, params);
  }

  /** Nest appends the context (the class name) as the last parameter. */
  private call(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    let rest = params;
    if (params.length > 0) {
      fields.context = params[params.length - 1];
      rest = params.slice(0, -1);
    }
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, ...(rest as []));
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level](Object.assign(fields, message), ...(rest as []));
    } else if (level === 'error' && rest.length === 1 && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's own exception handlers call error(message, stack).
      const err = new Error(String(message));
      err.stack = rest[0];
      fields.err = err;
      this.logger[level](fields);
    } else {
      this.logger[level](fields, String(message), ...(rest as []));
    }
  }
}
