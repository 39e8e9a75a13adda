import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { AppConfig } from '../config/app-config';
import { REDACT_PATHS, REDACTED, serializeError, serializeRequest, serializeResponse } from './redaction';

function withDestination(
  options: PinoHttpOptions,
  destination: DestinationStream | undefined,
): PinoHttpOptions | [PinoHttpOptions, DestinationStream] {
  return destination ? [options, destination] : options;
}

const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/** JSON logs through pino; every line of a request carries its request id. */
@Module({})
export class LoggingModule {
  static forRoot(destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            pinoHttp: withDestination(
              {
                level: config.LOG_LEVEL,
                base: { service: 'conflux' },
                messageKey: 'msg',
                genReqId: (req) => req.id,
                customAttributeKeys: { reqId: 'request_id' },
                redact: { paths: REDACT_PATHS, censor: REDACTED },
                serializers: { req: serializeRequest, res: serializeResponse, err: serializeError },
                customLogLevel: (req, res, err) => {
                  if (err || res.statusCode >= 500) return 'error';
                  if (res.statusCode >= 400) return 'warn';
                  return QUIET_PATHS.has(req.url?.split('?')[0] ?? '') ? 'debug' : 'info';
                },
                // Request bodies are never logged.
                quietReqLogger: false,
              },
              destination,
            ),
          }),
        }),
      ],
    };
  }
}
