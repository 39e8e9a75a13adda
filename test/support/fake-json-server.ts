import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Behaviours every fake worker can switch to: 'ok' and 'malformed' are the worker's own answers. */
export type FakeWorkerMode = 'ok' | 'fail' | 'hang' | 'malformed' | 'refuse';

export interface FakeJsonRequest {
  path: string;
  body: Record<string, unknown>;
  authorization?: string;
  /** The W3C trace context the caller sent, if any. */
  traceparent?: string;
}

export type JsonReply = (status: number, payload: unknown) => void;

export interface FakeJsonServer {
  readonly baseUrl: string;
  /** Requests received (parsed bodies; `{}` when a body is not JSON), in order. */
  readonly requests: FakeJsonRequest[];
  /** Requests whose connection the client closed before an answer was sent. */
  readonly aborted: number;
  mode: FakeWorkerMode;
  close(): Promise<void>;
}

/**
 * A JSON HTTP server on 127.0.0.1 for fake remote workers. It records every request and, by `mode`,
 * answers 500 ('fail'), 400 ('refuse') or nothing at all ('hang'); in 'ok' and 'malformed' it hands the
 * request to `answer`, which speaks the worker's own contract.
 */
export async function startFakeJsonServer(
  answer: (request: FakeJsonRequest, mode: 'ok' | 'malformed', reply: JsonReply) => void,
): Promise<FakeJsonServer> {
  const sockets = new Set<Socket>();
  const state = { requests: [] as FakeJsonRequest[], aborted: 0, mode: 'ok' as FakeWorkerMode };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        // Kept empty: the test asserts on what it sent.
      }
      const request: FakeJsonRequest = {
        path: req.url ?? '',
        body,
        authorization: req.headers.authorization,
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
      };
      state.requests.push(request);
      res.on('close', () => {
        if (!res.writableFinished) state.aborted += 1;
      });
      const reply: JsonReply = (status, payload) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      switch (state.mode) {
        case 'hang':
          return;
        case 'fail':
          return reply(500, { error: 'gpu on fire' });
        case 'refuse':
          return reply(400, { error: 'bad request' });
        case 'ok':
        case 'malformed':
          return answer(request, state.mode, reply);
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
    set mode(mode: FakeWorkerMode) {
      state.mode = mode;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
