import { DynamicModule, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';
import { HttpLogger } from './http-logger.service';
import { NestPinoLogger } from './nest-logger.service';

/** JSON logs through pino: the access log (HttpLogger) and Nest's logger, on one pino logger. */
@Module({})
export class LoggingModule {
  static forRoot(destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        {
          provide: HttpLogger,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => new HttpLogger(config, destination),
        },
        {
          provide: NestPinoLogger,
          inject: [HttpLogger],
          useFactory: (http: HttpLogger) => new NestPinoLogger(http.logger),
        },
      ],
      exports: [HttpLogger, NestPinoLogger],
    };
  }
}
