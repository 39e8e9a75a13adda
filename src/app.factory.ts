import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { expressErrorHandler } from './common/errors/all-exceptions.filter';
import { jsonBodyParser } from './common/http/body-parser';
import { ConfluxExpressAdapter } from './common/http/express-adapter';
import { requestFront } from './common/http/request-front';
import { requestIdAlsoAs } from './common/http/request-id';
import { securityHeaders } from './common/http/security-headers';
import { createValidationPipe } from './common/http/validation';
import { COMPAT_OWN_BODY_PATHS } from './compat/compat.module';
import { setupConsole } from './console/console';
import { AppConfig } from './config/app-config';
import { ShutdownService } from './lifecycle/shutdown.service';
import { HttpLogger } from './logging/http-logger.service';
import { NestPinoLogger } from './logging/nest-logger.service';
import { HttpMetrics } from './metrics/http-metrics.service';
import { RedisService } from './redis/redis.service';
import { setupSwagger } from './swagger';

export interface CreateAppOptions {
  databaseUrl: string;
  logDestination?: DestinationStream;
}

function trustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function corsOrigins(value: string): string[] | boolean {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) return false;
  return list.includes('*') ? true : list;
}

/** Builds the whole application (not yet listening): used by main.ts and by the tests. */
export async function createApp(config: AppConfig, options: CreateAppOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ config, databaseUrl: options.databaseUrl, logDestination: options.logDestination }),
    new ConfluxExpressAdapter(),
    { bodyParser: false, bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(NestPinoLogger));
  app.set('trust proxy', trustProxy(config.TRUST_PROXY));
  app.disable('x-powered-by');
  // Answers are API JSON, not cacheable pages: hashing every body for an ETag is wasted work.
  app.set('etag', false);
  // Request id, security headers, access log and HTTP metrics in one middleware; the security headers
  // do not depend on the request, so they are computed once (the documentation pages replace the CSP).
  app.use(requestFront([app.get(HttpLogger), app.get(HttpMetrics)], securityHeaders()));
  // Anthropic's API names its request id `request-id`, where its SDKs read it (answers and errors alike).
  app.use('/v1/messages', requestIdAlsoAs('request-id'));
  const origins = corsOrigins(config.CORS_ORIGINS);
  if (origins !== false) {
    app.enableCors({ origin: origins, exposedHeaders: ['X-Request-Id', 'Request-Id', 'Retry-After'], maxAge: 600 });
  }
  app.use(jsonBodyParser(config.BODY_LIMIT_BYTES, { ownBodyPaths: COMPAT_OWN_BODY_PATHS }));
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app);
  setupConsole(app);
  await app.init();
  app.use(expressErrorHandler);
  app.get(ShutdownService).track(app.getHttpServer());
  await app.get(RedisService).waitUntilReady();
  return app;
}
