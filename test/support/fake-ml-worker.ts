import {
  startFakeJsonServer,
  type FakeJsonRequest,
  type FakeJsonServer,
  type FakeWorkerMode,
} from './fake-json-server';

/**
 * A fake remote model worker (a GPU box) on 127.0.0.1 speaking both the Open Inference Protocol
 * (`POST /v2/models/:name/infer`) and the /predict contract. It always answers BUY with probability
 * `confidence` and expected return `expectedReturn`, values no local model produces, so a test can tell
 * who answered. Modes: 'ok', 'fail' (500), 'hang' (never answers), 'malformed' (an answer of the wrong
 * shape), 'refuse' (400).
 */
export type MlWorkerMode = FakeWorkerMode;

export type FakeMlWorkerRequest = FakeJsonRequest;

export interface FakeMlWorker extends FakeJsonServer {
  confidence: number;
  expectedReturn: number;
}

export async function startFakeMlWorker(): Promise<FakeMlWorker> {
  const knobs = { confidence: 0.97, expectedReturn: 0.5 };
  const server = await startFakeJsonServer(({ path, body }, mode, reply) => {
    const v2 = /^\/v2\/models\/([^/]+)\/infer$/.exec(path);
    if (!v2 && path !== '/predict') return reply(404, { error: 'no such route' });
    if (mode === 'malformed') {
      return reply(
        200,
        v2 ? { outputs: [{ name: 'probabilities', shape: [1, 3], datatype: 'FP32', data: [1] }] } : { prediction: {} },
      );
    }
    if (!v2) {
      return reply(200, {
        prediction: { direction: 'BUY', confidence: knobs.confidence, expected_return: knobs.expectedReturn },
      });
    }
    const rest = (1 - knobs.confidence) / 2;
    const inputs = body.inputs as { shape: number[] }[] | undefined;
    const rows = inputs?.[0]?.shape?.[0] ?? 1;
    reply(200, {
      model_name: decodeURIComponent(v2[1]),
      model_version: 'gpu',
      id: body.id,
      outputs: [
        {
          name: 'probabilities',
          shape: [rows, 3],
          datatype: 'FP32',
          data: Array.from({ length: rows }, () => [rest, rest, knobs.confidence]).flat(),
        },
        {
          name: 'expected_return',
          shape: [rows, 1],
          datatype: 'FP32',
          data: Array(rows).fill(knobs.expectedReturn),
        },
      ],
    });
  });
  for (const key of ['confidence', 'expectedReturn'] as const) {
    Object.defineProperty(server, key, {
      get: () => knobs[key],
      set: (value: number) => (knobs[key] = value),
      enumerable: true,
    });
  }
  return server as FakeMlWorker;
}
