import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';
import { HttpLogger } from './http-logger.service';

/**
 * JSON logs through pino. nestjs-pino binds each request's logger (made by our own
 * pino-http middleware, see HttpLogger) so every line of a request carries its id.
 */
@Module({})
export class LoggingModule {
  static forRoot(destination?: DestinationStream): DynamicModule {
    const httpLoggerProvider = {
      provide: HttpLogger,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new HttpLogger(config, destination),
    };
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          providers: [httpLoggerProvider],
          inject: [HttpLogger],
          useFactory: (http: HttpLogger) => ({ pinoHttp: { logger: http.logger }, useExisting: true }),
        }),
      ],
      providers: [httpLoggerProvider],
      exports: [HttpLogger],
    };
  }
}
