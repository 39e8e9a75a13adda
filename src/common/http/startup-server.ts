import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** The liveness routes answered while starting: Conflux's own, and the Production API's. */
const LIVE_ANSWERS: Record<string, { status: string }> = {
  '/health/live': { status: 'starting' },
  '/api/health/live': { status: 'alive' },
};

/**
 * Answers on the service port while the application is still starting (e.g. waiting for
 * Postgres, however long that takes): GET /health/live is 200 (`{"status": "starting"}`, and
 * /api/health/live `{"status": "alive"}`), so an orchestrator does not
 * kill a process that is only waiting; everything else, /health/ready included, is 503 with
 * the error envelope and Retry-After. Every answer closes its connection. Closed just before the
 * application listens.
 */
export class StartupServer {
  private constructor(private readonly server: Server) {}

  static async listen(port: number, host: string): Promise<StartupServer> {
    const server = createServer((req, res) => {
      const requestId = randomUUID();
      res.setHeader('X-Request-Id', requestId);
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      // No connection outlives its answer: a kept-alive one would be cut at the hand-over, under the
      // next request a client sends on it.
      res.setHeader('Connection', 'close');
      const path = (req.url ?? '/')
        .split('?')[0]
        .replace(/(.)\/$/, '$1')
        .toLowerCase();
      const live = req.method === 'GET' ? LIVE_ANSWERS[path] : undefined;
      if (live !== undefined) {
        res.end(JSON.stringify(live));
        return;
      }
      res.statusCode = 503;
      res.setHeader('Retry-After', '5');
      res.end(
        JSON.stringify({
          error: 'service_unavailable',
          message: 'Starting: waiting for the database; retry shortly',
          request_id: requestId,
        }),
      );
      req.resume();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new StartupServer(server);
  }

  /** Frees the port (open keep-alive connections are dropped). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
