// The fake OpenAI-compatible upstream that the gateway benchmarks run in a child process: pre-rendered
// bodies, long keep-alive, its port reported to the parent over IPC. Loopback only.
import { createServer } from 'node:http';

const json = (value) => Buffer.from(JSON.stringify(value));

/** The body of a chat.completion of `model` with a fixed answer and `usage`. */
export function completionBody(model, usage) {
  return json({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_731_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello from the bench upstream.', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    system_fingerprint: 'fp_bench',
  });
}

/** The body of GET /v1/models listing `model`. */
export function modelsBody(model) {
  return json({ object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'bench' }] });
}

/**
 * Serves `handle(req, res)` on a loopback port with a long keep-alive (neither undici nor autocannon
 * reconnects between runs), reports the port to the parent over IPC, and exits on SIGTERM or when
 * the parent dies.
 */
export function serveToParent(handle) {
  const server = createServer(handle);
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  process.on('disconnect', () => process.exit(0));
}
