// First: the instrumentations patch modules before the application requires them.
import { tracing } from './tracing';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { StartupServer } from './common/http/startup-server';
import { RoutingService } from './routing/routing.service';

async function bootstrap(config: AppConfig): Promise<void> {
  // Live (and 503 elsewhere) while starting: waiting for Postgres may take as long as its outage.
  const starting = config.PORT === 0 ? null : await StartupServer.listen(config.PORT, config.HOST);
  // The application's modules load only once the configuration holds: a bad one exits at once.
  const [{ createApp }, { EmbeddedPostgres }, { ShutdownService }] = await Promise.all([
    import('./app.factory'),
    import('./database/embedded-postgres'),
    import('./lifecycle/shutdown.service'),
  ]);
  const embedded = config.DATABASE_URL ? undefined : await EmbeddedPostgres.start(config.DATA_DIR);
  const databaseUrl = config.DATABASE_URL ?? embedded?.url ?? '';
  const app = await createApp(config, { databaseUrl });
  await starting?.close();
  const logger = new Logger('Conflux');
  if (embedded) logger.warn(`No DATABASE_URL: using the embedded database in ${embedded.directory}`);
  await app.listen(config.PORT, config.HOST);
  const server = app.getHttpServer();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.log(
    `Listening on http://${config.HOST}:${port} — console at http://localhost:${port}/console/, Swagger UI at http://localhost:${port}/docs`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received`);
    void (async () => {
      try {
        await app.get(ShutdownService).drain(server);
        await app.close();
        await embedded?.stop();
        // The spans of the last requests leave before the process does.
        await tracing?.shutdown().catch((err: unknown) => logger.warn(`Flushing traces failed: ${String(err)}`));
        logger.log('Stopped cleanly');
        process.exit(0);
      } catch (err) {
        logger.error(err instanceof Error ? err.stack : String(err));
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function main(): void {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
    // The catalog is checked now, so that a bad PROVIDERS_FILE stops startup before anything starts.
    const problems = RoutingService.problems(config.gateway);
    if (problems.length > 0) throw new ConfigError(problems);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  bootstrap(config).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`Conflux failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

main();
