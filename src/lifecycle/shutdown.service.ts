import type { Server } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/** Paths that do not count as in-flight work while draining (probes and scrapes). */
const UNTRACKED = /^\/(health|metrics)(\/|$|\?)/;

/**
 * Graceful shutdown. On SIGTERM readiness turns 503 at once while the server keeps
 * serving (load balancers need time to notice); once no request is in flight (after
 * SHUTDOWN_DELAY_MS at least, SHUTDOWN_DRAIN_TIMEOUT_MS at most) the listener closes
 * and the caller closes the application's connections.
 */
@Injectable()
export class ShutdownService {
  private readonly logger = new Logger(ShutdownService.name);
  private draining = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly config: AppConfig) {}

  get isDraining(): boolean {
    return this.draining;
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** Counts requests from arrival to the end of their response. */
  track(server: Server): void {
    server.on('request', (req: { url?: string }, res: { once(e: string, f: () => void): void }) => {
      if (UNTRACKED.test(req.url ?? '')) return;
      this.inFlight += 1;
      res.once('close', () => {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
    });
  }

  /** Flips readiness, waits for in-flight requests (bounded), then stops the listener. */
  async drain(server: Server): Promise<void> {
    this.draining = true;
    const started = Date.now();
    this.logger.log(`Shutting down: readiness is 503, ${this.inFlight} request(s) in flight`);
    const deadline = started + this.config.SHUTDOWN_DRAIN_TIMEOUT_MS;
    await sleep(Math.min(this.config.SHUTDOWN_DELAY_MS, this.config.SHUTDOWN_DRAIN_TIMEOUT_MS));
    const drained = await this.waitIdle(Math.max(0, deadline - Date.now()));
    if (!drained) this.logger.warn(`Drain timeout: ${this.inFlight} request(s) still in flight are cut`);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      if (!drained) server.closeAllConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
    this.logger.log(`Listener closed after ${Date.now() - started} ms`);
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
