import express from 'express';
import type { Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { sendStream, type Served, type SseFrame } from '../../src/llm/reply';
import type { Candidate } from '../../src/routing/routing.api';

const SERVED: Served = { candidate: { instanceId: 'fake', model: { name: 'm' } } as Candidate, attempts: 1 };
const DEADLINE_MS = 500;

/** A client that stops reading an SSE answer: the answer must not wait for it past the stream's deadline. */
describe('sendStream and a client that stops reading', () => {
  let server: Server;
  let port: number;
  let client: Socket | undefined;
  type Outcome = { destroyed: boolean; framesClosed: boolean; sent: number };
  let answered!: (outcome: Promise<Outcome>) => void;
  const outcome = new Promise<Outcome>((resolve) => (answered = resolve));

  beforeAll(async () => {
    const app = express();
    app.get('/stream', (_req, res) => {
      let framesClosed = false;
      let sent = 0;
      // Frames without end: 64 KiB each, as fast as the socket takes them.
      async function* frames(): AsyncGenerator<SseFrame> {
        try {
          for (;;) {
            sent++;
            yield await Promise.resolve({ data: 'x'.repeat(64 * 1024) });
          }
        } finally {
          framesClosed = true;
        }
      }
      answered(
        sendStream(res, SERVED, frames(), Date.now() + DEADLINE_MS).then(() => ({
          destroyed: res.destroyed,
          framesClosed,
          sent,
        })),
      );
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    client?.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is cut once its deadline (plus a grace) passed, and its frames are closed', async () => {
    client = connect(port, '127.0.0.1');
    await new Promise((resolve) => client!.once('connect', resolve));
    client.write('GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n');
    client.pause(); // never reads: the server's writes back up
    const result = await Promise.race([
      outcome,
      new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), DEADLINE_MS + 10_000)),
    ]);
    expect(result).toMatchObject({ destroyed: true, framesClosed: true });
    // Frames were written until the unread buffers filled up.
    expect((result as { sent: number }).sent).toBeGreaterThan(1);
  });
});
