import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake remote forecasting worker on 127.0.0.1 speaking the /forecast contract (as a Toto or
 * Chronos server would): answers a flat forecast at `level`, with the requested quantiles.
 * Its behaviour is switchable: 'ok', 'fail' (500), 'hang' (never answers), 'malformed' (wrong
 * number of predictions), 'refuse' (400).
 */
export type ForecasterMode = 'ok' | 'fail' | 'hang' | 'malformed' | 'refuse';

export interface FakeForecaster {
  readonly baseUrl: string;
  /** Requests received (parsed bodies), in order. */
  readonly requests: { body: Record<string, unknown>; authorization?: string }[];
  /** Requests whose connection the client closed before an answer was sent. */
  readonly aborted: number;
  mode: ForecasterMode;
  level: number;
  close(): Promise<void>;
}

export async function startFakeForecaster(): Promise<FakeForecaster> {
  const sockets = new Set<Socket>();
  const state = {
    requests: [] as { body: Record<string, unknown>; authorization?: string }[],
    aborted: 0,
    mode: 'ok' as ForecasterMode,
    level: 42,
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      state.requests.push({ body, authorization: req.headers.authorization });
      res.on('close', () => {
        if (!res.writableFinished) state.aborted += 1;
      });
      const horizon = Number(body.horizon);
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      switch (state.mode) {
        case 'hang':
          return;
        case 'fail':
          return send(500, { error: 'gpu on fire' });
        case 'refuse':
          return send(400, { error: 'bad series' });
        case 'malformed':
          return send(200, { engine: 'toto', predictions: [1] });
        case 'ok': {
          const quantiles: Record<string, number[]> = {};
          for (const q of (body.quantiles as number[]) ?? [])
            quantiles[String(q)] = Array(horizon).fill(state.level + (q - 0.5));
          const series = body.series as number[];
          return send(200, {
            engine: 'toto',
            model: 'toto-open-base-1.0',
            horizon,
            predictions: Array(horizon).fill(state.level),
            lastValue: series[series.length - 1],
            quantiles,
          });
        }
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get aborted() {
      return state.aborted;
    },
    get mode() {
      return state.mode;
    },
    set mode(mode: ForecasterMode) {
      state.mode = mode;
    },
    get level() {
      return state.level;
    },
    set level(level: number) {
      state.level = level;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
