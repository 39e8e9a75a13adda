import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake remote model worker (a GPU box) on 127.0.0.1 speaking both the Open Inference Protocol
 * (`POST /v2/models/:name/infer`) and the /predict contract. It always answers BUY with probability
 * `confidence` and expected return `expectedReturn`, values no local model produces, so a test can tell
 * who answered. Modes: 'ok', 'fail' (500), 'hang' (never answers), 'malformed' (an answer of the wrong
 * shape), 'refuse' (400).
 */
export type MlWorkerMode = 'ok' | 'fail' | 'hang' | 'malformed' | 'refuse';

export interface FakeMlWorkerRequest {
  path: string;
  body: Record<string, unknown>;
  authorization?: string;
}

export interface FakeMlWorker {
  readonly baseUrl: string;
  readonly requests: FakeMlWorkerRequest[];
  /** Requests whose connection the client closed before an answer was sent. */
  readonly aborted: number;
  mode: MlWorkerMode;
  confidence: number;
  expectedReturn: number;
  close(): Promise<void>;
}

export async function startFakeMlWorker(): Promise<FakeMlWorker> {
  const sockets = new Set<Socket>();
  const state = {
    requests: [] as FakeMlWorkerRequest[],
    aborted: 0,
    mode: 'ok' as MlWorkerMode,
    confidence: 0.97,
    expectedReturn: 0.5,
  };
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
      const path = req.url ?? '';
      state.requests.push({ path, body, authorization: req.headers.authorization });
      res.on('close', () => {
        if (!res.writableFinished) state.aborted += 1;
      });
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      const v2 = /^\/v2\/models\/([^/]+)\/infer$/.exec(path);
      if (!v2 && path !== '/predict') return send(404, { error: 'no such route' });
      switch (state.mode) {
        case 'hang':
          return;
        case 'fail':
          return send(500, { error: 'gpu on fire' });
        case 'refuse':
          return send(400, { error: 'bad request' });
        case 'malformed':
          return send(
            200,
            v2
              ? { outputs: [{ name: 'probabilities', shape: [1, 3], datatype: 'FP32', data: [1] }] }
              : { prediction: {} },
          );
        case 'ok': {
          const rest = (1 - state.confidence) / 2;
          if (!v2) {
            return send(200, {
              prediction: { direction: 'BUY', confidence: state.confidence, expected_return: state.expectedReturn },
            });
          }
          const inputs = body.inputs as { shape: number[] }[] | undefined;
          const rows = inputs?.[0]?.shape?.[0] ?? 1;
          return send(200, {
            model_name: decodeURIComponent(v2[1]),
            model_version: 'gpu',
            id: body.id,
            outputs: [
              {
                name: 'probabilities',
                shape: [rows, 3],
                datatype: 'FP32',
                data: Array.from({ length: rows }, () => [rest, rest, state.confidence]).flat(),
              },
              {
                name: 'expected_return',
                shape: [rows, 1],
                datatype: 'FP32',
                data: Array(rows).fill(state.expectedReturn),
              },
            ],
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
    set mode(mode: MlWorkerMode) {
      state.mode = mode;
    },
    get confidence() {
      return state.confidence;
    },
    set confidence(value: number) {
      state.confidence = value;
    },
    get expectedReturn() {
      return state.expectedReturn;
    },
    set expectedReturn(value: number) {
      state.expectedReturn = value;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
